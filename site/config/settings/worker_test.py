"""The real Celery worker that tests/core/test_celery_worker.py starts: the test settings, except that
tasks come through the broker (CELERY_BROKER_URL) instead of running in-process, and SMS go to the
worker's stdout, which the test reads. DATABASE_URL names the test database the test process uses."""

from .test import *  # noqa: F403
from .test import env

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = False
SMS_BACKEND = "core.sms.ConsoleBackend"
