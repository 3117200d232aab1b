"""The foundation's records: the base of every event row, and the notification service's own rows (an
in-site inbox message, its deliveries by SMS and email, and what each person wants delivered)."""

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EventRow(models.Model):
    """One change of something, as a row: who made it (`actor`), when (`at`) and why (`reason`).

    Histories are these rows, oldest first, never an overwritten field. A concrete event adds the object
    it is about (a foreign key with related_name="events") and what happened to it (a `status` or a
    `kind`); it redeclares `actor` or `reason` where its rule differs (PROTECT for money-like records, a
    longer reason). Abstract: each table stays its own, with its own columns.
    """

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self) -> str:
        # "<subject id>: <what happened>"; the subject is the foreign key whose related_name is "events".
        subject = next(
            field
            for field in self._meta.fields
            if field.many_to_one and field.remote_field.related_name == "events"
        )
        happened = self.status if hasattr(self, "status") else self.kind
        return f"{subject.value_from_object(self)}: {happened}"


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications")
    category = models.CharField(_("category"), max_length=40)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # The caller's de-duplication key (e.g. "identity-verified:42"): the same event notifies once.
    key = models.CharField(max_length=150, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Time-critical (e.g. a task starting within hours was cancelled): sent even in quiet hours and
    # never held for a digest. The caller decides; see notify().
    urgent = models.BooleanField(default=False)
    # The person takes this category as a daily digest: no SMS/email of its own, it waits for the digest.
    in_digest = models.BooleanField(default=False)
    # When a digest took it up (or found it already read); set once, so no message is summarised twice.
    digested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            # The digest sweep reads only the few rows still waiting for a digest.
            models.Index(
                fields=["recipient", "created_at"],
                name="notification_digest_due",
                condition=Q(in_digest=True, digested_at__isnull=True),
            ),
        ]

    def __str__(self):
        return self.title


class Delivery(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    notification = models.ForeignKey(Notification, models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Not to be sent before this moment: the end of the person's quiet hours, or the back-off after a
    # failed attempt. The beat sweep sends what is due, so a restarted worker loses nothing.
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="one_delivery_per_channel")
        ]
        indexes = [
            models.Index(
                fields=["not_before"],
                name="delivery_waiting",
                condition=Q(status__in=["pending", "failed"]),
            )
        ]

    def __str__(self):
        return f"{self.notification_id}/{self.channel}"


class NotificationSettings(models.Model):
    """A person's quiet hours (local time, Asia/Shanghai). No row: the defaults below apply."""

    DEFAULT_QUIET_START = time(22, 0)
    DEFAULT_QUIET_END = time(7, 0)

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, primary_key=True, related_name="notification_settings"
    )
    quiet_hours = models.BooleanField(_("quiet hours"), default=True)
    quiet_start = models.TimeField(_("quiet from"), default=DEFAULT_QUIET_START)
    quiet_end = models.TimeField(_("quiet until"), default=DEFAULT_QUIET_END)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")
        constraints = [
            # An empty window (start == end) would mean "quiet all day" to one reader and "never" to
            # another; the form refuses it and so does the database.
            models.CheckConstraint(
                condition=~Q(quiet_start=models.F("quiet_end")), name="quiet_hours_not_empty"
            )
        ]

    def __str__(self):
        return str(self.person)


class CategoryPreference(models.Model):
    """What a person wants for one category of notification. No row: SMS and email on, no digest.

    The inbox always gets the message; these choose the extra channels. The person's account-wide
    switches (User.notify_sms / notify_email) still gate each channel, so turning SMS off there turns
    it off for every category at once.
    """

    person = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="category_preferences")
    category = models.CharField(_("category"), max_length=40)
    sms = models.BooleanField(_("SMS"), default=True)
    email = models.BooleanField(_("email"), default=True)
    digest = models.BooleanField(_("daily digest"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["person", "category"], name="one_preference_per_category")
        ]

    def __str__(self):
        return f"{self.person} / {self.category}"
