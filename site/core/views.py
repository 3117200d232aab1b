from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import notifications
from .models import Notification


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
    notification_id = int(raw) if raw and raw.isdigit() else None
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
    from urllib.parse import urlsplit

    from django.conf import settings

    site = urlsplit(settings.SITE_URL)
    return render(request, "core/scan.html", {"allowed_origins": [f"{site.scheme}://{site.netloc}"]})


def privacy(request):
    return render(request, "core/privacy.html")
