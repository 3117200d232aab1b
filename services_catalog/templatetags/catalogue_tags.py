"""Display helpers of the residents' service pages (catalogue, service page, my orders, order page)."""

from django import template
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.masking import mask_name

register = template.Library()

# Order statuses → the badge colours of the design system (site.css): waiting is amber, done green.
_ORDER_BADGE = {
    "ordered": "badge-wait",
    "dispatched": "badge-wait",
    "accepted": "badge-info",
    "delivered": "badge-wait",
    "completed": "badge-ok",
    "closed": "",
    "cancelled": "badge-bad",
}


@register.filter
def order_badge(status) -> str:
    return _ORDER_BADGE.get(str(status), "")


@register.filter
def stars(rating) -> str:
    """4.4 → "★★★★☆" (rounded to whole stars); empty when there is no rating."""
    if rating is None or rating == "":
        return ""
    full = max(0, min(5, round(float(rating))))
    return "★" * full + "☆" * (5 - full)


@register.filter
def one_decimal(value) -> str:
    return "" if value is None else f"{float(value):.1f}"


@register.filter
def weekday_names(days) -> str:
    """[0, 2, 4] → "星期一、星期三、星期五"; a run of three or more days reads as a span ("星期一至星期五"),
    all seven as "every day"."""
    days = sorted({d for d in (days or []) if d in WEEKDAYS_ABBR})
    if len(days) == 7:
        return _("Every day")
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return _("%(first)s to %(last)s") % {"first": WEEKDAYS_ABBR[days[0]], "last": WEEKDAYS_ABBR[days[-1]]}
    return _(", ").join(str(WEEKDAYS_ABBR[d]) for d in days)


@register.filter
def masked(name) -> str:
    return mask_name(str(name or ""))


@register.filter
def percent_of(part, whole) -> int:
    """The share of `part` in `whole`, 0–100, for rating bars."""
    try:
        return round(100 * int(part) / int(whole)) if int(whole) else 0
    except (TypeError, ValueError):
        return 0


@register.filter
def price_label(kind) -> str:
    """A service's price kind in the catalogue's words (its own context: "Paid" means other things
    elsewhere on the site)."""
    labels = {
        "free": pgettext("service price", "Free"),
        "subsidised": pgettext("service price", "Subsidised"),
        "paid": pgettext("service price", "Paid"),
    }
    return labels.get(str(kind), "")
