"""Mainland-China mobile numbers: people type 11 digits; we store E.164 (+86…)."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_SEPARATORS = re.compile(r"[\s\-()（）]")
INVALID_PHONE = _("Enter an 11-digit mainland mobile number, e.g. 138 0013 8000.")


def normalize_cn_mobile(raw: str) -> str:
    """Return "+86" and the 11 digits, or raise ValidationError(code="invalid_phone")."""
    value = _SEPARATORS.sub("", str(raw or "")).replace("＋", "+")
    value = value.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    elif value.startswith("86") and len(value) == 13:
        value = value[2:]
    if not re.fullmatch(r"1[3-9]\d{9}", value):
        raise ValidationError(INVALID_PHONE, code="invalid_phone")
    parsed = phonenumbers.parse(value, "CN")
    if phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(INVALID_PHONE, code="invalid_phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display_cn_mobile(e164: str | None) -> str:
    """+8613800138000 → 138 0013 8000 (for the person's own view; public pages mask it)."""
    digits = (e164 or "").removeprefix("+86")
    if len(digits) != 11:
        return digits
    return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
