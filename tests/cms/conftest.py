from tests.cms.support import world  # noqa: F401  (the fixture, for every test in this folder)
