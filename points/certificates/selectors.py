"""Reads for certificates: the verified service of a period (from the ledger), who issues, and lists.

Every read here is one query whatever the number of rows, so the pages and the API cost the same for a
person with one certificate or a hundred.
"""

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, DateField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate

from points.models import Account, Award, Entry
from volunteers.models import District, Grid

from .models import NUMBER_ALPHABET, NUMBER_PREFIX, NUMBER_RANDOM_LENGTH, Certificate

_NUMBER = re.compile(rf"{NUMBER_PREFIX}(\d{{4}})([{NUMBER_ALPHABET}]{{{NUMBER_RANDOM_LENGTH}}})\Z")


@dataclass(frozen=True)
class Service:
    minutes: int
    tasks: int


def _service_day():
    """The day an entry of the MINUTES account counts for.

    An attendance award's minutes count on the day the task was worked (not the day they were posted,
    which may be later when staff approved them); a reversal counts on the day of the entry it cancels,
    so a reversed award vanishes from its own period; anything else (a staff adjustment) on its posting day
    in the site's time zone.
    """
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    award_day = Award.objects.filter(minutes_entry=OuterRef("pk")).values("worked_on")[:1]
    reversed_award_day = Award.objects.filter(minutes_entry=OuterRef("reverses")).values("worked_on")[:1]
    return Coalesce(
        Subquery(award_day, output_field=DateField()),
        Subquery(reversed_award_day, output_field=DateField()),
        TruncDate(Coalesce("reverses__created_at", "created_at"), tzinfo=tz),
        output_field=DateField(),
    )


def verified_service(*, person_id: int, start: dt.date, end: dt.date) -> Service:
    """Verified minutes and tasks of `person_id` from `start` to `end` (both included), from the ledger.

    The minutes are the sum of the MINUTES account's entries that count in the period (see _service_day),
    so a reversal or a staff correction is reflected as the ledger has it. The tasks are the attendance
    entries among them that were not taken back. One query.
    """
    entries = (
        Entry.objects.filter(account__person_id=person_id, account__unit=Account.Unit.MINUTES)
        .annotate(day=_service_day())
        .filter(day__gte=start, day__lte=end)
    )
    # Each attendance entry is one task's attendance award (one sign-up, one task).
    is_task = Q(kind=Entry.Kind.ATTENDANCE, reversed_by__isnull=True)
    totals = entries.aggregate(minutes=Sum("amount"), tasks=Count("pk", filter=is_task))
    return Service(minutes=max(totals["minutes"] or 0, 0), tasks=totals["tasks"] or 0)


@dataclass(frozen=True)
class Issuer:
    district: District
    street: object | None
    community: object | None


def issuer_for(*, person, start: dt.date, end: dt.date) -> Issuer | None:
    """The service centre that certifies `person`'s hours: their home street's, or — for someone without
    a home grid — the street where they served the most verified minutes in the period (by task grid), or
    the district's when the site has only one district. None when none of these can be told."""
    grid = None
    if person.home_grid_id:
        grid = Grid.objects.select_related("community__street__district").get(pk=person.home_grid_id)
    else:
        busiest = (
            Award.objects.filter(
                person=person,
                status=Award.Status.POSTED,
                worked_on__gte=start,
                worked_on__lte=end,
                grid__isnull=False,
            )
            .values("grid")
            .annotate(total=Sum("minutes"))
            .order_by("-total", "grid")
            .values("grid")[:1]
        )
        grid = Grid.objects.select_related("community__street__district").filter(pk__in=busiest).first()
    if grid is not None:
        street = grid.community.street
        community = grid.community if person.home_grid_id else None
        return Issuer(district=street.district, street=street, community=community)
    districts = list(District.objects.all()[:2])
    if len(districts) == 1:
        return Issuer(district=districts[0], street=None, community=None)
    return None


def normalise_number(text) -> str | None:
    """A certificate number as typed ("gz 2026 ab3k7mq2", "GZ-2026-AB3K-7MQ2") in its one spelling, or None
    when it cannot be one."""
    if not isinstance(text, str) or len(text) > 60:
        return None
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    if not cleaned.startswith(NUMBER_PREFIX):
        return None
    match = _NUMBER.match(cleaned)
    if not match:
        return None
    return f"{NUMBER_PREFIX}-{match.group(1)}-{match.group(2)}"


def certificate_by_number(number) -> Certificate | None:
    """The certificate with this number (typed in any of its spellings), or None."""
    canonical = normalise_number(number)
    if canonical is None:
        return None
    return Certificate.objects.filter(number=canonical).first()


def my_certificates(person) -> QuerySet[Certificate]:
    return Certificate.objects.filter(person=person).order_by("-issued_at", "-pk")


def live_certificate(*, person_id: int, start: dt.date, end: dt.date) -> Certificate | None:
    return Certificate.objects.filter(
        person_id=person_id, period_start=start, period_end=end, revoked_at__isnull=True
    ).first()
