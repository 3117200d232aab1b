"""Template helpers for the sign-up, sign-in and SMS-code pages (templates/account, templates/allauth)."""

from django import template
from django.conf import settings

from core.phones import display_cn_mobile

register = template.Library()


@register.simple_tag
def sms_resend_cooldown() -> int:
    """Seconds the "request a new code" button stays disabled; the server's rate limit is the real guard."""
    return int(getattr(settings, "SMS_RESEND_COOLDOWN", 60))


@register.simple_tag
def sms_goes_to_console() -> bool:
    """True in the demo, where the "SMS" is printed in the terminal that runs the site."""
    return bool(settings.DEBUG) and settings.SMS_BACKEND == "core.sms.ConsoleBackend"


@register.filter
def phone_display(value) -> str:
    """+8613800138000 → 138 0013 8000, for a person's own number on their own screen."""
    text = str(value or "")
    return display_cn_mobile(text) if text.startswith("+86") else text


@register.filter
def group_by(value, size: int = 4) -> str:
    """ABCDEFGH → "ABCD EFGH": a long key someone must type is easier to read in groups."""
    text = str(value or "")
    size = max(int(size), 1)
    return " ".join(text[i : i + size] for i in range(0, len(text), size))
