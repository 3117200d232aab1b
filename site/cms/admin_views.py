"""Back-office screens for notices: how far each notice has been read and acknowledged, per grid, within
the staff member's own area. Wagtail wraps these URLs in its admin-access check; the views also require
a staff post."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.urls import path, reverse
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from volunteers.scopes import scope_for

from . import selectors

PAGE_SIZE = 30


class StaffOnlyMixin:
    def dispatch(self, request, *args, **kwargs):
        if not scope_for(request.user).is_staff:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ReadingIndexView(StaffOnlyMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "cms/admin/reading_index.html"
    page_title = gettext_lazy("Notice reading")
    header_icon = "doc-full"

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        notices = selectors.notices_for_staff(actor=self.request.user)
        context["notices"] = Paginator(notices, PAGE_SIZE).get_page(self.request.GET.get("p"))
        return context


class ReadingRatesView(StaffOnlyMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "cms/admin/reading_rates.html"
    header_icon = "doc-full"

    def dispatch(self, request, *args, **kwargs):
        self.notice = selectors.notices_for_staff(actor=request.user).filter(pk=kwargs["pk"]).first()
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return self.notice.title if self.notice else ""

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("cms_reading:index"), "label": ReadingIndexView.page_title},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        if self.notice is None:
            # Not a notice, or one whose targets do not reach into this staff member's area.
            raise Http404
        context = super().get_context_data(**kwargs)
        rates = selectors.reading_rates(notice=self.notice, actor=self.request.user)
        # The whole area as one more row, so its percentages are computed as each grid's are.
        total = selectors.GridRate(
            grid_id=None,
            grid="",
            community="",
            targeted=sum(r.targeted for r in rates),
            read=sum(r.read for r in rates),
            acknowledged=sum(r.acknowledged for r in rates),
        )
        context.update(notice=self.notice, rates=rates, total=total)
        return context


urlpatterns = [
    path("", ReadingIndexView.as_view(), name="index"),
    path("<int:pk>/", ReadingRatesView.as_view(), name="rates"),
]
