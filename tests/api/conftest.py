import pytest

from tests.api.support import AppClient, session_token_for
from tests.factories import UserFactory


@pytest.fixture
def person(db):
    return UserFactory(name="李四", phone="+8613912345678", email="lisi@example.org")


@pytest.fixture
def app(person):
    return AppClient(session_token_for(person))


@pytest.fixture
def anonymous_app():
    return AppClient()
