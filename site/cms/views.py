"""Plain Django views of the cms app (page views are the pages' own serve methods)."""

from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from .models import NoticeIndexPage


@require_GET
def notices(request):
    """A fixed address for the notice list, wherever staff put the page: menus link here without a
    query on every page they appear on."""
    index = NoticeIndexPage.objects.live().first()
    if index is None:
        raise Http404
    return redirect(index.url)
