"""Per-incident and per-case rewards (一事一奖/一案一奖).

A grid worker, legal officer or volunteer reports an incident or case (`Case`) with its contributors and
photos; staff of the case's area verify and close it (every change is a `CaseEvent` row). Closing proposes
a pending `Reward` from the category's table (`RewardCategory`), split into one `RewardShare` per
contributor. Staff approve it within the street's yearly `Budget` — whose spent, reserved and remaining
amounts are computed from rewards by aggregate queries, never kept as counters — or reject it; a
contributor may appeal a rejection once. Approval posts one ledger entry per contributor.
"""

import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import EventRow
from core.storage import private_storage
from volunteers.models import Grid, Street


class Kind(models.TextChoices):
    INCIDENT = "incident", _("Incident (一事一奖)")
    CASE = "case", _("Case (一案一奖)")


class RewardCategory(models.Model):
    """A line of the reward table staff configure: what a closed incident or case of this kind earns."""

    class Split(models.TextChoices):
        EACH = "each", _("Points for each contributor")
        TOTAL = "total", _("Points in total, split by shares")

    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    points = models.PositiveIntegerField(
        _("points"), validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    split = models.CharField(_("split"), max_length=10, choices=Split.choices, default=Split.EACH)
    description = models.CharField(_("description"), max_length=200, blank=True)
    active = models.BooleanField(_("offered for new reports"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("reward category")
        verbose_name_plural = _("reward categories")
        ordering = ["kind", "sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="cases_unique_category_name"),
            models.CheckConstraint(condition=Q(points__gte=1), name="cases_category_points_positive"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"


def _public_code() -> str:
    return secrets.token_urlsafe(9)


class Case(models.Model):
    class Status(models.TextChoices):
        REPORTED = "reported", _("Reported")
        VERIFIED = "verified", _("Verified")
        CLOSED = "closed", _("Closed")
        REJECTED = "rejected", _("Rejected")

    # The case's name in URLs: random, so a URL gives away neither an id nor how many cases there are.
    public_code = models.CharField(max_length=16, unique=True, default=_public_code, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    category = models.ForeignKey(
        RewardCategory, models.PROTECT, related_name="cases", verbose_name=_("category")
    )
    grid = models.ForeignKey(Grid, models.PROTECT, related_name="cases", verbose_name=_("grid"))
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), max_length=2000)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REPORTED)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="reported_cases", verbose_name=_("reported by")
    )
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    changed_at = models.DateTimeField(_("last change"), default=timezone.now)

    class Meta:
        verbose_name = _("incident or case")
        verbose_name_plural = _("incidents and cases")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="cases_case_status")]

    def __str__(self):
        return self.title


class CaseEvent(EventRow):
    """One status change of a case: who, when, why. The history is these rows, oldest first."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="events")
    status = models.CharField(max_length=10, choices=Case.Status.choices)


def photo_path(instance, filename) -> str:
    # Never the uploaded name (it may carry a person's name or phone): a random name, the checked format.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"cases/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


MAX_PHOTOS = 6  # per case


class CasePhoto(models.Model):
    case = models.ForeignKey(Case, models.CASCADE, related_name="photos")
    image = models.ImageField(
        _("photo"), upload_to=photo_path, storage=private_storage, width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.image.name


class Contributor(models.Model):
    class Role(models.TextChoices):
        REPORTER = "reporter", _("Found and reported it")
        HANDLER = "handler", _("Handled it")
        ASSISTANT = "assistant", _("Helped")

    case = models.ForeignKey(Case, models.CASCADE, related_name="contributors")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="case_contributions")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    share = models.PositiveSmallIntegerField(
        _("share"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "person"], name="cases_one_contribution_per_person"),
            models.CheckConstraint(condition=Q(share__gte=1, share__lte=10), name="cases_share_range"),
        ]

    def __str__(self):
        return f"{self.person_id} @ {self.case_id}"


class Budget(models.Model):
    """A street's reward budget (专项经费) for one calendar year, in points."""

    street = models.ForeignKey(
        Street, models.PROTECT, related_name="reward_budgets", verbose_name=_("street")
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    amount = models.PositiveIntegerField(_("points"), validators=[MaxValueValidator(100_000_000)])

    class Meta:
        verbose_name = _("reward budget")
        verbose_name_plural = _("reward budgets")
        ordering = ["-year", "street__code"]
        constraints = [models.UniqueConstraint(fields=["street", "year"], name="cases_one_budget_per_year")]

    def __str__(self):
        return f"{self.street} · {self.year}"


class Reward(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        APPEALED = "appealed", _("Appealed")
        FINAL = "final", _("Rejected after appeal")

    # Statuses whose amount is held against the budget until decided.
    RESERVED = (Status.PENDING, Status.APPEALED)

    case = models.OneToOneField(Case, models.PROTECT, related_name="reward")
    # Which budget pays: the case's street, the year the case was closed. Fixed at proposal.
    street = models.ForeignKey(Street, models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    amount = models.PositiveIntegerField(_("points"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    appeal_text = models.CharField(_("appeal"), max_length=500, blank=True)
    appealed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    appealed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["street", "year", "status"], name="cases_reward_budget")]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=1), name="cases_reward_positive")]

    def __str__(self):
        return f"{self.case} · {self.amount}"


class RewardShare(models.Model):
    """What one contributor gets from a reward, and once approved, the ledger entry that paid it."""

    reward = models.ForeignKey(Reward, models.CASCADE, related_name="shares")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="case_reward_shares")
    amount = models.PositiveIntegerField()
    entry = models.OneToOneField(
        "points.Entry", models.PROTECT, null=True, blank=True, related_name="case_reward_share"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["reward", "person"], name="cases_one_share_per_person"),
            models.CheckConstraint(condition=Q(amount__gte=1), name="cases_share_positive"),
        ]

    def __str__(self):
        return f"{self.person_id}: {self.amount}"


class RewardEvent(EventRow):
    reward = models.ForeignKey(Reward, models.CASCADE, related_name="events")
    status = models.CharField(max_length=10, choices=Reward.Status.choices)
    reason = models.CharField(max_length=500, blank=True)
