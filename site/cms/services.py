"""Operations on notices: reading receipts, acknowledgements and delivery through the notification service."""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import Notification
from core.notifications import notify

from . import exceptions, selectors
from .models import NoticePage, NoticeRead

logger = logging.getLogger(__name__)

# People notified per Celery task: a district-wide notice becomes many small tasks, each short enough to
# retry cheaply, instead of one that runs for minutes.
DELIVERY_BATCH = 200


def do_record_read(*, notice: NoticePage, actor) -> NoticeRead | None:
    """Record that `actor` opened the notice, if it targets them. Idempotent: the first opening counts;
    two tabs at once insert one row (the unique constraint, with the conflict ignored)."""
    if not selectors.is_targeted(person=actor, notice=notice):
        return None
    NoticeRead.objects.bulk_create(
        [NoticeRead(notice=notice, person=actor, read_at=timezone.now())], ignore_conflicts=True
    )
    return NoticeRead.objects.filter(notice=notice, person=actor).first()


def do_acknowledge(*, notice: NoticePage, actor) -> NoticeRead:
    """`actor` confirms they have read a must-read notice. Only people it targets may; repeating it keeps
    the first time (a conditional UPDATE, so two clicks at once record one time)."""
    if not notice.must_read:
        raise exceptions.NotMustRead()
    if not selectors.is_targeted(person=actor, notice=notice):
        raise exceptions.NotTargeted()
    now = timezone.now()
    with transaction.atomic():
        NoticeRead.objects.bulk_create(
            [NoticeRead(notice=notice, person=actor, read_at=now)], ignore_conflicts=True
        )
        NoticeRead.objects.filter(notice=notice, person=actor, acknowledged_at__isnull=True).update(
            acknowledged_at=now
        )
    return NoticeRead.objects.get(notice=notice, person=actor)


# --- delivery ------------------------------------------------------------------------------------------
def notification_key(notice_id: int, person_id: int) -> str:
    # Unique in core.Notification: whatever runs twice, a person gets a notice once.
    return f"{selectors.notice_key_prefix(notice_id)}{person_id}"


def is_deliverable(notice: NoticePage, now=None) -> bool:
    now = now or timezone.now()
    return notice.live and not (notice.expire_at and notice.expire_at <= now)


def delivery_batches(*, notice_id: int, size: int | None = None) -> list[tuple[int, int]]:
    """The notice's audience cut into (first id, last id) ranges of at most `size` people. Ranges, not
    lists of ids: a batch task re-reads its audience, so someone who has left is not notified."""
    size = size or DELIVERY_BATCH
    notice = NoticePage.objects.filter(pk=notice_id).first()
    if notice is None or not is_deliverable(notice):
        return []
    ids = list(selectors.audience(notice=notice).order_by("pk").values_list("pk", flat=True))
    return [(chunk[0], chunk[-1]) for chunk in (ids[i : i + size] for i in range(0, len(ids), size))]


def do_deliver_batch(*, notice_id: int, first_id: int, last_id: int) -> int:
    """Notify the people of the notice's audience with ids in [first_id, last_id] who have not been
    notified yet. Idempotent: the notification key is unique per notice and person, and notify() returns
    the existing message for a key it already has, so two workers on one batch notify each person once.
    Returns how many people were handed to notify() (those without a message when the batch started)."""
    notice = NoticePage.objects.filter(pk=notice_id).first()
    if notice is None or not is_deliverable(notice):
        return 0  # unpublished or expired meanwhile: nobody is sent a link to a page they cannot open
    people = list(selectors.audience(notice=notice).filter(pk__gte=first_id, pk__lte=last_id).order_by("pk"))
    keys = {notification_key(notice.pk, person.pk): person for person in people}
    done = set(Notification.objects.filter(key__in=keys).values_list("key", flat=True))
    title = (_("[Must read] %(title)s") if notice.must_read else _("Notice: %(title)s")) % {
        "title": notice.title
    }
    url = notice.url or ""  # None only without a Wagtail site; the inbox message is still worth having
    handed = 0
    for key, person in keys.items():
        if key in done:
            continue
        with transaction.atomic():
            notify(recipient=person, category="notice", title=title, body=notice.teaser, url=url, key=key)
        handed += 1
    logger.info("notice %s: %s people to notify (ids %s-%s)", notice.pk, handed, first_id, last_id)
    return handed
