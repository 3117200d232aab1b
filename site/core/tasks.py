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
        if not self.request.is_eager:
            raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc


@shared_task
def redeliver_pending_notifications() -> int:
    ids = list(notifications.stuck_deliveries())
    for pk in ids:
        deliver.delay(pk)
    return len(ids)
