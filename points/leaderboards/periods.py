"""Board periods: a calendar month, a calendar year (local time, settings.TIME_ZONE) or all time."""

import re
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from .exceptions import InvalidPeriod
from .models import ALL_TIME

MONTH, YEAR, ALL = "month", "year", "all"
KINDS = (MONTH, YEAR, ALL)
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR_RE = re.compile(r"^(\d{4})$")
FIRST_YEAR = 2000


@dataclass(frozen=True)
class Period:
    kind: str  # month, year, all
    key: str  # the Score.period value: "2026-11", "2026", "all"

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            year, month = self.key.split("-")
            return _("%(year)s-%(month)s") % {"year": year, "month": month}
        if self.kind == YEAR:
            return self.key
        return _("All time")

    @property
    def when(self) -> str:
        return "" if self.kind == ALL else self.key

    def previous(self) -> "Period | None":
        if self.kind == MONTH:
            year, month = map(int, self.key.split("-"))
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
            return None if year < FIRST_YEAR else Period(MONTH, f"{year:04d}-{month:02d}")
        if self.kind == YEAR:
            year = int(self.key) - 1
            return None if year < FIRST_YEAR else Period(YEAR, f"{year:04d}")
        return None

    def next(self, now: datetime | None = None) -> "Period | None":
        """The following period, or None if it would be in the future."""
        current = current_period(self.kind, now)
        if self.kind == ALL or self.key >= current.key:
            return None
        if self.kind == MONTH:
            year, month = map(int, self.key.split("-"))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            return Period(MONTH, f"{year:04d}-{month:02d}")
        return Period(YEAR, f"{int(self.key) + 1:04d}")


def keys_for(moment: datetime) -> tuple[str, str, str]:
    """The month, year and all-time keys a moment counts towards."""
    local = timezone.localtime(moment)
    return f"{local.year:04d}-{local.month:02d}", f"{local.year:04d}", ALL_TIME


def current_period(kind: str, now: datetime | None = None) -> Period:
    month, year, all_time = keys_for(now or timezone.now())
    return Period(kind, {MONTH: month, YEAR: year, ALL: all_time}[kind])


def parse_period(kind: str | None, when: str | None = None, *, now: datetime | None = None) -> Period:
    """A period from user input: kind month/year/all (default month) and, optionally, which one
    ("2026-11", "2026"; default the current one). Raises InvalidPeriod for anything else, including a
    period in the future."""
    kind = (kind or MONTH).strip().lower()
    when = (when or "").strip()
    if kind not in KINDS:
        raise InvalidPeriod()
    current = current_period(kind, now)
    if kind == ALL or not when:
        if kind == ALL and when:
            raise InvalidPeriod()
        return current
    match = (_MONTH_RE if kind == MONTH else _YEAR_RE).match(when)
    if not match or int(match.group(1)) < FIRST_YEAR:
        raise InvalidPeriod()
    if kind == MONTH and not 1 <= int(match.group(2)) <= 12:
        raise InvalidPeriod()
    if when > current.key:
        raise InvalidPeriod(_("Boards of periods that have not started yet do not exist."))
    return Period(kind, when)


def bounds(key: str) -> tuple[datetime, datetime] | None:
    """The [start, end) of a month or year key in local time; None for all time."""
    if key == ALL_TIME:
        return None
    tz = timezone.get_current_timezone()
    if len(key) == 4:
        year = int(key)
        return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)
    year, month = map(int, key.split("-"))
    end = datetime(year + 1, 1, 1, tzinfo=tz) if month == 12 else datetime(year, month + 1, 1, tzinfo=tz)
    return datetime(year, month, 1, tzinfo=tz), end
