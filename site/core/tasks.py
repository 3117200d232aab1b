from celery import shared_task

from . import notifications
from .sms import SmsError


@shared_task(bind=True, acks_late=True, max_retries=notifications.MAX_ATTEMPTS - 1)
def deliver(self, delivery_id: int) -> None:
    delivery = notifications.claim_delivery(delivery_id)
    if delivery is None:
        return
    try:
        notifications.send_delivery(delivery)
    except (SmsError, OSError) as exc:
        if delivery.attempts >= notifications.MAX_ATTEMPTS:
            return  # given up: the row stays failed for staff to see
        if not self.request.is_eager:
            # The same back-off the row's not_before carries, so the retry is due when it arrives; if
            # the retry is lost, the minute sweep (send_due_deliveries) sends it.
            countdown = notifications.backoff(delivery.attempts).total_seconds()
            raise self.retry(exc=exc, countdown=countdown) from exc


def queue_delivery(sender, *, delivery_id: int, **kwargs) -> None:
    """core.signals.delivery_due → deliver, once the notifying transaction has committed."""
    deliver.delay_on_commit(delivery_id)


@shared_task
def redeliver_pending_notifications() -> int:
    """Every 5 minutes: deliveries whose task was lost or whose worker died."""
    ids = list(notifications.stuck_deliveries())
    for pk in ids:
        deliver.delay(pk)
    return len(ids)


@shared_task
def send_due_deliveries() -> int:
    """Every minute: deliveries held for quiet hours or a retry back-off whose time has come."""
    ids = list(notifications.due_deliveries())
    for pk in ids:
        deliver.delay(pk)
    return len(ids)


@shared_task(acks_late=True)
def send_daily_digests() -> int:
    """Daily (20:00): one digest per person who takes one; running it twice sends nothing twice."""
    return notifications.do_send_digests()
