"""Forms of the reward pages. The redeem form carries the idempotency key made when the page was shown,
so a double tap or a resent form redeems once."""

import datetime as dt
import re
import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .services import KEY_PATTERN

_MONTH = re.compile(r"(\d{4})-(\d{2})\Z")


class RedeemForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"key": uuid.uuid4().hex})
        super().__init__(*args, **kwargs)

    def clean_key(self):
        key = self.cleaned_data["key"]
        if not KEY_PATTERN.match(key):
            raise forms.ValidationError(_("The form is out of date. Open the item again."))
        return key


class HandOverForm(forms.Form):
    code = forms.CharField(
        label=_("Short code"),
        max_length=500,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "class": "code-input",
                "placeholder": "ABCD-2345",
            }
        ),
        help_text=_("Scan the person's QR code, or type the 8-character code shown under it."),
    )


def parse_month(value: str | None) -> tuple[int, int] | None:
    """ "2026-03" → (2026, 3); None for anything else (or a month out of range)."""
    match = _MONTH.match(value or "")
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return year, month


def this_month() -> tuple[int, int]:
    today = timezone.localdate()
    return today.year, today.month


def month_label(year: int, month: int) -> str:
    return dt.date(year, month, 1).strftime("%Y-%m")
