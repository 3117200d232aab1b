"""The one notification service every capability sends through.

`notify()` writes the inbox message and one delivery row per channel the person wants for that category,
inside the caller's transaction; the deliveries are handed to Celery only after that transaction
commits, so a rolled-back action never notifies. Delivery claims its row with a conditional UPDATE, so
two workers running the same task cannot both send, and passes a stable idempotency key to the provider.

What a person wants (see core.models.CategoryPreference / NotificationSettings):
- per category: SMS and/or email, or a daily digest instead of one message per event; the inbox always
  keeps the message, whatever the choice;
- quiet hours (22:00–07:00 Asia/Shanghai unless the person chose otherwise or switched them off): an SMS
  or email due then gets `not_before` = the end of the quiet period, and the beat sweep
  (`send_due_deliveries`, every minute) sends it then. Nothing waits in a broker's ETA queue, so a
  restarted worker or broker loses nothing.
- urgent notifications (`notify(urgent=True)`: the caller's call, for messages that are useless later —
  a cancelled task starting within hours, a waitlist place to confirm before a deadline, "in an hour"
  reminders) skip both the quiet hours and the digest.

A failed send is retried with exponential back-off (`not_before` again), up to MAX_ATTEMPTS; after that
the delivery stays `failed` with its last error, listed for staff in the back office.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .exceptions import GongzhiError, NotAllowed, NotFound
from .models import CategoryPreference, Delivery, Notification, NotificationSettings
from .scoping import scope_for
from .signals import delivery_due
from .sms import SmsError, send_sms

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Back-off after the n-th failed attempt: 1, 2, 4, 8 minutes… capped, so a provider outage of an hour
# is ridden out by the last attempts.
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
# A queued task that never ran (broker lost it) is picked up by the sweep after this long.
LOST_AFTER = timedelta(minutes=5)
DIGEST_CATEGORY = "digest"
DIGEST_TITLES = 3  # titles quoted in the digest's text (an SMS is short)

# Categories a person can choose for, in the order the settings page lists them. Apps add theirs with
# register_category() (one line in their AppConfig.ready); a category not registered still notifies,
# with the defaults (SMS and email as the person's account-wide switches say, no digest).
CATEGORIES: dict[str, object] = {}


def register_category(code: str, label) -> None:
    CATEGORIES.setdefault(code, label)


register_category("task", _("Grid tasks"))
register_category("notice", _("Notices"))
register_category("services", _("Service orders"))
register_category("points", _("Points and rewards"))
register_category("cases", _("Incidents and cases"))
register_category("identity", _("Identity verification"))
register_category("organisation", _("Organisations"))


# --- preferences -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """What the person wants for one category (before checking they have a number or an address)."""

    sms: bool = True
    email: bool = True
    digest: bool = False


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def until(self, at: datetime) -> datetime | None:
        """The end of the quiet period `at` falls in, or None if `at` is outside quiet hours."""
        tz = timezone.get_default_timezone()  # Asia/Shanghai: the people and their nights are there
        local = at.astimezone(tz)
        now = local.time()
        if self.start < self.end:  # e.g. 13:00–14:00
            inside, end_day = self.start <= now < self.end, local.date()
        elif now >= self.start:  # e.g. 22:00–07:00, before midnight
            inside, end_day = True, local.date() + timedelta(days=1)
        else:
            inside, end_day = now < self.end, local.date()
        if not inside:
            return None
        return datetime.combine(end_day, self.end, tzinfo=tz)


def default_quiet_hours() -> QuietHours | None:
    """The quiet hours of a person who never chose (settings.NOTIFICATION_QUIET_HOURS, None = none)."""
    value = getattr(settings, "NOTIFICATION_QUIET_HOURS", ("22:00", "07:00"))
    if not value:
        return None
    start, end = (time.fromisoformat(v) if isinstance(v, str) else v for v in value)
    return QuietHours(start, end)


def quiet_hours_of(person) -> QuietHours | None:
    row = NotificationSettings.objects.filter(person=person).first()
    if row is None:
        return default_quiet_hours()
    return QuietHours(row.quiet_start, row.quiet_end) if row.quiet_hours else None


def choices_of(person) -> dict[str, Choice]:
    """The person's choice for every registered category (defaults where they chose nothing)."""
    rows = {p.category: p for p in CategoryPreference.objects.filter(person=person)}
    result = {}
    for code in [*CATEGORIES, *(c for c in rows if c not in CATEGORIES)]:
        row = rows.get(code)
        result[code] = Choice(row.sms, row.email, row.digest) if row else Choice()
    return result


def choice_for(person, category: str) -> Choice:
    row = CategoryPreference.objects.filter(person=person, category=category).first()
    return Choice(row.sms, row.email, row.digest) if row else Choice()


def _channels(person, choice: Choice) -> list[str]:
    """Channels the person wants and can be reached on: the category's choice, the account-wide switch
    (User.notify_sms / notify_email) and a number or an address to send to."""
    channels = []
    if choice.sms and person.notify_sms and person.phone:
        channels.append(Delivery.Channel.SMS)
    if choice.email and person.notify_email and person.email:
        channels.append(Delivery.Channel.EMAIL)
    return channels


@transaction.atomic
def do_save_preferences(
    *,
    person,
    actor,
    categories: dict[str, Choice],
    quiet_hours: bool,
    quiet_start: time | None = None,
    quiet_end: time | None = None,
    notify_sms: bool | None = None,
    notify_email: bool | None = None,
) -> None:
    """Store the person's choices. Only the person changes their own preferences.

    Unknown categories are refused by the callers (form, API); the quiet window must not be empty
    (start == end) when quiet hours are on. Deliveries already deferred keep their time: the choice
    applies to what is sent from now on.
    """
    if actor.pk != person.pk:
        raise NotAllowed()
    defaults = default_quiet_hours() or QuietHours(
        NotificationSettings.DEFAULT_QUIET_START, NotificationSettings.DEFAULT_QUIET_END
    )
    quiet_start = quiet_start or defaults.start
    quiet_end = quiet_end or defaults.end
    if quiet_start == quiet_end:
        if quiet_hours:
            raise GongzhiError(
                _("Quiet hours must end at a different time than they start."), code="invalid", status=422
            )
        quiet_start, quiet_end = defaults.start, defaults.end  # off: keep a valid window for later
    NotificationSettings.objects.update_or_create(
        person=person,
        defaults={"quiet_hours": quiet_hours, "quiet_start": quiet_start, "quiet_end": quiet_end},
    )
    for code, choice in categories.items():
        CategoryPreference.objects.update_or_create(
            person=person,
            category=code,
            defaults={"sms": choice.sms, "email": choice.email, "digest": choice.digest},
        )
    changed = []
    if notify_sms is not None and notify_sms != person.notify_sms:
        person.notify_sms = notify_sms
        changed.append("notify_sms")
    if notify_email is not None and notify_email != person.notify_email:
        person.notify_email = notify_email
        changed.append("notify_email")
    if changed:
        person.save(update_fields=changed)


# --- sending ---------------------------------------------------------------------------------------
def notify(
    *,
    recipient,
    category: str,
    title: str,
    body: str = "",
    url: str = "",
    key: str,
    urgent: bool = False,
) -> Notification:
    """Create the inbox message for `recipient` (once per `key`) and queue SMS/email after commit,
    as the person's preferences for `category` say. `urgent`: see the module docstring."""
    title = str(title)
    # PostgreSQL refuses a value longer than the column; a long name in a title must not fail the action.
    max_title = Notification._meta.get_field("title").max_length
    if len(title) > max_title:
        title = title[: max_title - 1] + "…"
    reachable = (recipient.notify_sms and recipient.phone) or (recipient.notify_email and recipient.email)
    # Nobody to send to beyond the inbox: no need to read the person's choices.
    choice = choice_for(recipient, category) if reachable else Choice(sms=False, email=False)
    channels = _channels(recipient, choice)
    in_digest = bool(channels) and choice.digest and not urgent
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient,
                category=category,
                title=title,
                body=str(body),
                url=url,
                key=key,
                urgent=urgent,
                in_digest=in_digest,
            )
    except IntegrityError:
        return Notification.objects.get(key=key)
    if not in_digest:
        _create_deliveries(notification, channels)
    return notification


def _create_deliveries(notification: Notification, channels: list[str]) -> None:
    if not channels:
        return
    not_before = None
    if not notification.urgent:
        quiet = quiet_hours_of(notification.recipient)
        not_before = quiet.until(timezone.now()) if quiet else None
    for channel in channels:
        delivery = Delivery.objects.create(notification=notification, channel=channel, not_before=not_before)
        if not_before is None:
            delivery_due.send(sender=Delivery, delivery_id=delivery.pk)
        # else: the beat sweep sends it when the quiet hours end.


def _due(now) -> Q:
    return Q(not_before__isnull=True) | Q(not_before__lte=now)


def claim_delivery(delivery_id: int) -> Delivery | None:
    """Take a due pending or failed delivery for sending; None if another worker has it, it is done,
    or it is not due yet (quiet hours, back-off). In quiet hours that began after it was queued (a
    retry running late), it is put off to their end instead."""
    now = timezone.now()
    delivery = (
        Delivery.objects.select_related("notification__recipient")
        .filter(pk=delivery_id, status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED])
        .filter(_due(now), attempts__lt=MAX_ATTEMPTS)
        .first()
    )
    if delivery is None:
        return None
    if not delivery.notification.urgent:
        quiet = quiet_hours_of(delivery.notification.recipient)
        until = quiet.until(now) if quiet else None
        if until is not None:
            Delivery.objects.filter(pk=delivery_id, status=delivery.status).update(
                not_before=until, updated_at=now
            )
            return None
    claimed = (
        Delivery.objects.filter(
            pk=delivery_id,
            status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED],
            attempts__lt=MAX_ATTEMPTS,
        )
        .filter(_due(now))
        .update(status=Delivery.Status.SENDING, attempts=F("attempts") + 1, updated_at=now)
    )
    if not claimed:
        return None
    delivery.status, delivery.attempts, delivery.updated_at = (
        Delivery.Status.SENDING,
        delivery.attempts + 1,
        now,
    )
    return delivery


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def send_delivery(delivery: Delivery) -> None:
    """Send one claimed delivery. Raises SmsError/OSError on a transient failure (row marked failed,
    with the back-off in not_before; after MAX_ATTEMPTS it stays failed for staff to see)."""
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
        now = timezone.now()
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED,
            last_error=str(exc)[:300],
            updated_at=now,
            not_before=now + backoff(delivery.attempts),
        )
        if delivery.attempts >= MAX_ATTEMPTS:
            logger.warning("Delivery %s given up after %s attempts: %s", delivery.pk, delivery.attempts, exc)
        raise
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), last_error=""
    )


def stuck_deliveries():
    """Deliveries a worker lost (died while sending), whose task never ran, or that wait for a retry."""
    now = timezone.now()
    Delivery.objects.filter(
        status=Delivery.Status.SENDING, updated_at__lt=now - timedelta(minutes=15)
    ).update(status=Delivery.Status.FAILED, last_error="worker lost")
    return Delivery.objects.filter(
        status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED],
        attempts__lt=MAX_ATTEMPTS,
        not_before__isnull=True,
        updated_at__lt=now - LOST_AFTER,
    ).values_list("pk", flat=True)


def due_deliveries():
    """Deferred deliveries (quiet hours, back-off) whose time has come."""
    return Delivery.objects.filter(
        status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED],
        attempts__lt=MAX_ATTEMPTS,
        not_before__lte=timezone.now(),
    ).values_list("pk", flat=True)


def given_up():
    """Deliveries that failed for good: for the staff's list (the inbox message is kept regardless)."""
    return Delivery.objects.filter(status=Delivery.Status.FAILED, attempts__gte=MAX_ATTEMPTS)


def failed_for(actor):
    """Failed deliveries (still retrying or given up) to people the staff member `actor` may see,
    newest first, with what the list shows."""
    people = scope_for(actor).visible(get_user_model().objects.all())
    return (
        Delivery.objects.filter(status=Delivery.Status.FAILED)
        .filter(notification__recipient__in=people.values("pk"))
        .select_related("notification__recipient")
        .order_by("-updated_at", "-id")
    )


def do_retry_delivery(*, delivery_id: int, actor) -> Delivery:
    """Staff send a given-up delivery again (e.g. after the SMS provider is fixed): a fresh round of
    attempts, now. Only for deliveries to people in the actor's scope; anything else is NotFound."""
    with transaction.atomic():
        delivery = failed_for(actor).select_for_update(of=("self",)).filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound()
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.PENDING, attempts=0, not_before=None, updated_at=timezone.now()
        )
        logger.info("Delivery %s sent again by %s", delivery.pk, actor.pk)
        delivery_due.send(sender=Delivery, delivery_id=delivery.pk)
    return delivery


# --- the daily digest ------------------------------------------------------------------------------
def do_send_digests(*, now: datetime | None = None) -> int:
    """Send each person who takes a digest one message summarising their unread messages waiting for
    it; returns how many digests were written.

    Exactly once per person per local day: the digest is itself a notification whose key is
    "digest:<person>:<date>", unique in the database, so a second run (or two beat processes at once)
    finds the key taken and writes nothing — the loser's transaction rolls back, leaving the messages
    for tomorrow's digest. Messages already read by then are not repeated; they are only marked done.
    """
    now = now or timezone.now()
    day = timezone.localdate(now, timezone.get_default_timezone())
    waiting = Notification.objects.filter(in_digest=True, digested_at__isnull=True, created_at__lte=now)
    people = waiting.values_list("recipient", flat=True).distinct().order_by()
    written = 0
    for person_id in list(people):
        written += _digest_one(person_id=person_id, day=day, now=now)
    return written


def _digest_one(*, person_id: int, day, now) -> int:
    person = get_user_model().objects.filter(pk=person_id).first()
    if person is None:  # deleted since the list was read: their messages went with them
        return 0
    with transaction.atomic():
        items = list(
            Notification.objects.select_for_update()
            .filter(recipient=person, in_digest=True, digested_at__isnull=True, created_at__lte=now)
            .order_by("created_at", "id")
        )
        if not items:
            return 0
        unread = [n for n in items if n.read_at is None]
        choices = choices_of(person)
        channels = set()
        for n in unread:
            channels.update(_channels(person, choices.get(n.category, Choice())))
        digest = None
        if unread and channels:
            try:
                with transaction.atomic():
                    digest = Notification.objects.create(
                        recipient=person,
                        category=DIGEST_CATEGORY,
                        key=f"digest:{person.pk}:{day.isoformat()}",
                        # Already summarised messages are in the inbox; the digest itself adds no
                        # unread count.
                        read_at=now,
                        **_digest_text(unread),
                    )
            except IntegrityError:
                return 0  # today's digest exists: these wait for tomorrow's
        Notification.objects.filter(pk__in=[n.pk for n in items]).update(digested_at=now)
        if digest is not None:
            _create_deliveries(digest, [c for c in Delivery.Channel.values if c in channels])
    return 1 if digest is not None else 0


def _digest_text(unread: list[Notification]) -> dict:
    # The digest is written by the system, not in someone's request: the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        n = len(unread)
        title = ngettext("Today: %(n)d unread message", "Today: %(n)d unread messages", n) % {"n": n}
        titles = "；".join(m.title for m in unread[:DIGEST_TITLES])
        more = n - DIGEST_TITLES
        if more > 0:
            titles += ngettext(" and %(n)d more", " and %(n)d more", more) % {"n": more}
        return {"title": title[:120], "body": titles, "url": reverse("core:inbox")}


# --- the inbox -------------------------------------------------------------------------------------
def unread_count(person) -> int:
    return Notification.objects.filter(recipient=person, read_at__isnull=True).count()


def mark_read(*, person, notification_id: int | None = None) -> int:
    qs = Notification.objects.filter(recipient=person, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
