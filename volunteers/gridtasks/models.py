"""Grid tasks, sign-ups (with waitlist), scans (QR check-in/out, idempotent by nonce) and attendance."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from wagtail.search import index

from core.models import EventRow
from core.search import ChineseSearchField
from volunteers.models import DutyCategory, Grid, Organisation


def new_public_code() -> str:
    """The task's name in URLs and QR codes: random, so it reveals neither a database id nor a count."""
    return secrets.token_urlsafe(9)


class TaskSeries(models.Model):
    """A recurring task (e.g. night patrol in two shifts, every day for a month) and its occurrences."""

    title = models.CharField(_("title"), max_length=80)
    first_date = models.DateField(_("first day"))
    last_date = models.DateField(_("last day"))
    weekdays = models.JSONField(
        _("weekdays"), default=list, help_text=_("0 = Monday … 6 = Sunday; empty = every day")
    )
    shifts = models.JSONField(
        _("shifts"), default=list, help_text=_('e.g. [["19:00", "23:00"], ["23:00", "03:00"]]')
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("task series")
        verbose_name_plural = _("task series")

    def __str__(self):
        return self.title


class GridTask(index.Indexed, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    public_code = models.CharField(max_length=16, unique=True, default=new_public_code, editable=False)
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        DutyCategory, models.PROTECT, related_name="tasks", verbose_name=_("duty category")
    )
    grid = models.ForeignKey(Grid, models.PROTECT, related_name="tasks", verbose_name=_("grid"))
    organisation = models.ForeignKey(
        Organisation,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("organisation"),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="created_tasks")
    series = models.ForeignKey(TaskSeries, models.CASCADE, null=True, blank=True, related_name="tasks")

    place_name = models.CharField(_("place"), max_length=120)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    geofence_radius_m = models.PositiveIntegerField(
        _("geofence radius (m)"), null=True, blank=True, help_text=_("Empty: no location check.")
    )

    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("places"))
    signup_opens_at = models.DateTimeField(_("sign-up opens"), null=True, blank=True)
    signup_closes_at = models.DateTimeField(_("sign-up closes"), null=True, blank=True)
    cancel_cutoff_minutes = models.PositiveIntegerField(
        _("cancellation cut-off (minutes before start)"), default=120
    )
    eligible_identities = models.JSONField(
        _("who may sign up"), default=list, blank=True, help_text=_("Identity codes; empty: anyone")
    )
    home_grid_only = models.BooleanField(_("residents of this grid only"), default=False)
    points = models.PositiveIntegerField(_("points for full attendance"), default=0)
    notice = models.TextField(_("must-read notice"), blank=True)
    checkin_grace_minutes = models.PositiveIntegerField(_("check-in grace (minutes)"), default=30)
    min_presence_percent = models.PositiveSmallIntegerField(_("minimum presence (%)"), default=60)
    offer_minutes = models.PositiveIntegerField(_("time to confirm a waitlist place (minutes)"), default=120)

    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    # Places taken (confirmed + offered to the waitlist). Changed only under the task's row lock;
    # the database refuses more than capacity.
    taken = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("grid task")
        verbose_name_plural = _("grid tasks")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["status", "starts_at"]), models.Index(fields=["grid", "starts_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="task_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="task_capacity_positive"),
            models.CheckConstraint(condition=Q(taken__lte=F("capacity")), name="task_not_overbooked"),
            models.CheckConstraint(
                condition=Q(min_presence_percent__lte=100), name="task_min_presence_is_a_percentage"
            ),
        ]

    # Site search (core.search): the words of the title, description, place and duty, in Chinese.
    # Re-indexed by core.search's handler only when one of these changes, not on every status or
    # places update (search_auto_update = False turns Wagtail's every-save handler off).
    search_fields = [
        ChineseSearchField("title", boost=2),
        ChineseSearchField("description"),
        ChineseSearchField("place_name"),
        ChineseSearchField("category_name"),
        index.FilterField("id"),
    ]
    search_auto_update = False
    SEARCH_SOURCE_FIELDS = frozenset({"title", "description", "place_name", "category", "category_id"})

    def __str__(self):
        return self.title

    def category_name(self) -> str:
        return self.category.name

    @classmethod
    def get_indexed_objects(cls):
        return super().get_indexed_objects().select_related("category")

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.taken, 0)


class SignUp(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("On the waitlist")
        OFFERED = "offered", _("Place offered: confirm it")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Offer expired")
        NO_SHOW = "no_show", _("No-show")
        ATTENDED = "attended", _("Attended")

    LIVE = (Status.CONFIRMED, Status.WAITLISTED, Status.OFFERED)
    HOLDS_PLACE = (Status.CONFIRMED, Status.OFFERED)

    task = models.ForeignKey(GridTask, models.CASCADE, related_name="signups")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="signups")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    offered_until = models.DateTimeField(null=True, blank=True)
    notice_acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "person"],
                condition=Q(status__in=["confirmed", "waitlisted", "offered"]),
                name="one_live_signup_per_task",
            )
        ]
        indexes = [models.Index(fields=["task", "status", "created_at"])]

    def __str__(self):
        return f"{self.person} → {self.task}"


class SignUpEvent(EventRow):
    signup = models.ForeignKey(SignUp, models.CASCADE, related_name="events")
    status = models.CharField(max_length=12, choices=SignUp.Status.choices)


def new_personal_code() -> str:
    # 144 random bits in 24 characters. secrets.token_urlsafe() with no argument gives 43 characters,
    # which PostgreSQL refuses for this column.
    return secrets.token_urlsafe(18)


class PersonalCode(models.Model):
    """The random secret behind a person's personal QR code; rotating it voids every QR shown before."""

    person = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="personal_code")
    code = models.CharField(max_length=32, unique=True, default=new_personal_code)
    rotated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"personal code of person {self.person_id}"


class Attendance(models.Model):
    class Status(models.TextChoices):
        PRESENT = "present", _("Checked in")
        FINAL = "final", _("Final")
        FLAGGED = "flagged", _("Needs review")

    signup = models.OneToOneField(SignUp, models.CASCADE, related_name="attendance")
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    check_in_distance_m = models.PositiveIntegerField(null=True, blank=True)
    check_in_geofence_ok = models.BooleanField(null=True)
    auto_closed = models.BooleanField(default=False)
    verified_minutes = models.PositiveIntegerField(null=True, blank=True)
    counts = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PRESENT)
    finalised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_in_at__isnull=False),
                name="no_check_out_without_check_in",
            )
        ]

    def __str__(self) -> str:
        return f"attendance of sign-up {self.signup_id}: {self.status}"


class Scan(models.Model):
    """One check-in/out attempt that reached the server, stored with its answer so a replay of the same
    nonce gets the same answer (from another device, a double tap, or an offline batch uploaded twice)."""

    class Kind(models.TextChoices):
        IN = "in", _("Check-in")
        OUT = "out", _("Check-out")

    class Method(models.TextChoices):
        TASK_QR = "task_qr", _("Volunteer scanned the task's QR")
        PERSONAL_QR = "personal_qr", _("Organiser scanned the volunteer's QR")
        OFFLINE = "offline", _("Organiser's offline scan")
        CORRECTION = "correction", _("Staff correction")

    nonce = models.CharField(max_length=64, unique=True)
    task = models.ForeignKey(GridTask, models.CASCADE, related_name="scans")
    signup = models.ForeignKey(SignUp, models.CASCADE, null=True, blank=True, related_name="scans")
    kind = models.CharField(max_length=3, choices=Kind.choices)
    method = models.CharField(max_length=12, choices=Method.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    scanned_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    code = models.CharField(max_length=40)
    reason = models.CharField(max_length=200, blank=True)
    conflict = models.BooleanField(default=False)
    reviewed = models.BooleanField(default=False)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["task", "conflict"])]

    def __str__(self) -> str:
        return f"{self.kind} scan {self.nonce}"


class AttendanceCorrection(EventRow):
    """A staff correction of an attendance's times: always by someone, always with a reason."""

    attendance = models.ForeignKey(Attendance, models.CASCADE, related_name="corrections")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reason = models.CharField(max_length=200)
    before = models.JSONField()
    after = models.JSONField()

    def __str__(self) -> str:
        return f"correction of attendance {self.attendance_id}: {self.reason}"
