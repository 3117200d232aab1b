"""Periodic work of the ordering loop (schedule in config/celery.py). Each task is a thin call of a service
that is idempotent, so a task delivered twice (acks_late: a worker that dies mid-task leaves it in the
queue) or two beat ticks that overlap change nothing the second time."""

from celery import shared_task
from django.db import OperationalError

from . import services

# A lost database connection or a deadlock is worth another try; a bug is not.
_RETRYING = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 3}


@shared_task(**_RETRYING)
def escalate_stalled_orders() -> dict[str, int]:
    """Every ten minutes: remind whoever holds an order past its stage's deadline, tell community staff
    when it has stalled twice as long, close deliveries left unconfirmed. Each step is recorded on the
    order under its lock, so it is taken once however often this runs."""
    return services.escalate_stalled_orders()


@shared_task(**_RETRYING)
def plan_sessions() -> int:
    """Daily: keep two weeks of sessions ahead for every published session service (existing ones and
    their bookings are left alone)."""
    return services.plan_sessions()
