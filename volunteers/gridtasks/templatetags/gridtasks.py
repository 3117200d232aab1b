"""Small display helpers for the grid-task pages: a task's time span, durations, status colours."""

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ..models import SignUp

register = template.Library()

# Sign-up and attendance statuses → the badge colours of the design system (site.css).
_BADGE = {
    "confirmed": "badge-ok",
    "attended": "badge-ok",
    "final": "badge-ok",
    "waitlisted": "badge-wait",
    "offered": "badge-wait",
    "present": "badge-wait",
    "flagged": "badge-bad",
    "no_show": "badge-bad",
    "cancelled": "badge-bad",
    "expired": "badge-bad",
    "draft": "badge-wait",
    "published": "badge-ok",
}


@register.filter
def signup_label(status) -> str:
    try:
        return SignUp.Status(status).label
    except ValueError:
        return ""


@register.filter
def badge_class(status) -> str:
    return _BADGE.get(str(status), "")


def _day(value) -> str:
    return f"{formats.date_format(value, 'MONTH_DAY_FORMAT')} {formats.date_format(value, 'D')}"


@register.filter
def when(task) -> str:
    """ "11月22日 星期日 19:00–23:00"; a span past midnight says so ("次日 03:00")."""
    start, end = timezone.localtime(task.starts_at), timezone.localtime(task.ends_at)
    text = f"{_day(start)} {start:%H:%M}–"
    if end.date() == start.date():
        return text + f"{end:%H:%M}"
    if (end.date() - start.date()).days == 1:
        return text + _("next day %(time)s") % {"time": f"{end:%H:%M}"}
    return text + f"{_day(end)} {end:%H:%M}"


@register.filter
def day_time(value) -> str:
    if not value:
        return ""
    value = timezone.localtime(value)
    return f"{_day(value)} {value:%H:%M}"


@register.filter
def hhmm(value) -> str:
    return f"{timezone.localtime(value):%H:%M}" if value else ""


@register.filter
def duration(minutes) -> str:
    """Minutes as "3小时20分钟" / "3 h 20 min"."""
    if minutes is None:
        return ""
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)d h") % {"h": hours}
    return _("%(m)d min") % {"m": rest}


@register.filter
def hours(minutes) -> str:
    """Minutes as hours with one decimal, for totals."""
    return f"{(minutes or 0) / 60:.1f}"
