"""Periodic redemption and expiry work (schedule in config/celery.py). Thin calls of idempotent services:
a task delivered twice (acks_late) or two overlapping beat ticks change nothing the second time."""

from celery import shared_task
from django.db import OperationalError

from points.services import expiry

from . import services

# A lost database connection or a deadlock is worth another try; a bug is not.
_RETRYING = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 3}


@shared_task(**_RETRYING)
def expire_redemptions() -> int:
    """Every five minutes: uncollected redemptions past their deadline expire; stock and points return."""
    return services.expire_due()


@shared_task(**_RETRYING)
def expire_points() -> int:
    """Daily: unspent points of the expiring year expire (only if POINTS_EXPIRY_ENABLED)."""
    return expiry.expire_points()
