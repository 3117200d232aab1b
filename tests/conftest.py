import os
import shutil
import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from core.sms import LocmemBackend

CHROMIUM = "/usr/bin/chromium"


def _redis_reachable() -> bool:
    url = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL")
    if not url:
        return False
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=2):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config, items):
    """Skip, with a plain reason, what this machine cannot run (make test prints the reasons)."""
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    have_redis = _redis_reachable()
    have_chromium = shutil.which(CHROMIUM) is not None
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL: runs in the PostgreSQL pass (DATABASE_URL)")
            )
        if "redis" in item.keywords and not have_redis:
            item.add_marker(
                pytest.mark.skip(reason="needs Redis: runs in the PostgreSQL + Redis pass (REDIS_URL)")
            )
        if "browser" in item.keywords and not have_chromium:
            item.add_marker(pytest.mark.skip(reason=f"Chromium not installed at {CHROMIUM}"))


def pytest_sessionfinish(session, exitstatus):
    """In CI (GONGZHI_FORBID_SKIPS=1) a skipped test is a failure, so nothing silently goes untested.

    Tests that only make sense on the other database (marked postgres, skipped on SQLite) are expected
    to skip in the SQLite pass; CI checks they ran in the PostgreSQL pass.
    """
    if os.environ.get("GONGZHI_FORBID_SKIPS") != "1" or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    unexpected = []
    for report in reporter.stats.get("skipped", []):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if not on_postgres and ("needs PostgreSQL" in reason or "needs Redis" in reason):
            continue
        unexpected.append(f"{report.nodeid}: {reason}")
    if unexpected:
        reporter.write_line("Skips are not allowed in CI:", red=True)
        for line in unexpected:
            reporter.write_line(f"  {line}", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _clean_sms_outbox_and_cache():
    # Rate-limit counters and used TOTP codes live in the cache; each test starts without them.
    from django.core.cache import cache

    cache.clear()
    LocmemBackend.outbox.clear()
    yield
    LocmemBackend.outbox.clear()


@pytest.fixture
def sms_outbox():
    return LocmemBackend.outbox
