"""Service-hours certificates: a numbered record that a person served so many verified hours in a period.

A certificate is issued once (`services.do_issue_certificate`) from the points ledger's MINUTES account and
then never changes: its number, person's name, period, hours, tasks and issuer are frozen in the row, and the
PDF is drawn from the row alone, so printing it again gives the same document. The only later change is a
revocation by staff (with a reason), which the public verification page then shows. Every change is also an
event row (who, when, why).
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import EventRow

# No 0/O, 1/I/L: the number is printed on paper and typed back in on the verification page.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
NUMBER_RANDOM_LENGTH = 8  # 31^8 ≈ 8.5 × 10^11 numbers a year: not guessable, still short enough to type
NUMBER_PREFIX = "GZ"


def new_number(year: int) -> str:
    """GZ-<year>-<8 random characters>: says what and when, while the random part reveals no count."""
    random_part = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_RANDOM_LENGTH))
    return f"{NUMBER_PREFIX}-{year:04d}-{random_part}"


class Certificate(models.Model):
    # Fields a revocation may write; everything else is fixed at issue (see `save`).
    REVOCATION_FIELDS = frozenset({"revoked_at", "revoked_by", "revoke_reason"})

    number = models.CharField(_("certificate number"), max_length=20, unique=True)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="certificates", verbose_name=_("person")
    )
    # The name as it was at issue: a later change of name does not change a certificate already given.
    person_name = models.CharField(_("name on the certificate"), max_length=40)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    minutes = models.PositiveIntegerField(_("verified minutes"))
    tasks = models.PositiveIntegerField(_("tasks"))
    issuer_name = models.CharField(_("issuer"), max_length=100)
    # Where the certificate belongs, for the staff scope (apps.py): the issuing street and district, and
    # the person's home community at issue. The street is empty when the district's centre issued it.
    district = models.ForeignKey(
        "volunteers.District", models.PROTECT, related_name="+", verbose_name=_("district")
    )
    street = models.ForeignKey(
        "volunteers.Street", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("street")
    )
    community = models.ForeignKey(
        "volunteers.Community",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
    )
    issued_at = models.DateTimeField(_("issued at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.CharField(_("reason for revocation"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("service-hours certificate")
        verbose_name_plural = _("service-hours certificates")
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["person", "-issued_at"], name="certificate_person_issued")]
        constraints = [
            # Asking twice for the same period gives back the certificate already issued (the service
            # looks first; this is the backstop for two requests at once). A revoked one does not count.
            models.UniqueConstraint(
                fields=["person", "period_start", "period_end"],
                condition=Q(revoked_at__isnull=True),
                name="certificate_one_live_per_period",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="certificate_period_in_order"
            ),
            models.CheckConstraint(condition=Q(minutes__gt=0), name="certificate_has_minutes"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoke_reason=""),
                name="certificate_revocation_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        # An issued certificate is a record: only a revocation may be written to it afterwards.
        update_fields = kwargs.get("update_fields")
        if self.pk is not None and (
            update_fields is None or not set(update_fields) <= self.REVOCATION_FIELDS
        ):
            raise ValueError("An issued certificate cannot be changed; only revoked.")
        super().save(*args, **kwargs)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def hours(self) -> str:
        """The hours to one decimal, as printed ("12.5"); the minutes stay exact beside them."""
        tenths = (self.minutes * 10 + 30) // 60  # round half up, in integers (no float surprises)
        return f"{tenths // 10}.{tenths % 10}"


class CertificateEvent(EventRow):
    """Every change of a certificate, with who made it, when and why (status history as rows)."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("Issued")
        REVOKED = "revoked", _("Revoked")

    certificate = models.ForeignKey(Certificate, models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
