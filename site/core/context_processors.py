from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .notifications import unread_count

# The bottom tab bar. A tab appears once its page exists (reverse() succeeds).
TABS = [
    ("home", _("Home"), "/"),
    ("service", _("Services"), "services:catalogue"),
    ("tasks", _("Tasks"), "gridtasks:list"),
    ("scan", _("Scan"), "core:scan"),
    ("points", _("Points"), "points:mine"),
    ("me", _("Me"), "volunteers:profile"),
]


def _tabs(request):
    tabs = []
    for key, label, name in TABS:
        try:
            url = name if name.startswith("/") else reverse(name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        tabs.append({"key": key, "label": label, "url": url, "active": active})
    return tabs


def site_chrome(request):
    user = getattr(request, "user", None)
    large = request.session.get("large_text", False) if hasattr(request, "session") else False
    unread = 0
    if user is not None and user.is_authenticated:
        large = user.large_text
        unread = unread_count(user)
    return {"tabs": _tabs(request), "large_text": large, "unread_count": unread}
