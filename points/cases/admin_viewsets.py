"""The back office for per-case rewards in the Wagtail admin: the reward category table, the streets'
yearly budgets (with spent, reserved and remaining points), cases to verify and close, and rewards to
approve or reject (appeals included).

Built with core.admin_kit: each screen's `ScopedPermissionPolicy` asks the scope rule, so a
staff member lists and decides only what is placed in their area, and anything else answers 404.
Decisions go through services.py (which checks the scope again, under its locks).
"""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy
from wagtail.admin.forms.models import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.viewsets.base import ViewSetGroup

from core.admin_kit import (
    Decision,
    ScopedModelViewSet,
    ScopedObjectView,
    ScopedPermissionPolicy,
    StackedColumn,
    StackedTitleColumn,
    register_policies,
)
from volunteers.models import Street
from volunteers.scopes import ANY_STAFF, DISTRICT_ADMIN, STREET_UP, SUPERUSER_ONLY, scope_for

from . import selectors, services
from .models import Budget, Case, CaseEvent, Contributor, Reward, RewardCategory, RewardEvent, RewardShare

# The back office's staff group carries no model permissions for these models (volunteers'
# ensure_staff_group lists only its own); the staff role and the scope rule decide, as for people.
POLICIES = {
    RewardCategory: ScopedPermissionPolicy(
        RewardCategory,
        actions={
            "view": ANY_STAFF,
            "add": DISTRICT_ADMIN,
            "change": DISTRICT_ADMIN,
            "delete": SUPERUSER_ONLY,
        },
        scoped=False,
        model_perms=False,
    ),
    Budget: ScopedPermissionPolicy(
        Budget,
        actions={"view": STREET_UP, "add": DISTRICT_ADMIN, "change": DISTRICT_ADMIN},
        model_perms=False,
    ),
    # "change" on a case or a reward means deciding it, through the services.
    Case: ScopedPermissionPolicy(Case, actions={"view": ANY_STAFF, "change": ANY_STAFF}, model_perms=False),
    Reward: ScopedPermissionPolicy(
        Reward, actions={"view": ANY_STAFF, "change": ANY_STAFF}, model_perms=False
    ),
}
register_policies(POLICIES)


class _CasesViewSet(ScopedModelViewSet):
    policies = POLICIES


# --- forms ---------------------------------------------------------------------------------------------
class RewardCategoryForm(WagtailAdminModelForm):
    class Meta:
        model = RewardCategory
        fields = ["name", "kind", "points", "split", "description", "active", "sort_order"]


class BudgetForm(WagtailAdminModelForm):
    class Meta:
        model = Budget
        fields = ["street", "year", "amount"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only streets of the editor's district (the save is checked against the scope again).
        self.fields["street"].queryset = scope_for(self.for_user).changeable(
            Street.objects.select_related("district")
        )


# --- review pages --------------------------------------------------------------------------------------
class CaseReviewView(ScopedObjectView):
    template_name = "cases/admin/case_review.html"
    object_kwarg = "case_id"
    actions = {
        "verify": Decision(
            services.do_verify_case, gettext_lazy("Verify"), gettext_lazy("Verified: %(object)s.")
        ),
        "close": Decision(
            services.do_close_case,
            gettext_lazy("Close and propose the reward"),
            gettext_lazy("Closed: %(object)s. Its reward now awaits approval."),
        ),
        "reject": Decision(
            services.do_reject_case,
            gettext_lazy("Reject"),
            gettext_lazy("Rejected: %(object)s."),
            reason_required=True,
            destructive=True,
        ),
    }

    def get_object_queryset(self):
        return Case.objects.select_related(
            "category", "grid__community__street", "reported_by"
        ).prefetch_related(
            "photos",
            Prefetch("contributors", queryset=Contributor.objects.select_related("person")),
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
        )

    def available_actions(self):
        if self.object.status == Case.Status.REPORTED:
            return ["verify", "reject"]
        if self.object.status == Case.Status.VERIFIED:
            return ["close", "reject"]
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["reward"] = Reward.objects.filter(case=self.object).first()
        return context


class RewardReviewView(ScopedObjectView):
    template_name = "cases/admin/reward_review.html"
    object_kwarg = "reward_id"
    actions = {
        "approve": Decision(
            services.do_approve_reward,
            gettext_lazy("Approve and pay"),
            gettext_lazy("Approved: %(object)s. The points were posted."),
        ),
        "reject": Decision(
            services.do_reject_reward,
            gettext_lazy("Reject"),
            gettext_lazy("Rejected: %(object)s."),
            reason_required=True,
            destructive=True,
        ),
        "approve_appeal": Decision(
            services.do_approve_reward,
            gettext_lazy("Uphold the appeal and pay"),
            gettext_lazy("Appeal upheld: %(object)s. The points were posted."),
        ),
        "reject_appeal": Decision(
            services.do_reject_reward,
            gettext_lazy("Reject the appeal (final)"),
            gettext_lazy("Appeal rejected: %(object)s."),
            reason_required=True,
            destructive=True,
        ),
    }

    def get_object_queryset(self):
        return Reward.objects.select_related(
            "case__category", "case__grid__community", "street"
        ).prefetch_related(
            Prefetch("shares", queryset=RewardShare.objects.select_related("person", "entry")),
            Prefetch("events", queryset=RewardEvent.objects.select_related("actor")),
        )

    def available_actions(self):
        if self.object.status == Reward.Status.PENDING:
            return ["approve", "reject"]
        if self.object.status == Reward.Status.APPEALED:
            return ["approve_appeal", "reject_appeal"]
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["budget"] = selectors.budget_for_reward(self.object)
        return context


# --- viewsets ------------------------------------------------------------------------------------------
class RewardCategoryViewSet(_CasesViewSet):
    model = RewardCategory
    name = "reward_categories"
    icon = "list-ol"
    menu_label = gettext_lazy("Reward table")
    form_class = RewardCategoryForm
    list_display = [
        StackedTitleColumn(
            "name",
            label=gettext_lazy("Category"),
            accessor="name",
            sort_key="name",
            secondary=lambda c: c.get_kind_display(),
        ),
        Column("points", label=gettext_lazy("Points"), sort_key="points"),
        Column("split", label=gettext_lazy("Split"), accessor="get_split_display"),
        Column("active", label=gettext_lazy("Offered"), accessor="active"),
    ]
    list_filter = ["kind", "active"]
    ordering = ["kind", "sort_order", "name"]


class BudgetViewSet(_CasesViewSet):
    model = Budget
    name = "reward_budgets"
    icon = "doc-full"
    menu_label = gettext_lazy("Reward budgets")
    form_class = BudgetForm
    queryset = selectors.budgets_with_figures()
    list_display = [
        StackedTitleColumn(
            "street", label=gettext_lazy("Street"), accessor="street.name", sort_key="street__name"
        ),
        Column("year", label=gettext_lazy("Year"), sort_key="year"),
        Column("amount", label=gettext_lazy("Budget"), sort_key="amount"),
        Column("spent", label=gettext_lazy("Spent"), sort_key="spent"),
        Column("reserved", label=gettext_lazy("Awaiting approval"), sort_key="reserved"),
        Column("remaining", label=gettext_lazy("Remaining"), sort_key="remaining"),
    ]
    list_filter = ["year"]
    ordering = ["-year", "street__code"]


class CaseViewSet(_CasesViewSet):
    edit_item_label = gettext_lazy("Review")
    model = Case
    name = "case_reports"
    icon = "clipboard-list"
    menu_label = gettext_lazy("Incidents and cases")
    queryset = Case.objects.select_related("category", "grid__community", "reported_by")
    list_display = [
        StackedTitleColumn(
            "title",
            label=gettext_lazy("Case"),
            accessor="title",
            sort_key="title",
            secondary=lambda case: f"{case.get_kind_display()} · {case.category.name}",
        ),
        StackedColumn(
            "grid",
            label=gettext_lazy("Grid"),
            accessor="grid.name",
            secondary=lambda case: case.grid.community.name,
        ),
        DateColumn("created_at", label=gettext_lazy("Reported"), sort_key="created_at"),
        StatusTagColumn(
            "status",
            label=gettext_lazy("Status"),
            accessor="get_status_display",
            primary=lambda case: case.status in (Case.Status.REPORTED, Case.Status.VERIFIED),
        ),
    ]
    list_filter = ["status", "kind"]
    search_fields = ["title", "description"]
    ordering = ["-created_at"]

    @property
    def edit_view(self):
        return self.construct_view(CaseReviewView, **self.get_common_view_kwargs())


class RewardViewSet(_CasesViewSet):
    edit_item_label = gettext_lazy("Decide")
    model = Reward
    name = "case_rewards"
    icon = "pick"
    menu_label = gettext_lazy("Rewards")
    queryset = Reward.objects.select_related("case__grid__community", "street")
    list_display = [
        StackedTitleColumn(
            "case",
            label=gettext_lazy("Case"),
            accessor="case.title",
            sort_key="case__title",
            secondary=lambda reward: f"{reward.case.grid.name} · {reward.street.name} {reward.year}",
        ),
        Column("amount", label=gettext_lazy("Points"), sort_key="amount"),
        DateColumn("created_at", label=gettext_lazy("Proposed"), sort_key="created_at"),
        StatusTagColumn(
            "status",
            label=gettext_lazy("Status"),
            accessor="get_status_display",
            primary=lambda reward: reward.status in Reward.RESERVED,
        ),
    ]
    list_filter = ["status", "year"]
    search_fields = ["case__title"]
    ordering = ["-created_at"]

    @property
    def edit_view(self):
        return self.construct_view(RewardReviewView, **self.get_common_view_kwargs())


class CaseRewards(ViewSetGroup):
    menu_label = gettext_lazy("Case rewards")
    menu_icon = "pick"
    menu_order = 160
    items = (CaseViewSet, RewardViewSet, BudgetViewSet, RewardCategoryViewSet)
