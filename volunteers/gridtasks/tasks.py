"""Periodic grid-task work (schedule in config/celery.py). Each task is a thin call of a service that is
idempotent, so a task delivered twice (acks_late: a worker that dies mid-task leaves it in the queue)
or two beat ticks that overlap change nothing the second time."""

from datetime import timedelta

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from . import services
from .models import GridTask, SignUp

# A lost database connection or a deadlock is worth another try; a bug is not.
_RETRYING = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 3}


@shared_task(**_RETRYING)
def expire_offers() -> int:
    """Every minute: waitlist offers not confirmed in time move on to the next person."""
    return services.expire_offers()


@shared_task(**_RETRYING)
def send_reminders() -> int:
    """Every five minutes: the day-before and hour-before reminders (each goes out once: its key)."""
    return services.send_reminders()


@shared_task(**_RETRYING)
def finalise_task_attendance(task_id: int) -> int:
    """Close one ended task's attendance: no-shows, forgotten check-outs, verified minutes, points."""
    return services.finalise_task_attendance(task_id=task_id)


@shared_task(**_RETRYING)
def finalise_ended_tasks() -> int:
    """Every five minutes: queue the finalisation of each task that has ended, whose grace has passed
    and that still has confirmed sign-ups (finalising moves them on, so a finalised task drops out).
    The service checks the grace again, so a task queued early does nothing."""
    now = timezone.now()
    ended = (
        GridTask.objects.filter(
            status=GridTask.Status.PUBLISHED, ends_at__lte=now, signups__status=SignUp.Status.CONFIRMED
        )
        .values_list("pk", "ends_at", "checkin_grace_minutes")
        .distinct()
        .order_by("pk")
    )
    due = [pk for pk, ends_at, grace in ended if ends_at + timedelta(minutes=grace) <= now]
    for task_id in due:
        finalise_task_attendance.delay(task_id)
    return len(due)
