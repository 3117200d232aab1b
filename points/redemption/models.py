"""Merchants, the reward items they hand over, and redemptions.

A redemption holds one unit of an item's stock and the item's price in points from the moment it is made
(`services.do_redeem`, one transaction: item row locked, then the person's points account through the
ledger). It is then handed over at the merchant (the person's QR code or short code), cancelled by the
person, or expired by the beat task; the last two give the points and the stock back.

Nothing here carries the person's points: the ledger entries do (`entry`, `refund_entry`). Who did what
and when is recorded on the redemption itself, because each transition happens at most once.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# No 0/O, 1/I/L: the short code is read aloud and typed by the merchant.
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_CODE_LENGTH = 8


def new_public_code() -> str:
    return secrets.token_urlsafe(9)  # 12 URL-safe characters


def new_short_code() -> str:
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


class Merchant(models.Model):
    class Kind(models.TextChoices):
        SERVICE_CENTRE = "centre", _("Service centre")
        PARTNER = "partner", _("Partner merchant")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.SERVICE_CENTRE)
    # The street is required so that every merchant falls inside some staff member's scope.
    street = models.ForeignKey(
        "volunteers.Street", models.PROTECT, related_name="merchants", verbose_name=_("street")
    )
    community = models.ForeignKey(
        "volunteers.Community",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="merchants",
        verbose_name=_("community"),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)
    public_code = models.CharField(max_length=16, unique=True, default=new_public_code, editable=False)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="MerchantStaff",
        through_fields=("merchant", "person"),
        related_name="merchants",
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MerchantStaff(models.Model):
    """A person who may hand this merchant's items over and read its statement."""

    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="memberships")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="merchant_memberships",
        verbose_name=_("person"),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("merchant staff member")
        verbose_name_plural = _("merchant staff")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "person"], name="redemption_one_staff_row")
        ]

    def __str__(self) -> str:
        return f"{self.merchant}: {self.person}"


class RewardItem(models.Model):
    merchant = models.ForeignKey(Merchant, models.PROTECT, related_name="items", verbose_name=_("merchant"))
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    photo = models.ForeignKey(
        "wagtailimages.Image",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("photo"),
    )
    price = models.PositiveIntegerField(_("points price"))
    stock = models.IntegerField(_("stock"), default=0)
    active = models.BooleanField(_("active"), default=True)
    per_person_limit = models.PositiveSmallIntegerField(
        _("limit per person"),
        null=True,
        blank=True,
        help_text=_("How many one person may hold or have received; leave empty for no limit."),
    )
    public_code = models.CharField(max_length=16, unique=True, default=new_public_code, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("reward item")
        verbose_name_plural = _("reward items")
        ordering = ["price", "name"]
        constraints = [
            # The stock is changed only under the item's row lock; this is the backstop.
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="redemption_stock_not_negative"),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="redemption_price_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Redemption(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", _("Waiting to be collected")
        HANDED_OVER = "handed_over", _("Collected")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    item = models.ForeignKey(RewardItem, models.PROTECT, related_name="redemptions", verbose_name=_("item"))
    # Copied from the item so that the scope rule and the statement need no join through items.
    merchant = models.ForeignKey(
        Merchant, models.PROTECT, related_name="redemptions", verbose_name=_("merchant")
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="redemptions", verbose_name=_("person")
    )
    points = models.PositiveIntegerField(_("points"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RESERVED)
    # The client's idempotency key, unique per person (the ledger key is derived from it).
    client_key = models.CharField(max_length=64)
    # In URLs (cancel) and the API; the QR carries a signed `token_code`, the counter the short code.
    public_code = models.CharField(max_length=16, unique=True, default=new_public_code, editable=False)
    token_code = models.CharField(max_length=32, unique=True, editable=False)
    short_code = models.CharField(max_length=SHORT_CODE_LENGTH, unique=True, editable=False)
    entry = models.OneToOneField("points.Entry", models.PROTECT, related_name="redemption")
    refund_entry = models.OneToOneField(
        "points.Entry", models.PROTECT, null=True, blank=True, related_name="refunded_redemption"
    )
    created_at = models.DateTimeField(_("redeemed at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("collect by"))
    handed_over_at = models.DateTimeField(_("collected at"), null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("cancelled or expired at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "client_key"], name="redemption_one_per_client_key"),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="redemption_due"),
            models.Index(fields=["merchant", "handed_over_at"], name="redemption_statement"),
        ]

    def __str__(self) -> str:
        return f"{self.item} · {self.short_code}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.RESERVED
