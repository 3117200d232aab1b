"""The ledger. Points are treated like money: every change is an `Entry` that is never updated or
deleted (database triggers refuse it, see migration 0002), and a correction is a reversing entry.

Each person has one `Account` per unit: points, and verified service minutes, kept apart so that spending
points never reduces hours. `Account.balance` is a cache of the sum of the account's entries, changed only
in the same locked transaction that inserts the entry (`points.ledger.do_post`); a CHECK constraint keeps it
from going negative, and the nightly reconciliation proves it equals the sum.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Account(models.Model):
    class Unit(models.TextChoices):
        POINTS = "points", _("Points")
        MINUTES = "minutes", _("Verified service minutes")

    person = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="point_accounts")
    unit = models.CharField(max_length=8, choices=Unit.choices)
    balance = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.UniqueConstraint(fields=["person", "unit"], name="points_one_account_per_unit"),
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="points_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}/{self.unit}: {self.balance}"


class Entry(models.Model):
    class Kind(models.TextChoices):
        ATTENDANCE = "attendance", _("Grid task attendance")
        INCIDENT_REWARD = "incident", _("Per-incident reward")
        CASE_REWARD = "case", _("Per-case reward")
        ORDER_SERVICE = "order", _("Service order")
        REDEMPTION = "redemption", _("Redemption")
        REFUND = "refund", _("Refund")
        REVERSAL = "reversal", _("Reversal")
        EXPIRY = "expiry", _("Expiry")
        ADJUSTMENT = "adjustment", _("Adjustment")

    account = models.ForeignKey(Account, models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    reason = models.CharField(max_length=200)
    # What the entry is for, as "<label>:<id>" (e.g. "attendance:42", "redemption:7"): readable in an
    # export without a join, and never shown publicly.
    source = models.CharField(max_length=60, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    key = models.CharField(max_length=120, unique=True)
    # A digest of what the request asked for, so the same key with a different body is refused.
    fingerprint = models.CharField(max_length=64)
    balance_after = models.BigIntegerField()
    reverses = models.OneToOneField("self", models.PROTECT, null=True, blank=True, related_name="reversed_by")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="points_entry_history"),
            models.Index(fields=["kind", "created_at"], name="points_entry_kind_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="points_entry_amount_not_zero"),
            models.CheckConstraint(
                condition=models.Q(balance_after__gte=0), name="points_entry_balance_after"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.amount:+d}"
