"""What every page of figures shares (the staff dashboard, the services insight, reports to come): tables of
typed columns with an optional chart, grouped per calendar month (Asia/Shanghai) or per community by one
aggregate query each, the filter form (a community of the viewer's area and a run of months), and the
XLSX of a list of tables, so a page, its charts and its download always show the same numbers.
"""

import re
from dataclasses import dataclass
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from . import xlsx
from .periods import FIRST_YEAR, MAX_MONTHS, Period, month_key, month_of, months_between, zone

# --- the shape of the results ------------------------------------------------------------------------
TEXT, COUNT, HOURS, RATING, PERCENT = "text", "count", "hours", "rating", "percent"
DECIMALS = {HOURS: 1, RATING: 2, PERCENT: 1}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = COUNT


@dataclass(frozen=True)
class Chart:
    """How a table is drawn: `series` are column keys drawn as bars (stacked or side by side), `lines`
    are column keys drawn as lines on a second axis (a different unit, such as hours)."""

    series: tuple[str, ...]
    lines: tuple[str, ...] = ()
    stacked: bool = False
    horizontal: bool = False


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]  # the first column labels the row (a month, a community, a kind)
    rows: list[list]
    total: list | None = None
    note: str = ""
    chart: Chart | None = None

    @property
    def drawable(self) -> bool:
        """Whether a chart says anything: an empty period gets its table of zeros, not blank axes."""
        if self.chart is None:
            return False
        index = {column.key: i for i, column in enumerate(self.columns)}
        return any(row[index[key]] for row in self.rows for key in (*self.chart.series, *self.chart.lines))

    def chart_data(self) -> dict | None:
        """What dashboard.js needs to draw the chart: the same numbers as the table's rows."""
        if not self.drawable:
            return None
        index = {column.key: i for i, column in enumerate(self.columns)}

        def series(keys, kind):
            return [
                {
                    "key": key,
                    "label": str(self.columns[index[key]].label),
                    "data": [row[index[key]] for row in self.rows],
                    "kind": kind,
                }
                for key in keys
            ]

        return {
            "id": self.key,
            "labels": [str(row[0]) for row in self.rows],
            "datasets": series(self.chart.series, "bar") + series(self.chart.lines, "line"),
            "stacked": self.chart.stacked,
            "horizontal": self.chart.horizontal,
        }


# --- grouping --------------------------------------------------------------------------------------------
def within(path: str, period: Period) -> Q:
    """Rows whose moment `path` falls in `period`."""
    return Q(**{f"{path}__gte": period.start, f"{path}__lt": period.end})


def per_month(queryset: QuerySet, path: str, period: Period, aggregates: dict) -> dict[date, dict]:
    """One query: `aggregates` for each month of `period`, by the month `path` (a moment) falls in."""
    rows = (
        queryset.filter(within(path, period))
        .annotate(bucket_month=TruncMonth(path, tzinfo=zone()))
        .order_by()
        .values("bucket_month")
        .annotate(**aggregates)
    )
    return {month_of(row["bucket_month"]): row for row in rows}


def per_community(queryset: QuerySet, place, aggregates: dict) -> dict[int, dict]:
    """One query: `aggregates` for each community, `place` being the lookup (or expression) of its id."""
    place = F(place) if isinstance(place, str) else place
    rows = (
        queryset.annotate(bucket_community=place).order_by().values("bucket_community").annotate(**aggregates)
    )
    return {row["bucket_community"]: row for row in rows}


# --- the filters -----------------------------------------------------------------------------------------
_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


class MonthField(forms.CharField):
    """A calendar month typed or picked as YYYY-MM (browsers without a month picker show a text box)."""

    default_error_messages = {"invalid": _("Enter a month as YYYY-MM, for example 2026-03.")}

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "maxlength": 7})
        )
        super().__init__(**kwargs)

    def to_python(self, value) -> date | None:
        value = super().to_python(value)
        if not value:
            return None
        match = _MONTH_RE.match(value)
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < FIRST_YEAR:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return date(int(match.group(1)), int(match.group(2)), 1)

    def prepare_value(self, value):
        return month_key(value) if isinstance(value, date) else value


class FilterForm(forms.Form):
    """Which community of the viewer's area (`communities`, already narrowed by the caller) and which
    months; a valid form has `cleaned_data["period"]`."""

    community = forms.ModelChoiceField(
        label=_("Community"),
        queryset=None,
        required=False,
        to_field_name="code",
        empty_label=_("All communities of my area"),
        error_messages={"invalid_choice": _("Choose one of the communities of your area.")},
    )
    start = MonthField(label=_("From month"), required=False)
    end = MonthField(label=_("To month"), required=False)

    def __init__(self, data=None, *, communities, now=None):
        super().__init__(data)
        self.fields["community"].queryset = communities
        self.current_month = month_of(now or timezone.now())

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        end = cleaned.get("end") or self.current_month
        start = cleaned.get("start") or Period.ending(end).first
        if end > self.current_month:
            raise ValidationError(_("The period cannot end after the current month."), code="future")
        if start > end:
            raise ValidationError(_("The first month must not come after the last one."), code="order")
        if months_between(start, end) > MAX_MONTHS:
            raise ValidationError(
                _("Choose at most %(months)d months.") % {"months": MAX_MONTHS}, code="too_long"
            )
        cleaned["period"] = Period(start, end)
        return cleaned


# --- the XLSX of a page's tables -------------------------------------------------------------------------
# Rows above the header: the table's title, what it covers, then a blank line.
HEADER_ROW = 4
_NUMBER_FORMATS = {kind: "0." + "0" * places for kind, places in DECIMALS.items()} | {COUNT: "0"}


def _write_table(sheet: xlsx.Sheet, table: Table, caption: str) -> None:
    sheet.write(1, 1, str(table.title)).font = Font(bold=True, size=13)
    sheet.write(2, 1, caption)
    for col, column in enumerate(table.columns, start=1):
        sheet.write(HEADER_ROW, col, str(column.label)).font = Font(bold=True)
        width = max(len(str(column.label)) * 2, 10) if col > 1 else 24
        sheet.ws.column_dimensions[get_column_letter(col)].width = min(width, 40)
    rows = [*table.rows, *([table.total] if table.total else [])]
    for offset, row in enumerate(rows, start=1):
        is_total = table.total is not None and offset == len(rows)
        for col, (column, value) in enumerate(zip(table.columns, row, strict=True), start=1):
            cell = sheet.write(HEADER_ROW + offset, col, value)
            if column.kind != TEXT and value is not None:
                cell.number_format = _NUMBER_FORMATS[column.kind]
            if is_total:
                cell.font = Font(bold=True)
    if table.note:
        sheet.write(HEADER_ROW + len(rows) + 2, 1, str(table.note))
    sheet.ws.freeze_panes = sheet.ws.cell(row=HEADER_ROW + 1, column=2)


def tables_workbook(tables: list[Table], *, caption: str) -> xlsx.Workbook:
    """One worksheet per table; `caption` says whose figures and which months."""
    book = xlsx.Workbook()
    for table in tables:
        _write_table(book.sheet(table.title), table, caption)
    return book
