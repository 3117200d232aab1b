"""Issue and revoke service-hours certificates.

Issuing is idempotent per period: the person's row is locked first, then a live certificate for the same
period is looked for and returned if there is one; otherwise the verified service is read from the ledger
and frozen into a new row. Two requests at once for one period therefore give one certificate (the partial
unique constraint on live certificates is the backstop). Revoking locks the certificate row, checks the
staff member's scope under the lock and records the revocation with its reason, actor and time.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from core.exceptions import NotAllowed
from core.notifications import notify
from core.text import one_line
from volunteers.models import User
from volunteers.scopes import scope_for

from . import exceptions, selectors
from .models import Certificate, CertificateEvent, new_number

# The earliest day a period may start: before the platform there are no verified hours to certify.
EARLIEST = dt.date(2000, 1, 1)
_ISSUER = gettext_noop("%(place)s Grid Service and Management Centre")


@dataclass(frozen=True)
class Issued:
    certificate: Certificate
    created: bool  # False: the live certificate already issued for this period was given back


def check_period(start, end) -> tuple[dt.date, dt.date]:
    """The period as two dates, or InvalidPeriod: start ≤ end ≤ today (site time), start ≥ EARLIEST."""
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise exceptions.InvalidPeriod()
    if isinstance(start, dt.datetime) or isinstance(end, dt.datetime):
        raise exceptions.InvalidPeriod()
    if start > end or end > timezone.localdate() or start < EARLIEST:
        raise exceptions.InvalidPeriod()
    return start, end


def issuer_name(issuer: selectors.Issuer) -> str:
    """The issuing centre's name as printed. A certificate is a record, so it is written in the site's
    language whoever asked for it (like the ledger's reasons)."""
    place = issuer.street or issuer.district
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(_ISSUER) % {"place": place.name}


def _unused_number(year: int) -> str:
    # 31^8 numbers a year make a clash very unlikely, but a unique violation would be a 500: look first.
    for _attempt in range(10):
        number = new_number(year)
        if not Certificate.objects.filter(number=number).exists():
            return number
    raise RuntimeError("could not find an unused certificate number")


def do_issue_certificate(*, actor, start: dt.date, end: dt.date) -> Issued:
    """Issue `actor` a certificate of their verified service hours from `start` to `end` (both included).

    Idempotent per period: while a live (not revoked) certificate for exactly this period exists, it is
    returned (`created` False) and nothing is written. Refused with InvalidPeriod, NoVerifiedHours (nothing
    to certify) or NoIssuer (no service centre can be told for the person). Takes the person's row lock.
    """
    if actor is None or not actor.is_authenticated:
        raise NotAllowed()
    start, end = check_period(start, end)
    with transaction.atomic():
        # One person's issues queue up here, so the look-up below sees a certificate made a moment ago.
        person = User.objects.select_for_update().get(pk=actor.pk)
        existing = selectors.live_certificate(person_id=person.pk, start=start, end=end)
        if existing is not None:
            return Issued(existing, False)
        service = selectors.verified_service(person_id=person.pk, start=start, end=end)
        if service.minutes <= 0:
            raise exceptions.NoVerifiedHours()
        issuer = selectors.issuer_for(person=person, start=start, end=end)
        if issuer is None:
            raise exceptions.NoIssuer()
        now = timezone.now()
        try:
            with transaction.atomic():
                certificate = Certificate.objects.create(
                    number=_unused_number(timezone.localdate(now).year),
                    person=person,
                    person_name=person.name[:40],
                    period_start=start,
                    period_end=end,
                    minutes=service.minutes,
                    tasks=service.tasks,
                    issuer_name=issuer_name(issuer)[:100],
                    district=issuer.district,
                    street=issuer.street,
                    community=issuer.community,
                    issued_at=now,
                )
        except IntegrityError:
            # Only a concurrent issue for the same period can get here (the row lock makes it rare).
            existing = selectors.live_certificate(person_id=person.pk, start=start, end=end)
            if existing is None:
                raise
            return Issued(existing, False)
        CertificateEvent.objects.create(
            certificate=certificate, kind=CertificateEvent.Kind.ISSUED, actor=actor
        )
    return Issued(certificate, True)


def do_revoke_certificate(*, certificate_id: int, actor, reason: str) -> Certificate:
    """Staff revoke a certificate issued in their area, with a reason the person is told.

    The public verification page shows it as revoked from then on. Street staff and district admins of
    the issuing place may revoke (the issuer is a street's or the district's centre); anyone else gets
    NotAllowed. Refused with AlreadyRevoked if someone revoked it first.
    """
    reason = one_line(reason, 200)
    if not reason:
        raise exceptions.ReasonRequired()
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().select_related("person").get(pk=certificate_id)
        if not may_revoke(actor, certificate):
            raise NotAllowed()
        if certificate.is_revoked:
            raise exceptions.AlreadyRevoked()
        certificate.revoked_at = timezone.now()
        certificate.revoked_by = actor
        certificate.revoke_reason = reason
        certificate.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        CertificateEvent.objects.create(
            certificate=certificate, kind=CertificateEvent.Kind.REVOKED, actor=actor, reason=reason
        )
        notify(
            recipient=certificate.person,
            category="points",
            title=_("Certificate %(number)s revoked") % {"number": certificate.number},
            body=reason,
            key=f"certificate-revoked:{certificate.pk}",
        )
    return certificate


def may_revoke(actor, certificate: Certificate) -> bool:
    """Street staff and district admins whose street or district issued the certificate (superusers too).

    Community staff see their people's certificates but do not revoke them: the certificate is the
    street's (or the district's) word, so the issuer takes it back."""
    if actor is None or not actor.is_authenticated:
        return False
    scope = scope_for(actor)
    if scope.superuser:
        return True
    return certificate.street_id in scope.street_ids or certificate.district_id in scope.district_ids
