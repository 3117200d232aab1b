"""Calendar months in the site's time zone (Asia/Shanghai): the unit of time of every report.

A month is represented by the date of its first day. A stored moment belongs to the month it falls in on
a Shanghai calendar, whatever the time zone of the server or the database session.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

DEFAULT_MONTHS = 12
# A longer period makes a table nobody reads and charts too dense to tell months apart.
MAX_MONTHS = 36
FIRST_YEAR = 2000


def zone():
    """The zone months are cut in: settings.TIME_ZONE, Asia/Shanghai."""
    return timezone.get_default_timezone()


def month_of(moment: datetime) -> date:
    local = moment.astimezone(zone()) if timezone.is_aware(moment) else moment
    return date(local.year, local.month, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> int:
    """How many months from `first` to `last`, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def start_of(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=zone())


def month_key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def month_label(month: date) -> str:
    return _("%(year)d-%(month)02d") % {"year": month.year, "month": month.month}


@dataclass(frozen=True)
class Period:
    """Whole months from `first` to `last`, both included."""

    first: date
    last: date

    @classmethod
    def ending(cls, last: date, months: int = DEFAULT_MONTHS) -> "Period":
        return cls(add_months(last, -(months - 1)), last)

    @property
    def months(self) -> list[date]:
        return [add_months(self.first, i) for i in range(months_between(self.first, self.last))]

    @property
    def start(self) -> datetime:
        return start_of(self.first)

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return start_of(add_months(self.last, 1))

    @property
    def label(self) -> str:
        if self.first == self.last:
            return month_label(self.first)
        return _("%(first)s to %(last)s") % {"first": month_label(self.first), "last": month_label(self.last)}
