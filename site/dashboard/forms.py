"""The dashboard's filters: which community of the staff member's area, and which months."""

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .periods import FIRST_YEAR, MAX_MONTHS, Period, month_key, month_of, months_between

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
