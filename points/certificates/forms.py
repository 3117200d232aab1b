"""Forms of the certificate pages: choosing the period of a new certificate, and typing a number to check."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import exceptions
from .services import EARLIEST, check_period

THIS_YEAR, LAST_YEAR, CUSTOM = "this_year", "last_year", "custom"
PERIOD_KINDS = (THIS_YEAR, LAST_YEAR, CUSTOM)


def resolve_period(kind: str, start: dt.date | None = None, end: dt.date | None = None):
    """(start, end) of a named period ("this_year": 1 January to today; "last_year": the whole of last year)
    or of the dates given for "custom". Raises InvalidPeriod."""
    today = timezone.localdate()
    if kind == THIS_YEAR:
        return dt.date(today.year, 1, 1), today
    if kind == LAST_YEAR:
        return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    if kind == CUSTOM and start is not None and end is not None:
        return check_period(start, end)
    raise exceptions.InvalidPeriod()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class IssueForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Service period"),
        choices=[
            (THIS_YEAR, _("This year so far")),
            (LAST_YEAR, _("Last year")),
            (CUSTOM, _("Dates I choose")),
        ],
        initial=THIS_YEAR,
        widget=forms.RadioSelect,
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("To (included)"), required=False, widget=DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate().isoformat()
        for name in ("start", "end"):
            self.fields[name].widget.attrs.update({"min": EARLIEST.isoformat(), "max": today})

    def clean(self):
        data = super().clean()
        kind = data.get("period")
        if kind != CUSTOM:
            if kind:
                data["range"] = resolve_period(kind)
            return data
        start, end = data.get("start"), data.get("end")
        if "start" not in self.errors and start is None:
            self.add_error("start", _("Give the first day."))
        if "end" not in self.errors and end is None:
            self.add_error("end", _("Give the last day."))
        if start is None or end is None:
            return data
        today = timezone.localdate()
        if start > end:
            self.add_error("end", _("The last day cannot be before the first day."))
        elif end > today:
            self.add_error("end", _("The period can end today at the latest."))
        elif start < EARLIEST:
            self.add_error("start", _("Choose a first day in %(year)s or later.") % {"year": EARLIEST.year})
        else:
            data["range"] = (start, end)
        return data


class VerifyForm(forms.Form):
    number = forms.CharField(
        label=_("Certificate number"),
        max_length=60,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "GZ-2026-ABCD2345",
                "inputmode": "text",
            }
        ),
        help_text=_("Printed at the top right of the certificate, e.g. GZ-2026-ABCD2345."),
    )
