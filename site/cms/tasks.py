"""Delivering a notice that went live. Thin tasks that take ids and call idempotent services, so a task
delivered twice (acks_late: a worker that dies mid-task leaves it queued) notifies nobody twice."""

from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError
from django.utils import translation

from . import services

# A lost connection or a deadlock is worth another try; a bug is not.
_RETRYING = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(**_RETRYING)
def deliver_notice(notice_id: int) -> int:
    """Cut the notice's audience into batches and queue one task per batch; returns the number of batches."""
    batches = services.delivery_batches(notice_id=notice_id)
    for first_id, last_id in batches:
        deliver_notice_batch.delay(notice_id, first_id, last_id)
    return len(batches)


@shared_task(**_RETRYING)
def deliver_notice_batch(notice_id: int, first_id: int, last_id: int) -> int:
    # Messages are written in the site's language, whichever request or worker queued them.
    with translation.override(settings.LANGUAGE_CODE):
        return services.do_deliver_batch(notice_id=notice_id, first_id=first_id, last_id=last_id)


@shared_task(**_RETRYING)
def publish_scheduled_pages() -> None:
    """Every minute: Wagtail's scheduled publishing and unpublishing (go_live_at / expire_at). A notice it
    makes live is delivered through the page_published signal (receivers.py), as one published by hand."""
    call_command("publish_scheduled")
