"""The dashboard page and its XLSX exports, in the Wagtail admin, for staff of the area they serve.

Access: signed-in people without a staff post get a 403 (the page tells them it is outside what they may
see) rather than Wagtail's redirect to its sign-in page, which would suggest that signing in again helps.
Staff then pass Wagtail's own admin check (`require_admin_access`: admin permission, the admin's language)
and, before all this, the staff MFA middleware. A staff member sees the communities of their posts only;
asking for another community is a 400 with the form's message.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View
from wagtail.admin.auth import reject_request, require_admin_access
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from core.periods import Period, add_months, month_key, month_of
from core.reports import FilterForm, tables_workbook
from volunteers.scopes import Scope, scope_for

from .selectors import Report, build_report, communities_of


def access_dashboard(user) -> Scope:
    """The scope of a staff member; anyone else is refused."""
    scope = scope_for(user)
    if not scope.is_staff:
        raise PermissionDenied
    return scope


def staff_only(view):
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return reject_request(request)
        access_dashboard(request.user)
        return require_admin_access(view)(request, *args, **kwargs)

    return guarded


class FilteredMixin:
    """Reads the filters and computes the report (`load`); `self.report` is None when they are invalid."""

    def load(self) -> None:
        self.now = timezone.now()
        self.scope = access_dashboard(self.request.user)
        self.communities = communities_of(self.scope)
        self.form = FilterForm(self.request.GET, communities=self.communities, now=self.now)
        self.report: Report | None = None
        if self.form.is_valid():
            chosen = self.form.cleaned_data["community"]
            period = self.form.cleaned_data["period"]
            # Show the months actually counted in the form, also when they were left empty (the default).
            self.form.data = {
                **self.form.data.dict(),
                "start": month_key(period.first),
                "end": month_key(period.last),
            }
            self.report = build_report(
                communities=[chosen] if chosen else list(self.communities),
                period=period,
                now=self.now,
            )

    def filter_query(self, **changes) -> str:
        """The current filters (as typed, valid or not dropped) with `changes`, as a query string."""
        params = {key: self.request.GET.get(key, "") for key in ("community", "start", "end")}
        params.update(changes)
        return urlencode({key: value for key, value in params.items() if value})

    def caption(self) -> str:
        report = self.report
        if len(report.communities) == 1:
            where = report.communities[0].name
        else:
            where = _("%(count)d communities of my area") % {"count": len(report.communities)}
        return _("%(where)s · %(period)s") % {"where": where, "period": report.period.label}


class DashboardView(FilteredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "dashboard/index.html"
    page_title = gettext_lazy("Statistics")
    header_icon = "table"

    def get(self, request, *args, **kwargs):
        self.load()
        context = self.get_context_data()
        return self.render_to_response(context, status=200 if self.report else 400)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def presets(self) -> list[dict]:
        this_month = month_of(self.now)
        year_start = this_month.replace(month=1)
        last_year = year_start.replace(year=year_start.year - 1)
        choices = [
            (_("Last 12 months"), Period.ending(this_month)),
            (_("This year"), Period(year_start, this_month)),
            (_("Last year"), Period(last_year, add_months(year_start, -1))),
        ]
        current = self.report.period if self.report else None
        return [
            {
                "label": label,
                "url": "?" + self.filter_query(start=month_key(period.first), end=month_key(period.last)),
                "current": period == current,
            }
            for label, period in choices
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(form=self.form, report=self.report, presets=self.presets())
        if self.report is None:
            context["errors"] = [str(error) for errors in self.form.errors.values() for error in errors]
            return context
        export_url = reverse("dashboard:export")
        query = self.filter_query()
        context.update(
            caption=self.caption(),
            export_all_url=f"{export_url}?{query}",
            export_urls={key: f"{export_url}?{self.filter_query(table=key)}" for key in self.report.tables},
            charts=[data for table in self.report.tables.values() if (data := table.chart_data())],
        )
        return context


class ExportView(FilteredMixin, View):
    """`?table=<key>`: that table; without it, every table of the page, one worksheet each."""

    def get(self, request):
        self.load()
        if self.report is None:
            # The same message the page would show, as plain text: the link was edited by hand.
            errors = "; ".join(str(error) for errors in self.form.errors.values() for error in errors)
            return HttpResponse(
                _("Check the filters: %(errors)s") % {"errors": errors},
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        tables = self.report.tables
        key = request.GET.get("table", "")
        if key and key not in tables:
            raise Http404
        chosen = [tables[key]] if key else list(tables.values())
        period = self.report.period
        filename = (
            f"gongzhi-statistics-{key or 'all'}-{month_key(period.first)}-{month_key(period.last)}.xlsx"
        )
        return tables_workbook(chosen, caption=self.caption()).response(filename)
