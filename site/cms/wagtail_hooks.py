"""Wagtail admin hooks for notices: the scope rule on top of Wagtail's page permissions, access to
attachments, and the reading-rates screens."""

from django.http import Http404
from django.urls import include, path, reverse, reverse_lazy
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.auth import permission_denied
from wagtail.admin.menu import MenuItem
from wagtail.admin.widgets import Button

from volunteers.scopes import scope_for

from . import admin_views, selectors
from .models import NoticeAttachment, NoticeIndexPage, NoticePage
from .moderation import covered_notices, covers


def _refuse_outside_scope(request, page):
    # Wagtail's page permissions cover the whole notice index; a staff member acts only on the notices
    # whose places lie in their own area.
    if page.specific_class is NoticePage and not covers(request.user, page.specific_deferred):
        return permission_denied(request)
    return None


@hooks.register("before_edit_page")
def refuse_edit_outside_scope(request, page):
    # `page` is the latest revision as edited, so a draft's own targets are checked.
    if isinstance(page, NoticePage) and not covers(request.user, page):
        return permission_denied(request)
    return None


@hooks.register("before_publish_page")
def refuse_publish_outside_scope(request, page):
    if isinstance(page, NoticePage) and not covers(request.user, page):
        return permission_denied(request)
    return None


hooks.register("before_delete_page", _refuse_outside_scope)
hooks.register("before_copy_page", _refuse_outside_scope)
hooks.register("before_unpublish_page", _refuse_outside_scope)


@hooks.register("before_move_page")
def refuse_move_outside_scope(request, page, destination):
    return _refuse_outside_scope(request, page)


@hooks.register("construct_explorer_page_queryset")
def only_notices_in_scope(parent_page, pages, request):
    if parent_page.specific_class is NoticeIndexPage:
        pages = pages.filter(pk__in=covered_notices(request.user, NoticePage.objects.all()).values("pk"))
    return pages


@hooks.register("before_serve_document")
def attachments_follow_their_notices(document, request):
    """A document attached to notices is served only to someone who may read one of those notices, or to
    staff in the back office. Others get "not found", as for the notice itself."""
    notice_ids = list(NoticeAttachment.objects.filter(document=document).values_list("page_id", flat=True))
    if not notice_ids:
        return None
    user = request.user
    if user.is_authenticated and user.has_perm("wagtailadmin.access_admin") and scope_for(user).is_staff:
        return None
    if selectors.visible_notices(viewer=user).filter(pk__in=notice_ids).exists():
        return None
    raise Http404


# --- reading rates -------------------------------------------------------------------------------------
@hooks.register("register_admin_urls")
def register_reading_urls():
    return [
        path("notice-reading/", include((admin_views.urlpatterns, "cms_reading"), namespace="cms_reading"))
    ]


class StaffMenuItem(MenuItem):
    def is_shown(self, request):
        return scope_for(request.user).is_staff


@hooks.register("register_admin_menu_item")
def register_reading_menu_item():
    return StaffMenuItem(
        gettext_lazy("Notice reading"),
        reverse_lazy("cms_reading:index"),
        name="notice-reading",
        icon_name="doc-full",
        order=860,
    )


def _rates_button(page, user, priority):
    if page.specific_class is not NoticePage or not scope_for(user).is_staff or not page.first_published_at:
        return []
    return [
        Button(
            gettext_lazy("Reading rates"),
            url=reverse("cms_reading:rates", args=[page.pk]),
            icon_name="doc-full",
            priority=priority,
        )
    ]


@hooks.register("register_page_listing_more_buttons")
def reading_rates_listing_button(page, user, next_url=None):
    yield from _rates_button(page, user, priority=45)


@hooks.register("register_page_header_buttons")
def reading_rates_header_button(page, user, view_name, next_url=None):
    yield from _rates_button(page, user, priority=62)
