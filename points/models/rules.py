"""How attendance becomes points: staff-configured rules (one active rule per duty category, plus an
optional default for every other category) and the holiday calendar the holiday multiplier reads.

The arithmetic lives in `points.rules_engine.compute`, a pure function; these rows are its input.
"""

from datetime import time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from volunteers.models import DutyCategory, IdentityKind

MULTIPLIER_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("10"))]


class PointsRule(models.Model):
    class Basis(models.TextChoices):
        TASK = "task", _("The points set on the task")
        PER_ATTENDANCE = "per_attendance", _("Fixed points per attendance")
        PER_HOUR = "per_hour", _("Points per verified hour")

    name = models.CharField(_("name"), max_length=80)
    category = models.ForeignKey(
        DutyCategory,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="points_rules",
        verbose_name=_("duty category"),
        help_text=_("Empty: the default rule for every category without a rule of its own."),
    )
    active = models.BooleanField(_("active"), default=True)
    basis = models.CharField(_("base points"), max_length=16, choices=Basis.choices, default=Basis.TASK)
    base_points = models.PositiveIntegerField(
        _("points per attendance"), default=0, validators=[MaxValueValidator(100_000)]
    )
    points_per_hour = models.PositiveIntegerField(
        _("points per hour"), default=0, validators=[MaxValueValidator(100_000)]
    )
    min_minutes = models.PositiveIntegerField(
        _("minimum presence (minutes)"),
        default=0,
        help_text=_("Attendance shorter than this earns no points (its minutes still count as hours)."),
    )
    night_multiplier = models.DecimalField(
        _("night multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1"),
        validators=MULTIPLIER_VALIDATORS,
    )
    night_starts = models.TimeField(_("night starts"), default=time(22, 0))
    night_ends = models.TimeField(_("night ends"), default=time(6, 0))
    holiday_multiplier = models.DecimalField(
        _("holiday multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1"),
        validators=MULTIPLIER_VALIDATORS,
    )
    # {identity kind: multiplier}; the person's best verified identity applies (they do not stack).
    identity_multipliers = models.JSONField(
        _("identity multipliers"),
        default=dict,
        blank=True,
        help_text=_(
            'For example {"party_member": "1.2"}; the highest of the person\'s verified identities applies.'
        ),
    )
    daily_cap = models.PositiveIntegerField(
        _("daily cap"), null=True, blank=True, help_text=_("Most attendance points per person per day.")
    )
    monthly_cap = models.PositiveIntegerField(
        _("monthly cap"), null=True, blank=True, help_text=_("Most attendance points per person per month.")
    )
    needs_approval = models.BooleanField(
        _("held for staff approval"),
        default=False,
        help_text=_("Awards under this rule wait as pending until staff approve them."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        ordering = ["category__sort_order", "category__code", "name"]
        constraints = [
            # Which rule applies must never be ambiguous. Two constraints: NULLs are distinct in a
            # unique index, so the default rule needs its own.
            models.UniqueConstraint(
                fields=["category"],
                condition=Q(active=True, category__isnull=False),
                name="points_one_active_rule_per_category",
                violation_error_message=_("This category already has an active rule."),
            ),
            models.UniqueConstraint(
                fields=["active"],
                condition=Q(active=True, category__isnull=True),
                name="points_one_active_default_rule",
                violation_error_message=_("There is already an active default rule."),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        errors = {}
        if not isinstance(self.identity_multipliers, dict):
            errors["identity_multipliers"] = _("Give a mapping of identity to multiplier.")
        else:
            for kind, value in self.identity_multipliers.items():
                if kind not in IdentityKind.values:
                    errors["identity_multipliers"] = _("Unknown identity: %(kind)s.") % {"kind": kind}
                    break
                try:
                    number = Decimal(str(value))
                except ArithmeticError:
                    number = None
                if number is None or not number.is_finite() or not Decimal("0") <= number <= Decimal("10"):
                    errors["identity_multipliers"] = _("Each multiplier must be a number from 0 to 10.")
                    break
        if self.basis == self.Basis.PER_HOUR and not self.points_per_hour:
            errors["points_per_hour"] = _("Give the points per hour.")
        if self.night_starts == self.night_ends and self.night_multiplier != 1:
            errors["night_ends"] = _("The night must end at a different time than it starts.")
        if errors:
            raise ValidationError(errors)


class Holiday(models.Model):
    """A public holiday (or a day staff treat as one); attendance that starts on it gets the holiday
    multiplier."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["-date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}"
