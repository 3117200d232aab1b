"""The one notification service every capability sends through.

`notify()` writes the inbox message and one delivery row per channel the person wants, inside the
caller's transaction; the deliveries are handed to Celery only after that transaction commits, so a
rolled-back action never notifies. Delivery claims its row with a conditional UPDATE, so two workers
running the same task cannot both send, and passes a stable idempotency key to the provider.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import Delivery, Notification
from .sms import SmsError, send_sms

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def notify(*, recipient, category: str, title: str, body: str = "", url: str = "", key: str) -> Notification:
    """Create the inbox message for `recipient` (once per `key`) and queue SMS/email after commit."""
    from .tasks import deliver

    title = str(title)
    # PostgreSQL refuses a value longer than the column; a long name in a title must not fail the action.
    max_title = Notification._meta.get_field("title").max_length
    if len(title) > max_title:
        title = title[: max_title - 1] + "…"
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, category=category, title=title, body=str(body), url=url, key=key
            )
    except IntegrityError:
        return Notification.objects.get(key=key)
    channels = []
    if recipient.notify_sms and recipient.phone:
        channels.append(Delivery.Channel.SMS)
    if recipient.notify_email and recipient.email:
        channels.append(Delivery.Channel.EMAIL)
    for channel in channels:
        delivery = Delivery.objects.create(notification=notification, channel=channel)
        deliver.delay_on_commit(delivery.pk)
    return notification


def claim_delivery(delivery_id: int) -> Delivery | None:
    """Take a pending or failed delivery for sending; None if another worker has it or it is done."""
    claimed = Delivery.objects.filter(
        pk=delivery_id,
        status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED],
        attempts__lt=MAX_ATTEMPTS,
    ).update(status=Delivery.Status.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now())
    if not claimed:
        return None
    return Delivery.objects.select_related("notification__recipient").get(pk=delivery_id)


def send_delivery(delivery: Delivery) -> None:
    """Send one claimed delivery. Raises SmsError/OSError on a transient failure (row marked failed)."""
    notification = delivery.notification
    recipient = notification.recipient
    text = f"【共治】{notification.title}" + (f" {notification.body}" if notification.body else "")
    try:
        if delivery.channel == Delivery.Channel.SMS:
            send_sms(phone=recipient.phone, text=text, idempotency_key=f"notification-{delivery.pk}")
        else:
            link = f"\n{settings.SITE_URL}{notification.url}" if notification.url else ""
            send_mail(notification.title, f"{notification.body}{link}", None, [recipient.email])
    except (SmsError, OSError) as exc:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED, last_error=str(exc)[:300], updated_at=timezone.now()
        )
        raise
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SENT, sent_at=timezone.now())


def stuck_deliveries():
    """Deliveries a worker lost (died while sending) or that failed and wait for another try."""
    now = timezone.now()
    Delivery.objects.filter(
        status=Delivery.Status.SENDING, updated_at__lt=now - timedelta(minutes=15)
    ).update(status=Delivery.Status.FAILED, last_error="worker lost")
    return Delivery.objects.filter(
        status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED],
        attempts__lt=MAX_ATTEMPTS,
        updated_at__lt=now - timedelta(minutes=5),
    ).values_list("pk", flat=True)


def unread_count(person) -> int:
    return Notification.objects.filter(recipient=person, read_at__isnull=True).count()


def mark_read(*, person, notification_id: int | None = None) -> int:
    qs = Notification.objects.filter(recipient=person, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
