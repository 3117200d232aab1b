"""The points back office in the Wagtail admin: rules (with a preview of what a rule gives and why),
holidays, attendance awards (approve, reject, reverse), the ledger (read-only, filtered, exported to
XLSX), staff adjustments and the reconciliation reports.

Built with core.admin_kit, like every back-office screen: awards are scoped by
the grid of the attendance, ledger entries by the person's home grid. Rules and holidays apply to the
whole district, so every staff member may read them and district admins change them. The staff group
carries no model permissions for these models (`model_perms=False`): the staff role and the scope decide.
Every change goes through points.services.
"""

import uuid
from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail.admin import messages
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.forms.models import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.widgets.button import Button

from core import xlsx
from core.admin_kit import (
    Decision,
    ScopedIndexView,
    ScopedModelViewSet,
    ScopedObjectView,
    ScopedPermissionPolicy,
    ScopedViewMixin,
    StackedColumn,
    StackedDateColumn,
    StackedTitleColumn,
    register_policies,
)
from core.exceptions import GongzhiError
from core.phones import display_cn_mobile, normalize_cn_mobile
from core.text import one_line
from volunteers.gridtasks.models import Attendance
from volunteers.models import Community, DutyCategory, Grid, User
from volunteers.scopes import ANY_STAFF, DISTRICT_ADMIN, scope_for

from .models import Account, Award, Entry, Holiday, PointsRule, ReconciliationReport
from .services import awards as award_services
from .services import rules as rule_services

_DISTRICT_DATA = {
    "view": ANY_STAFF,
    "add": DISTRICT_ADMIN,
    "change": DISTRICT_ADMIN,
    "delete": DISTRICT_ADMIN,
}

POLICIES = {
    PointsRule: ScopedPermissionPolicy(PointsRule, actions=_DISTRICT_DATA, scoped=False, model_perms=False),
    Holiday: ScopedPermissionPolicy(Holiday, actions=_DISTRICT_DATA, scoped=False, model_perms=False),
    Award: ScopedPermissionPolicy(Award, actions={"view": ANY_STAFF, "change": ANY_STAFF}, model_perms=False),
    # "add" on the ledger is a staff adjustment (an entry posted through the service), never an edit.
    Entry: ScopedPermissionPolicy(Entry, actions={"view": ANY_STAFF, "add": ANY_STAFF}, model_perms=False),
    ReconciliationReport: ScopedPermissionPolicy(
        ReconciliationReport, actions={"view": DISTRICT_ADMIN}, scoped=False, model_perms=False
    ),
}
register_policies(POLICIES)


class PointsViewSet(ScopedModelViewSet):
    policies = POLICIES


def _managed_communities(request):
    grids = scope_for(request.user).managed_grids()
    return Community.objects.filter(grids__in=grids.values("pk")).distinct()


# --- rules and holidays -----------------------------------------------------------------------------------
class PointsRuleForm(WagtailAdminModelForm):
    class Meta:
        model = PointsRule
        fields = [
            "name",
            "category",
            "active",
            "basis",
            "base_points",
            "points_per_hour",
            "min_minutes",
            "night_multiplier",
            "night_starts",
            "night_ends",
            "holiday_multiplier",
            "identity_multipliers",
            "daily_cap",
            "monthly_cap",
            "needs_approval",
        ]


class HolidayForm(WagtailAdminModelForm):
    class Meta:
        model = Holiday
        fields = ["date", "name"]


def _multipliers(rule):
    parts = []
    if rule.night_multiplier != 1:
        parts.append(_("night × %(m)s") % {"m": rule.night_multiplier})
    if rule.holiday_multiplier != 1:
        parts.append(_("holiday × %(m)s") % {"m": rule.holiday_multiplier})
    if rule.identity_multipliers:
        parts.append(_("identity"))
    return ", ".join(parts) or "—"


class PointsRuleIndexView(ScopedIndexView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["preview_url"] = reverse("points_rules:preview")
        return context

    @cached_property
    def header_more_buttons(self):
        return [
            *super().header_more_buttons,
            Button(_("Preview points"), url=reverse("points_rules:preview"), icon_name="view", priority=50),
        ]


def _attendance_label(attendance) -> str:
    task = attendance.signup.task
    return f"{task.title} · {attendance.signup.person.name} · {timezone.localtime(task.starts_at):%Y-%m-%d}"


class PreviewForm(forms.Form):
    attendance = forms.ModelChoiceField(
        label=gettext_lazy("Attendance"),
        queryset=Attendance.objects.none(),
        required=False,
        help_text=gettext_lazy(
            "A finished attendance in your area; or leave it empty and fill in the fields below."
        ),
    )
    phone = forms.CharField(
        label=gettext_lazy("Person's mobile number (optional)"), required=False, max_length=20
    )
    category = forms.ModelChoiceField(
        label=gettext_lazy("Duty category"), queryset=DutyCategory.objects.all(), required=False
    )
    start = forms.DateTimeField(label=gettext_lazy("Start"), required=False)
    end = forms.DateTimeField(label=gettext_lazy("End"), required=False)
    minutes = forms.IntegerField(
        label=gettext_lazy("Verified minutes"), required=False, min_value=0, max_value=24 * 60
    )
    task_points = forms.IntegerField(
        label=gettext_lazy("Task points"), required=False, min_value=0, max_value=100_000, initial=0
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        grids = Grid.objects.all() if user.is_superuser else scope_for(user).managed_grids()
        self.fields["attendance"].queryset = (
            Attendance.objects.filter(finalised_at__isnull=False, signup__task__grid__in=grids.values("pk"))
            .select_related("signup__task", "signup__person")
            .order_by("-finalised_at", "-pk")
        )
        self.fields["attendance"].label_from_instance = _attendance_label

    def clean_phone(self):
        raw = self.cleaned_data["phone"].strip()
        if not raw:
            return None
        phone = normalize_cn_mobile(raw)
        people = (
            User.objects.all()
            if self.user.is_superuser
            else scope_for(self.user).changeable(User.objects.all())
        )
        person = people.filter(phone=phone).first() if phone else None
        if person is None:
            raise ValidationError(_("Nobody in your area has this mobile number."))
        return person

    def clean(self):
        data = super().clean()
        if data.get("attendance") or self.errors:
            return data
        missing = [name for name in ("start", "end") if not data.get(name)]
        for name in missing:
            self.add_error(name, _("Give the start and end, or choose an attendance."))
        if not missing and data["end"] <= data["start"]:
            self.add_error("end", _("The end must be after the start."))
        elif not missing and data["end"] - data["start"] > timedelta(days=1):
            self.add_error("end", _("An attendance lasts at most a day."))
        return data


class RulePreviewView(ScopedViewMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    """Which rule gives how many points for an attendance, and why, step by step. Changes nothing."""

    permission_policy = POLICIES[PointsRule]
    permission_required = "view"
    template_name = "points/admin/rule_preview.html"
    page_title = gettext_lazy("Preview points")
    header_icon = "view"
    form_class = PreviewForm

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("points_rules:index"), "label": capfirst(PointsRule._meta.verbose_name_plural)},
            {"url": "", "label": self.page_title},
        ]

    def get_form_kwargs(self):
        kwargs = {"user": self.request.user, "initial": self.get_initial(), "prefix": None}
        if self.request.GET:
            kwargs["data"] = self.request.GET
        return kwargs

    def get(self, request, *args, **kwargs):
        form = self.get_form()
        context = {"form": form}
        status = 200
        if form.is_bound:
            if form.is_valid():
                context["result"], context["rule"] = self.compute(form.cleaned_data)
                context["steps"] = [
                    {"text": rule_services.describe(step), "points": step["points"]}
                    for step in context["result"].explanation()
                ]
            else:
                status = 400
        return self.render_to_response(self.get_context_data(**context), status=status)

    def compute(self, data):
        if attendance := data.get("attendance"):
            result = rule_services.preview_attendance(attendance)
        else:
            person = data.get("phone")
            minutes = data.get("minutes")
            if minutes is None:
                minutes = int((data["end"] - data["start"]).total_seconds() // 60)
            category = data.get("category")
            result = rule_services.preview_manual(
                person_id=person.pk if person else None,
                category_id=category.pk if category else None,
                start=data["start"],
                end=data["end"],
                minutes=minutes,
                task_points=data.get("task_points") or 0,
            )
        rule = PointsRule.objects.filter(pk=result.rule_id).first() if result.rule_id else None
        return result, rule


class PointsRuleViewSet(PointsViewSet):
    model = PointsRule
    name = "points_rules"
    icon = "cog"
    form_class = PointsRuleForm
    index_view_class = PointsRuleIndexView
    queryset = PointsRule.objects.select_related("category")
    list_display = [
        StackedTitleColumn(
            "name",
            label=gettext_lazy("Rule"),
            accessor="name",
            sort_key="name",
            secondary=lambda rule: rule.category or _("Default for every category"),
        ),
        StackedColumn(
            "basis",
            label=gettext_lazy("Base points"),
            accessor="get_basis_display",
            secondary=_multipliers,
        ),
        StackedColumn(
            "active",
            label=gettext_lazy("Status"),
            accessor=lambda rule: _("Active") if rule.active else _("Inactive"),
            secondary=lambda rule: _("Held for approval") if rule.needs_approval else _("Automatic"),
        ),
    ]
    ordering = ["category__sort_order", "category__code", "name"]

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("preview/", RulePreviewView.as_view(), name="preview"),
        ]


class HolidayViewSet(PointsViewSet):
    model = Holiday
    name = "points_holidays"
    icon = "date"
    form_class = HolidayForm
    list_display = ["name", DateColumn("date", label=gettext_lazy("Date"), sort_key="date")]
    ordering = ["-date"]


# --- awards -----------------------------------------------------------------------------------------------
class AwardReviewView(ScopedObjectView):
    template_name = "points/admin/award_review.html"
    object_kwarg = "award_id"
    actions = {
        "approve": Decision(
            award_services.do_approve_award, gettext_lazy("Approve"), gettext_lazy("Approved: %(object)s.")
        ),
        "reject": Decision(
            award_services.do_reject_award,
            gettext_lazy("Reject"),
            gettext_lazy("Rejected: %(object)s."),
            reason_required=True,
            destructive=True,
        ),
        "reverse": Decision(
            award_services.do_reverse_award,
            gettext_lazy("Reverse"),
            gettext_lazy("Reversed: %(object)s."),
            reason_required=True,
            destructive=True,
        ),
    }

    def get_object_queryset(self):
        return Award.objects.select_related(
            "person", "grid__community", "category", "rule", "decided_by", "points_entry", "minutes_entry"
        ).prefetch_related("events__actor")

    def available_actions(self):
        if self.object.status == Award.Status.PENDING:
            return ["approve", "reject"]
        if self.object.status == Award.Status.POSTED:
            return ["reverse"]
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["phone"] = display_cn_mobile(self.object.person.phone)
        context["steps"] = [
            {"text": rule_services.describe(step), "points": step.get("points", "")}
            for step in self.object.explanation or []
        ]
        if self.object.attendance_id:
            context["preview_url"] = (
                reverse("points_rules:preview") + f"?attendance={self.object.attendance_id}"
            )
        return context


class AwardFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(label=gettext_lazy("Status"), choices=Award.Status.choices)
    category = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Duty category"), queryset=DutyCategory.objects.all()
    )
    community = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Community"), field_name="grid__community", queryset=_managed_communities
    )

    class Meta:
        model = Award
        fields = []


class AwardViewSet(PointsViewSet):
    edit_item_label = gettext_lazy("Review")
    model = Award
    name = "points_awards"
    icon = "pick"
    menu_label = gettext_lazy("Attendance awards")
    queryset = Award.objects.select_related("person", "grid__community", "category")
    list_display = [
        StackedTitleColumn(
            "person",
            label=gettext_lazy("Person"),
            accessor="person.name",
            sort_key="person__name",
            secondary=lambda award: award.task_title,
        ),
        StackedColumn(
            "points",
            label=gettext_lazy("Points"),
            accessor="points",
            sort_key="points",
            secondary=lambda award: _("%(minutes)s min") % {"minutes": award.minutes},
        ),
        StackedDateColumn(
            "worked_on",
            label=gettext_lazy("Date"),
            sort_key="worked_on",
            secondary=lambda award: award.get_status_display(),
        ),
        Column("grid", label=gettext_lazy("Grid"), accessor="grid"),
    ]
    filterset_class = AwardFilterSet
    search_fields = ["person__name", "person__phone", "task_title"]
    ordering = ["-created_at"]

    @property
    def edit_view(self):
        return self.construct_view(AwardReviewView, **self.get_common_view_kwargs())


# --- the ledger -------------------------------------------------------------------------------------------
class LedgerFilterSet(WagtailFilterSet):
    kind = django_filters.ChoiceFilter(label=gettext_lazy("Kind"), choices=Entry.Kind.choices)
    unit = django_filters.ChoiceFilter(
        label=gettext_lazy("Account"), field_name="account__unit", choices=Account.Unit.choices
    )
    created_at = django_filters.DateFromToRangeFilter(
        label=gettext_lazy("Date"), widget=DateRangePickerWidget, method="filter_dates"
    )
    community = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Community"),
        field_name="account__person__home_grid__community",
        queryset=_managed_communities,
    )

    class Meta:
        model = Entry
        fields = []

    def filter_dates(self, queryset, name, value):
        # Whole local days, both ends included.
        if value.start:
            queryset = queryset.filter(created_at__gte=_local_midnight(value.start))
        if value.stop:
            queryset = queryset.filter(created_at__lt=_local_midnight(value.stop) + timedelta(days=1))
        return queryset


def _local_midnight(day):
    if isinstance(day, datetime):
        day = timezone.localtime(day).date() if timezone.is_aware(day) else day.date()
    return timezone.make_aware(datetime.combine(day, time.min))


LEDGER_COLUMNS = [
    (gettext_lazy("Time"), lambda e: timezone.localtime(e.created_at).replace(tzinfo=None)),
    (gettext_lazy("Person"), lambda e: e.account.person.name),
    (gettext_lazy("Mobile number"), lambda e: display_cn_mobile(e.account.person.phone)),
    (gettext_lazy("Community"), lambda e: _community(e)),
    (gettext_lazy("Account"), lambda e: e.account.get_unit_display()),
    (gettext_lazy("Kind"), lambda e: e.get_kind_display()),
    (gettext_lazy("Amount"), lambda e: e.amount),
    (gettext_lazy("Balance after"), lambda e: e.balance_after),
    (gettext_lazy("Reason"), lambda e: e.reason),
    (gettext_lazy("Source"), lambda e: e.source),
    (gettext_lazy("By"), lambda e: e.actor.name if e.actor else ""),
    (gettext_lazy("Key"), lambda e: e.key),
]


def _community(entry):
    grid = entry.account.person.home_grid
    return grid.community.name if grid else ""


class LedgerIndexView(ScopedIndexView):
    """The ledger, read-only. `?format=xlsx` (the "Download XLSX" button) exports what the filters show,
    every page of it."""

    export_chunk = 2000

    @cached_property
    def header_more_buttons(self):
        params = self.request.GET.copy()
        params.pop("p", None)
        params["format"] = "xlsx"
        return [
            *super().header_more_buttons,
            Button(_("Download XLSX"), url=f"{self.request.path}?{params.urlencode()}", icon_name="download"),
        ]

    def get(self, request, *args, **kwargs):
        if request.GET.get("format") != "xlsx":
            return super().get(request, *args, **kwargs)
        if self.filters is not None and not self.filters.is_valid():
            return HttpResponseBadRequest(
                _("Check the filters: %(errors)s") % {"errors": self.filters.errors.as_text()}
            )
        return self.xlsx(self.get_queryset())

    def xlsx(self, queryset):
        book = xlsx.Workbook(streaming=True)
        sheet = book.sheet(_("Ledger"))
        sheet.append([str(label) for label, _value in LEDGER_COLUMNS])
        # One query, read in chunks: memory and query count do not grow with the ledger.
        for entry in queryset.iterator(chunk_size=self.export_chunk):
            sheet.append([value(entry) for _label, value in LEDGER_COLUMNS])
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return book.response(f"ledger-{stamp}.xlsx")


class AdjustForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Person's mobile number"), max_length=20)
    unit = forms.ChoiceField(
        label=gettext_lazy("Account"), choices=Account.Unit.choices, initial=Account.Unit.POINTS
    )
    amount = forms.IntegerField(
        label=gettext_lazy("Amount"),
        min_value=-10_000_000,
        max_value=10_000_000,
        help_text=gettext_lazy("Positive adds, negative takes away."),
    )
    reason = forms.CharField(label=gettext_lazy("Reason (the person will see it)"), max_length=200)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise ValidationError(_("The amount must be a whole number other than zero."))
        return amount

    def clean_reason(self):
        reason = one_line(self.cleaned_data["reason"])
        if not reason:
            raise ValidationError(_("Give the person a reason."))
        return reason

    def clean_phone(self):
        phone = normalize_cn_mobile(self.cleaned_data["phone"].strip())
        people = (
            User.objects.all()
            if self.user.is_superuser
            else scope_for(self.user).changeable(User.objects.all())
        )
        person = people.filter(phone=phone).first() if phone else None
        if person is None:
            raise ValidationError(_("Nobody in your area has this mobile number."))
        return person


class AdjustView(ScopedViewMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    """A staff correction: an adjustment entry with a reason, through the service. The form carries a
    key made when it was shown, so submitting it twice posts once."""

    model = Entry
    permission_policy = None
    index_url_name = None
    header_icon = ""
    permission_required = "add"
    form_class = AdjustForm
    template_name = "points/admin/adjust.html"
    page_title = gettext_lazy("Adjust points")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        return {"key": uuid.uuid4().hex}

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": capfirst(Entry._meta.verbose_name_plural)},
            {"url": "", "label": self.page_title},
        ]

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            posted = award_services.do_adjust_points(
                person_id=data["phone"].pk,
                amount=data["amount"],
                unit=data["unit"],
                reason=data["reason"],
                actor=self.request.user,
                key=data["key"],
            )
        except GongzhiError as error:
            form.add_error(None, str(error.message))
            return self.render_to_response(self.get_context_data(form=form), status=error.status)
        messages.success(
            self.request,
            _("Posted %(amount)+d for %(name)s; balance %(balance)s.")
            % {
                "amount": posted.entry.amount,
                "name": data["phone"].name,
                "balance": posted.entry.balance_after,
            },
        )
        return redirect(self.index_url_name)


class LedgerViewSet(PointsViewSet):
    model = Entry
    name = "points_ledger"
    icon = "list-ul"
    menu_label = gettext_lazy("Points ledger")
    index_view_class = LedgerIndexView
    queryset = Entry.objects.select_related("account__person__home_grid__community", "actor")
    list_display = [
        StackedColumn(
            "person",
            label=gettext_lazy("Person"),
            accessor="account.person.name",
            secondary=lambda e: display_cn_mobile(e.account.person.phone),
            secondary_nowrap=True,
        ),
        StackedColumn(
            "amount",
            label=gettext_lazy("Amount"),
            accessor=lambda e: f"{e.amount:+d}",
            sort_key="amount",
            secondary=lambda e: f"{e.account.get_unit_display()} · {e.get_kind_display()}",
        ),
        StackedDateColumn(
            "created_at", label=gettext_lazy("Time"), sort_key="created_at", secondary=lambda e: e.reason
        ),
        Column("balance_after", label=gettext_lazy("Balance after")),
    ]
    filterset_class = LedgerFilterSet
    search_fields = ["account__person__name", "account__person__phone"]
    ordering = ["-created_at", "-id"]

    @property
    def add_view(self):
        return self.construct_view(AdjustView, **self.get_common_view_kwargs())


# --- reconciliation ---------------------------------------------------------------------------------------
class ReconciliationViewSet(PointsViewSet):
    model = ReconciliationReport
    name = "points_reconciliation"
    icon = "success"
    inspect_view_enabled = True
    list_display = [
        DateColumn("ran_at", label=gettext_lazy("Ran at"), sort_key="ran_at"),
        Column(
            "ok", label=gettext_lazy("Everything adds up"), accessor=lambda r: _("Yes") if r.ok else _("No")
        ),
        Column("accounts_checked", label=gettext_lazy("Accounts checked")),
        Column(
            "differences",
            label=gettext_lazy("Differences"),
            accessor=lambda r: len(r.balance_differences) + len(r.chain_breaks),
        ),
    ]
    inspect_view_fields = [
        "ran_at",
        "ok",
        "accounts_checked",
        "entries_checked",
        "balance_differences",
        "chain_breaks",
    ]
    ordering = ["-ran_at"]


class PointsGroup(ViewSetGroup):
    menu_label = gettext_lazy("Points")
    menu_icon = "pick"
    menu_order = 160
    items = (AwardViewSet, LedgerViewSet, PointsRuleViewSet, HolidayViewSet, ReconciliationViewSet)
