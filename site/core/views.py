from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import notifications, search
from .forms import NotificationPreferencesForm
from .models import Notification
from .params import positive_int
from .text import one_line


@login_required
def inbox(request):
    page = Paginator(
        Notification.objects.filter(recipient=request.user).only(
            "title", "body", "url", "created_at", "read_at", "category"
        ),
        20,
    ).get_page(request.GET.get("page"))
    return render(request, "core/inbox.html", {"page": page})


@login_required
@require_POST
def inbox_read(request):
    raw = request.POST.get("id")
    if not raw:  # "mark all as read"
        notifications.mark_read(person=request.user)
    elif (notification_id := positive_int(raw)) is not None:  # an id of nothing marks nothing
        notifications.mark_read(person=request.user, notification_id=notification_id)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/inbox/"
    return HttpResponseRedirect(target or "/inbox/")


@require_POST
def toggle_large_text(request):
    """Elder-friendly large text: remembered on the account when signed in, in the session otherwise."""
    enabled = request.POST.get("enabled") == "1"
    request.session["large_text"] = enabled
    if request.user.is_authenticated and request.user.large_text != enabled:
        request.user.large_text = enabled
        request.user.save(update_fields=["large_text"])
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)


def scan(request):
    """The in-page QR scanner; it opens only links of this site (see static/js/scan.js)."""
    site = urlsplit(settings.SITE_URL)
    return render(request, "core/scan.html", {"allowed_origins": [f"{site.scheme}://{site.netloc}"]})


def privacy(request):
    return render(request, "core/privacy.html")


@login_required
def notification_settings(request):
    """The person's channels, choices per category and quiet hours."""
    person = request.user
    form = NotificationPreferencesForm(request.POST or None, person=person)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        notifications.do_save_preferences(
            person=person,
            actor=request.user,
            categories=form.categories(),
            quiet_hours=data["quiet_hours"],
            quiet_start=data["quiet_start"],
            quiet_end=data["quiet_end"],
            notify_sms=data["notify_sms"],
            notify_email=data["notify_email"],
        )
        messages.success(request, _("Your notification settings have been saved."))
        return redirect("core:notification_settings")
    return render(
        request,
        "core/notification_settings.html",
        {"form": form, "digest_hour": "20:00"},
        status=400 if form.errors else 200,
    )


SEARCH_PER_KIND = 5
SEARCH_PAGE = 20


def site_search(request):
    """/search/?q=…: notices, services and grid tasks the visitor may see, grouped by kind; with
    &kind=… one kind, paged. Any query is answered with a page (no match, bad input: an empty list)."""
    query = one_line(request.GET.get("q"), search.MAX_QUERY_CHARS)
    kind = request.GET.get("kind", "")
    if kind not in search.KINDS:
        kind = ""
    page = positive_int(request.GET.get("page"), most=9_999) or 1
    words = search.segment_query(query)
    if kind:
        groups = search.search(
            viewer=request.user, query=query, kinds=[kind], limit=SEARCH_PAGE, offset=(page - 1) * SEARCH_PAGE
        )
    else:
        groups = search.search(viewer=request.user, query=query, limit=SEARCH_PER_KIND)
    for group in groups:
        group.rows = [
            (hit, search.highlight(hit.title, words), search.highlight(hit.text, words, width=60))
            for _obj, hit in group.hits
        ]
    group = groups[0] if kind and groups else None
    pages = {}
    if group is not None:
        last = max((group.count - 1) // SEARCH_PAGE + 1, 1)
        pages = {
            "number": page,
            "last": last,
            "previous": page - 1 if page > 1 else None,
            "next": page + 1 if page < last else None,
        }
    return render(
        request,
        "core/search.html",
        {
            "query": query,
            "kind": kind,
            "kinds": list(search.KINDS.values()),
            "groups": groups,
            "total": sum(g.count for g in groups),
            "searched": bool(words),
            "pages": pages,
        },
    )
