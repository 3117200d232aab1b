"""Back office: notifications that could not be delivered by SMS or email, for staff to see and resend.

The inbox message is never lost; this list is about the extra channels. Staff see deliveries to the
people in their scope only.
"""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import path, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import notifications
from .exceptions import GongzhiError
from .params import positive_int
from .scoping import scope_for


class FailedDeliveriesView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "core/admin/failed_deliveries.html"
    page_title = gettext_lazy("Undelivered notifications")
    header_icon = "warning"

    def dispatch(self, request, *args, **kwargs):
        if not scope_for(request.user).is_staff:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["page"] = Paginator(notifications.failed_for(self.request.user), 50).get_page(
            self.request.GET.get("p")
        )
        context["max_attempts"] = notifications.MAX_ATTEMPTS
        return context

    def post(self, request):
        delivery_id = positive_int(request.POST.get("delivery"))
        try:
            if delivery_id is None:
                raise GongzhiError(_("Choose a message to send again."))
            notifications.do_retry_delivery(delivery_id=delivery_id, actor=request.user)
        except GongzhiError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The message is being sent again."))
        return redirect("core_failed_deliveries")


class StaffMenuItem(MenuItem):
    def is_shown(self, request):
        return scope_for(request.user).is_staff


@hooks.register("register_admin_urls")
def register_failed_deliveries_url():
    return [path("notifications/failed/", FailedDeliveriesView.as_view(), name="core_failed_deliveries")]


@hooks.register("register_admin_menu_item")
def register_failed_deliveries_menu_item():
    return StaffMenuItem(
        gettext_lazy("Undelivered notifications"),
        reverse_lazy("core_failed_deliveries"),
        name="failed-deliveries",
        icon_name="warning",
        order=880,
    )
