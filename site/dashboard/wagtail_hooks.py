from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component

from core.periods import month_label, month_of
from volunteers.scopes import scope_for

from .selectors import communities_of, month_summary


class StatisticsMenuItem(MenuItem):
    def is_shown(self, request):
        return scope_for(request.user).is_staff


@hooks.register("register_admin_menu_item")
def register_statistics_menu_item():
    return StatisticsMenuItem(
        gettext_lazy("Statistics"),
        reverse_lazy("dashboard:index"),
        name="statistics",
        icon_name="table",
        order=50,
    )


class MonthSummaryPanel(Component):
    """This month's figures of the staff member's area, at the top of the admin home page."""

    name = "statistics_summary"
    template_name = "dashboard/home_panel.html"
    order = 50

    class Media:
        css = {"all": ["dashboard/dashboard.css"]}

    def __init__(self, scope):
        self.scope = scope

    def get_context_data(self, parent_context=None):
        now = timezone.now()
        month = month_of(now)
        return {
            "figures": month_summary(communities=list(communities_of(self.scope)), month=month, now=now),
            "month": month_label(month),
            "url": reverse("dashboard:index"),
        }


@hooks.register("construct_homepage_panels")
def add_month_summary_panel(request, panels):
    scope = scope_for(request.user)
    if scope.is_staff:
        panels.append(MonthSummaryPanel(scope))
