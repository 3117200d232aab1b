"""A real Celery worker, in its own process, delivers a notification queued through Redis.

The eager mode the other tests use runs tasks in-process; this proves the production path: the
message goes through the broker, a separate worker process picks it up, reads the delivery from a
database both processes share (PostgreSQL, the test database pytest-django created) and sends it.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from core import notifications
from core.models import Delivery
from core.tasks import deliver
from tests.factories import UserFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/15"
WAIT_SECONDS = 60  # the worker's start-up (Django, Wagtail) is part of it


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=2):
            return True
    except OSError:
        return False


def _test_database_url() -> str:
    db = connection.settings_dict  # by now NAME is the test database, e.g. test_gongzhi
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def broker():
    """Send tasks through Redis from this process too (the test settings make them eager)."""
    if not _reachable(BROKER_URL):
        pytest.skip(f"needs Redis: no broker answers at {BROKER_URL}")
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=BROKER_URL, task_always_eager=False)
    celery_app.control.purge()  # nothing left over from an earlier run
    yield celery_app
    celery_app.conf.update(saved)
    celery_app.close()


@pytest.fixture
def worker(broker, transactional_db, tmp_path):
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.worker_test",
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": BROKER_URL,
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--hostname", f"gongzhi-test-{os.getpid()}@%h",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=Path(settings.BASE_DIR), env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process, log
    finally:
        # Stop it before pytest-django empties (and later drops) the database it is connected to.
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_a_real_worker_sends_a_queued_delivery(worker):
    process, log = worker
    person = UserFactory(notify_sms=True, notify_email=False)
    # notify() commits here (no transaction around it in a transactional test) and queues the task
    # through the broker; the worker must pick it up from Redis.
    notification = notifications.notify(
        recipient=person, category="task", title="夜间巡查提醒", body="今晚 20:00 集合", key="worker-test:1"
    )
    delivery = Delivery.objects.get(notification=notification)
    deliver.delay(delivery.pk)  # a second message for the same delivery must not send twice

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.status == Delivery.Status.SENT or process.poll() is not None:
            break
        time.sleep(0.5)
    output = log.read_text(errors="replace")
    assert process.poll() is None, f"the worker exited early:\n{output}"
    assert delivery.status == Delivery.Status.SENT, f"not sent after {WAIT_SECONDS} s:\n{output}"
    assert delivery.attempts == 1

    # The worker's ConsoleBackend printed the SMS; wait for the second task, then count the sends.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and output.count("succeeded") < 2:
        time.sleep(0.5)
        output = log.read_text(errors="replace")
    assert output.count("succeeded") == 2, output
    assert output.count(f"[SMS to {person.phone}]") == 1, output
    assert "夜间巡查提醒" in output
