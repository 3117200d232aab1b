"""The services catalogue and the ordering loop 点单 → 派单 → 接单 → 上菜 → 评单.

A Service is offered by an organisation (or by the service centre itself) to an area; it either runs
recurring Sessions with places (a dining point's lunch, an after-school class) or takes on-demand
requests. An Order is one resident's booking or request; every change of its status is an OrderEvent
row with the actor and the time, so the loop can be audited and measured.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.search import index

from core.models import EventRow
from core.search import ChineseSearchField
from volunteers.models import Community, Grid, Organisation, Street


def new_code() -> str:
    """A record's name in URLs and QR codes: random, so it reveals neither an id nor a count."""
    return secrets.token_urlsafe(9)


class ServiceCategory(models.Model):
    """A kind of service (elder dining, day care, …). Seeded as data; staff may add more."""

    slug = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")
        ordering = ["position", "slug"]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        if self.name_en and (translation.get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class SubsidyGroup(models.TextChoices):
    NONE = "", _("None")
    LOW_INCOME = "low_income", _("Minimum living allowance (低保)")
    EXTREME_HARDSHIP = "extreme_hardship", _("Extreme hardship support (特困)")
    LIVING_ALONE = "living_alone", _("Elderly living alone")
    DISABLED = "disabled", _("Person with a disability")
    VETERAN = "veteran", _("Entitled veteran or family")


class Beneficiary(models.Model):
    """What the services need to know about a resident: kept apart from the account, filled in by the
    resident or their grid worker. `card_code` is what the printed QR card signs; bumping
    `card_serial` makes every card printed before useless (a lost card)."""

    person = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="beneficiary")
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    subsidy_group = models.CharField(
        _("subsidy group"), max_length=20, choices=SubsidyGroup.choices, blank=True, default=""
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    dietary_notes = models.CharField(_("dietary notes"), max_length=200, blank=True)
    card_code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    card_serial = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("service recipient")
        verbose_name_plural = _("service recipients")

    def __str__(self):
        return str(self.person)

    def age_on(self, day) -> int | None:
        if self.birth_date is None:
            return None
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


class Service(index.Indexed, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending", _("Waiting for review")
        PUBLISHED = "published", _("Published")
        SUSPENDED = "suspended", _("Suspended")

    class Mode(models.TextChoices):
        SESSIONS = "sessions", _("Recurring sessions with places")
        ON_DEMAND = "on_demand", _("On request")

    class Price(models.TextChoices):
        FREE = "free", pgettext_lazy("price", "Free")
        SUBSIDISED = "subsidised", pgettext_lazy("price", "Subsidised")
        PAID = "paid", pgettext_lazy("price", "Paid")

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    title = models.CharField(_("title"), max_length=80)
    category = models.ForeignKey(
        ServiceCategory, models.PROTECT, related_name="services", verbose_name=_("category")
    )
    # None: the service centre runs it itself and dispatches each order to an organisation.
    organisation = models.ForeignKey(
        Organisation,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        verbose_name=_("organisation"),
        help_text=_("Leave empty for a service the centre dispatches to organisations order by order."),
    )
    # The street whose centre reviews the service and handles its orders.
    street = models.ForeignKey(Street, models.PROTECT, related_name="services", verbose_name=_("street"))
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place"), max_length=120, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    hours = models.CharField(_("opening hours"), max_length=80, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    # The area served: any street, community or grid listed; a resident's home grid must fall inside.
    area_streets = models.ManyToManyField(
        Street, blank=True, related_name="+", verbose_name=_("streets served")
    )
    area_communities = models.ManyToManyField(
        Community, blank=True, related_name="+", verbose_name=_("communities served")
    )
    area_grids = models.ManyToManyField(Grid, blank=True, related_name="+", verbose_name=_("grids served"))
    price_kind = models.CharField(_("price"), max_length=12, choices=Price.choices, default=Price.FREE)
    price = models.DecimalField(_("price (yuan)"), max_digits=8, decimal_places=2, null=True, blank=True)
    price_note = models.CharField(_("price note"), max_length=120, blank=True)
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    subsidy_groups = models.JSONField(
        _("subsidy groups"),
        default=list,
        blank=True,
        help_text=_("Only people in one of these groups may order; empty = anyone."),
    )
    mode = models.CharField(_("how it runs"), max_length=10, choices=Mode.choices, default=Mode.ON_DEMAND)
    # The timetable of a session service: sessions are generated from it ahead of time.
    weekdays = models.JSONField(
        _("weekdays"), default=list, blank=True, help_text=_("0 = Monday … 6 = Sunday")
    )
    session_start = models.TimeField(_("session starts"), null=True, blank=True)
    session_end = models.TimeField(_("session ends"), null=True, blank=True)
    session_capacity = models.PositiveIntegerField(_("places per session"), null=True, blank=True)
    points_per_delivery = models.PositiveIntegerField(
        _("points per delivery"),
        default=0,
        help_text=_("Points each volunteer who delivered an order receives when the resident confirms it."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["category__position", "title"]
        indexes = [models.Index(fields=["status", "category"], name="service_status_category")]
        constraints = [
            models.CheckConstraint(
                name="service_ages_in_order",
                condition=Q(min_age__isnull=True) | Q(max_age__isnull=True) | Q(min_age__lte=F("max_age")),
            ),
        ]

    # Site search (core.search): the words of the title, description, place, category and organisation,
    # in Chinese. Re-indexed only when one of these changes (core.search's handler), not on status saves.
    search_fields = [
        ChineseSearchField("title", boost=2),
        ChineseSearchField("description"),
        ChineseSearchField("place"),
        ChineseSearchField("category_name"),
        ChineseSearchField("organisation_name"),
        index.FilterField("id"),
    ]
    search_auto_update = False
    SEARCH_SOURCE_FIELDS = frozenset(
        {"title", "description", "place", "category", "category_id", "organisation", "organisation_id"}
    )

    def __str__(self):
        return self.title

    def category_name(self) -> str:
        return self.category.name

    def organisation_name(self) -> str:
        return self.organisation.name if self.organisation_id else ""

    @classmethod
    def get_indexed_objects(cls):
        return super().get_indexed_objects().select_related("category", "organisation")

    @property
    def is_sessions(self) -> bool:
        return self.mode == self.Mode.SESSIONS

    def serves(self, grid: Grid | None) -> bool:
        """Whether a home grid lies in the area served (uses prefetched area lists when present)."""
        if grid is None:
            return False
        return (
            any(g.pk == grid.pk for g in self.area_grids.all())
            or any(c.pk == grid.community_id for c in self.area_communities.all())
            or any(s.pk == grid.community.street_id for s in self.area_streets.all())
        )


class ServicePhoto(models.Model):
    service = models.ForeignKey(Service, models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="services/%Y/%m/")
    caption = models.CharField(_("caption"), max_length=80, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("service photo")
        verbose_name_plural = _("service photos")
        ordering = ["position", "id"]

    def __str__(self):
        return self.caption or self.image.name


class ServiceEvent(EventRow):
    """Every review decision on a service (submitted, published, suspended…), with actor and reason."""

    service = models.ForeignKey(Service, models.CASCADE, related_name="events")
    status = models.CharField(max_length=10, choices=Service.Status.choices)


class Session(models.Model):
    """One sitting of a session service (Tuesday's lunch, Thursday's class) with its places."""

    service = models.ForeignKey(Service, models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("places"))
    # Places taken, changed only under the session's row lock (services.do_place_order / do_cancel_order).
    booked = models.PositiveIntegerField(_("booked"), default=0)
    cancelled = models.BooleanField(_("cancelled"), default=False)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "starts_at"], name="one_session_per_start"),
            models.CheckConstraint(name="session_not_overbooked", condition=Q(booked__lte=F("capacity"))),
            models.CheckConstraint(name="session_ends_after_start", condition=Q(ends_at__gt=F("starts_at"))),
        ]

    def __str__(self):
        return f"{self.service} · {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.booked, 0)


class Order(models.Model):
    class Status(models.TextChoices):
        ORDERED = "ordered", _("Waiting for dispatch")
        DISPATCHED = "dispatched", _("Waiting for the organisation")
        ACCEPTED = "accepted", _("Accepted")
        DELIVERED = "delivered", _("Delivered, waiting for confirmation")
        COMPLETED = "completed", _("Confirmed and rated")
        CLOSED = "closed", _("Closed without confirmation")
        CANCELLED = "cancelled", _("Cancelled")

    class Channel(models.TextChoices):
        WEB = "web", _("Website")
        API = "api", _("App")
        PROXY = "proxy", _("Ordered by a grid worker on the resident's behalf")

    class ConfirmedVia(models.TextChoices):
        WEB = "web", _("Online")
        CARD = "card", _("Personal QR card")
        SMS = "sms", _("SMS code")

    class Award(models.TextChoices):
        NONE = "", _("No points")
        RELEASED = "released", _("Points released")
        HELD = "held", _("Held for review")
        WITHHELD = "withheld", _("Withheld after review")

    ACTIVE = (Status.ORDERED, Status.DISPATCHED, Status.ACCEPTED, Status.DELIVERED)
    OPEN = (Status.ORDERED, Status.DISPATCHED)  # the resident may still cancel

    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    service = models.ForeignKey(Service, models.PROTECT, related_name="orders", verbose_name=_("service"))
    session = models.ForeignKey(
        Session, models.PROTECT, null=True, blank=True, related_name="orders", verbose_name=_("session")
    )
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="service_orders", verbose_name=_("resident")
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("placed by")
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.WEB)
    note = models.CharField(_("note"), max_length=300, blank=True)
    # The resident's home grid when ordering: it decides which grid worker and staff see the order.
    grid = models.ForeignKey(Grid, models.PROTECT, related_name="service_orders", verbose_name=_("grid"))
    organisation = models.ForeignKey(
        Organisation,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="service_orders",
        verbose_name=_("organisation"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ORDERED)
    # When the current stage began, and how far its deadline has been escalated (0, 1 reminder, 2 staff).
    stage_started_at = models.DateTimeField()
    escalation = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("ordered at"), auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The deliverer scanned the resident's QR card at the door.
    checked_in_at = models.DateTimeField(_("checked in at the door"), null=True, blank=True)
    # A beneficiary of a session scanned in at the dining point or class.
    attended_at = models.DateTimeField(_("attended"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    confirmed_via = models.CharField(max_length=6, choices=ConfirmedVia.choices, blank=True)
    # Salted hash of the SMS code sent at delivery for residents without a smartphone.
    sms_code_hash = models.CharField(max_length=128, blank=True)
    sms_code_attempts = models.PositiveSmallIntegerField(default=0)
    award = models.CharField(_("points"), max_length=10, choices=Award.choices, blank=True, default="")

    class Meta:
        verbose_name = _("service order")
        verbose_name_plural = _("service orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "stage_started_at"], name="order_status_stage"),
            models.Index(fields=["resident", "created_at"], name="order_resident_created"),
        ]
        constraints = [
            models.CheckConstraint(
                name="order_rating_1_to_5",
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
            ),
            # One live booking per person and session, whoever placed it and however fast.
            models.UniqueConstraint(
                fields=["session", "resident"],
                condition=~Q(status="cancelled"),
                name="one_live_booking_per_session",
            ),
        ]

    def __str__(self):
        return f"{self.service} · {self.code}"


class OrderAssignment(models.Model):
    """A volunteer an organisation sent to deliver an order; each is awarded once when it is confirmed."""

    order = models.ForeignKey(Order, models.CASCADE, related_name="assignments")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="service_assignments",
        verbose_name=_("volunteer"),
    )
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "person"], name="one_assignment_per_person")]

    def __str__(self):
        return f"{self.order_id}: {self.person_id}"


class OrderEvent(EventRow):
    """One step of an order's life, as a row: who did what, when, and why (the `note`)."""

    class Kind(models.TextChoices):
        ORDERED = "ordered", _("Ordered")
        DISPATCHED = "dispatched", _("Dispatched")
        CLAIMED = "claimed", _("Claimed")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        ASSIGNED = "assigned", _("Volunteer assigned")
        CHECKED_IN = "checked_in", _("Checked in at the door")
        ATTENDED = "attended", _("Attended")
        DELIVERED = "delivered", _("Delivered")
        CONFIRMED = "confirmed", _("Confirmed and rated")
        CANCELLED = "cancelled", _("Cancelled")
        REMINDED = "reminded", _("Reminder sent")
        ESCALATED = "escalated", _("Escalated to staff")
        CLOSED = "closed", _("Closed automatically")
        AWARD_RELEASED = "award_released", _("Points released")
        AWARD_HELD = "award_held", _("Points held for review")
        AWARD_WITHHELD = "award_withheld", _("Points withheld")

    order = models.ForeignKey(Order, models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The organisation concerned (dispatched to, claimed by, declined by).
    organisation = models.ForeignKey(Organisation, models.PROTECT, null=True, blank=True, related_name="+")
    # Its free text is a note (a decline's reason, the deliverer's note, the resident's comment).
    note = models.CharField(max_length=300, blank=True)
    reason = None

    class Meta(EventRow.Meta):
        indexes = [models.Index(fields=["order", "kind"], name="orderevent_order_kind")]


@register_setting(icon="time")
class OrderRules(BaseGenericSetting):
    """Deadlines of each stage of the loop and when points wait for review; staff change them in the admin."""

    dispatch_hours = models.PositiveSmallIntegerField(
        _("hours to dispatch an order"), default=24, validators=[MinValueValidator(1)]
    )
    accept_hours = models.PositiveSmallIntegerField(
        _("hours for the organisation to accept"), default=24, validators=[MinValueValidator(1)]
    )
    deliver_hours = models.PositiveSmallIntegerField(
        _("hours to deliver an accepted request"),
        default=72,
        validators=[MinValueValidator(1)],
        help_text=_("A booked session is due by the end of the session instead."),
    )
    confirm_hours = models.PositiveSmallIntegerField(
        _("hours for the resident to confirm before a reminder"),
        default=24,
        validators=[MinValueValidator(1)],
    )
    auto_close_days = models.PositiveSmallIntegerField(
        _("days after delivery to close an unconfirmed order"), default=7, validators=[MinValueValidator(1)]
    )
    hold_rating = models.PositiveSmallIntegerField(
        _("hold points for review at this rating or below"),
        default=2,
        validators=[MaxValueValidator(5)],
        help_text=_("0 releases points whatever the rating."),
    )

    class Meta:
        verbose_name = _("service order rules")

    def __str__(self):
        return str(self._meta.verbose_name)
