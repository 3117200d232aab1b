"""The staff back office in the Wagtail admin: places, people, identities, organisations and staff posts.

Scope is enforced in one place, `ScopedPermissionPolicy`: every screen lists its rows through the policy
and checks the object it acts on through the policy, and the policy asks the scope rule
(volunteers.scopes) — the same rule the site and the API use. A row outside the staff member's area is
never listed and its pages answer 404. Identity decisions, organisation decisions, staff appointments and
profile edits go through volunteers.services; reference data and places are plain records edited here.

The back office lists what a staff member *manages* (`Scope.changeable`), not everything they may read:
grids and approved organisations are public, so `Scope.visible` would list the whole district.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass

import django_filters
from django import forms
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, ProtectedError, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.generic import FormView, TemplateView
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms.models import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import ButtonsColumnMixin, Column, DateColumn, StatusTagColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from core.exceptions import GongzhiError
from core.phones import display_cn_mobile, normalize_cn_mobile

from . import selectors, services
from .exceptions import UnknownPhone
from .models import (
    Community,
    District,
    DutyCategory,
    Grid,
    GridWorkerRole,
    IdentityClaim,
    IdentityEvent,
    IdentityKind,
    Organisation,
    OrganisationEvent,
    Skill,
    StaffPost,
    Street,
    User,
)
from .scopes import STAFF_ROLES, Role, scope_for

# --- the permission policy ---------------------------------------------------------------------------
ANY_STAFF = frozenset(STAFF_ROLES)
STREET_UP = frozenset({Role.STREET_STAFF, Role.DISTRICT_ADMIN})
DISTRICT_ADMIN = frozenset({Role.DISTRICT_ADMIN})
SUPERUSER_ONLY = frozenset()


class ScopedPermissionPolicy(ModelPermissionPolicy):
    """Who may do what with one model in the back office.

    `actions` maps each action the back office offers ("view", "add", "change", "delete") to the staff
    roles that may perform it at all; an empty set means superusers only, and an action that is not in
    the map is not offered to anyone (identity claims are never added or deleted here, for instance).
    A staff member also needs the model permission their group carries (see `ensure_staff_group`), and
    then, for a single object or a list, the scope rule decides: `Scope.changeable` / `Scope.can_change`.
    Reference data (`scoped=False`) has no place, so the role alone decides.
    """

    def __init__(self, model, *, actions, scoped=True, model_perms=True):
        super().__init__(model)
        self.actions = actions
        self.scoped = scoped
        self.model_perms = model_perms

    def user_has_permission(self, user, action):
        if not (user.is_authenticated and user.is_active) or action not in self.actions:
            return False
        if user.is_superuser:
            return True
        if not scope_for(user).roles & self.actions[action]:
            return False
        return not self.model_perms or super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        return not self.scoped or scope_for(user).can_change(instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(self.user_has_permission_for_instance(user, action, instance) for action in actions)

    def filter_queryset(self, user, queryset, actions):
        """`queryset` narrowed to the rows `user` may perform any of `actions` on."""
        if not self.user_has_any_permission(user, actions):
            return queryset.none()
        if not self.scoped:
            return queryset
        return scope_for(user).changeable(queryset)

    def instances_user_has_any_permission_for(self, user, actions):
        return self.filter_queryset(user, self.model._default_manager.all(), actions)

    def users_with_any_permission(self, actions):
        roles = frozenset().union(*(self.actions[a] for a in actions if a in self.actions))
        levels = [level for role, level in _ROLE_LEVEL.items() if role in roles]
        staff = Q(staff_posts__level__in=levels)
        if self.model_perms:
            staff &= self._get_users_with_any_permission_codenames_filter(
                self._get_permission_codenames(actions)
            )
        superusers = Q(is_superuser=True) if any(a in self.actions for a in actions) else Q(pk__in=[])
        return User.objects.filter((superusers | staff) & Q(is_active=True)).distinct()


_ROLE_LEVEL = {
    Role.COMMUNITY_STAFF: StaffPost.Level.COMMUNITY,
    Role.STREET_STAFF: StaffPost.Level.STREET,
    Role.DISTRICT_ADMIN: StaffPost.Level.DISTRICT,
}

_REFERENCE = {"view": ANY_STAFF, "add": DISTRICT_ADMIN, "change": DISTRICT_ADMIN, "delete": DISTRICT_ADMIN}

POLICIES = {
    # Places: staff edit the places of their area; deleting one (it carries people, claims, tasks) is
    # left to superusers.
    District: ScopedPermissionPolicy(
        District,
        actions={
            "view": DISTRICT_ADMIN,
            "change": DISTRICT_ADMIN,
            "add": SUPERUSER_ONLY,
            "delete": SUPERUSER_ONLY,
        },
    ),
    Street: ScopedPermissionPolicy(
        Street,
        actions={"view": STREET_UP, "change": STREET_UP, "add": DISTRICT_ADMIN, "delete": SUPERUSER_ONLY},
    ),
    Community: ScopedPermissionPolicy(
        Community,
        actions={"view": ANY_STAFF, "change": ANY_STAFF, "add": STREET_UP, "delete": SUPERUSER_ONLY},
    ),
    Grid: ScopedPermissionPolicy(
        Grid, actions={"view": ANY_STAFF, "change": ANY_STAFF, "add": ANY_STAFF, "delete": SUPERUSER_ONLY}
    ),
    DutyCategory: ScopedPermissionPolicy(DutyCategory, actions=_REFERENCE, scoped=False),
    GridWorkerRole: ScopedPermissionPolicy(GridWorkerRole, actions=_REFERENCE, scoped=False),
    Skill: ScopedPermissionPolicy(Skill, actions=_REFERENCE, scoped=False),
    # People register themselves (or come from a spreadsheet import), so nobody adds or deletes them
    # here. Staff are deliberately *not* given Django's change_user permission: Wagtail's own Users
    # screen grants everything to holders of that permission, including making someone a superuser.
    # The people screen therefore checks staff role + scope only.
    User: ScopedPermissionPolicy(User, actions={"view": ANY_STAFF, "change": ANY_STAFF}, model_perms=False),
    # "change" on a claim or an application means deciding it, through the services.
    IdentityClaim: ScopedPermissionPolicy(IdentityClaim, actions={"view": ANY_STAFF, "change": ANY_STAFF}),
    Organisation: ScopedPermissionPolicy(Organisation, actions={"view": ANY_STAFF, "change": ANY_STAFF}),
    # Posts are handed out from above (see services.do_appoint_staff); there is no dismissal service yet.
    StaffPost: ScopedPermissionPolicy(StaffPost, actions={"view": STREET_UP, "add": STREET_UP}),
}

for _model, _policy in POLICIES.items():
    # The user model keeps wagtail.users' ModelPermissionPolicy for Wagtail's Users screen (superusers
    # only, as staff hold no user permissions); our people screen passes its policy to its views itself.
    if _model is not User:
        register_permission_policy(_model, _policy)


def ensure_staff_group() -> Group:
    """The group every staff member is in: Wagtail admin access plus the model permissions the back
    office needs, which the scope rule then narrows to the member's area. Idempotent."""
    group, _created = Group.objects.get_or_create(name=services.STAFF_GROUP)
    wanted = Q(content_type__app_label="wagtailadmin", codename="access_admin")
    for model, policy in POLICIES.items():
        if not policy.model_perms:
            continue
        codenames = [
            get_permission_codename(action, model._meta) for action, roles in policy.actions.items() if roles
        ]
        wanted |= Q(content_type=ContentType.objects.get_for_model(model), codename__in=codenames)
    group.permissions.add(*Permission.objects.filter(wanted))
    return group


# --- views ---------------------------------------------------------------------------------------------
class ScopedViewMixin:
    """Reads rows through the viewset's policy. Out of scope is "not found", so the back office does not
    even confirm that a row exists elsewhere."""

    def scoped(self, queryset, *actions):
        return self.permission_policy.filter_queryset(self.request.user, queryset, actions)

    def check_instance(self, action, instance):
        if not self.permission_policy.user_has_permission_for_instance(self.request.user, action, instance):
            raise PermissionDenied


class ScopedIndexView(ScopedViewMixin, generic.IndexView):
    # Where an object's page is a decision page rather than a form, its row button says so.
    edit_item_label = None

    def get_base_queryset(self):
        return self.scoped(super().get_base_queryset(), "view")

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if self.edit_item_label:
            edit_url = self.get_edit_url(instance)
            for button in buttons:
                if button.url == edit_url:
                    button.label = self.edit_item_label
        return buttons

    @cached_property
    def columns(self):
        columns = list(super().columns)
        first = columns[0]
        if isinstance(first, TitleColumn) and not isinstance(first, ButtonsColumnMixin):
            # A title column written out in list_display (for a translated label or a related field)
            # still links to the object and carries its row buttons, like Wagtail's generated one.
            # (Copied and re-classed rather than rebuilt, so a subclass keeps its own arguments.)
            columns[0] = copy.copy(first)
            columns[0].__class__ = self._get_title_column_class(type(first))
            columns[0]._get_url_func = lambda obj: self.get_edit_url(obj) or self.get_inspect_url(obj)
        return columns


class _StatusOnInvalidForm:
    def form_invalid(self, form):
        response = super().form_invalid(form)
        if not self.expects_json_response:
            response.status_code = 400  # bad input is a 4xx, even when the page is shown again
        return response


class ScopedCreateView(ScopedViewMixin, _StatusOnInvalidForm, generic.CreateView):
    def save_instance(self):
        instance = super().save_instance()
        # The form offers only places in scope; this is the backstop (we are inside form_valid's
        # transaction, so refusing here rolls the insert back).
        self.check_instance("change", instance)
        return instance


class ScopedEditView(ScopedViewMixin, _StatusOnInvalidForm, generic.EditView):
    def get_queryset(self):
        return self.scoped(self.model._default_manager.all(), "change")

    def get_object(self, queryset=None):
        instance = super().get_object(queryset)
        self.check_instance("change", instance)
        return instance

    def save_instance(self):
        instance = super().save_instance()
        self.check_instance("change", instance)  # an edit may not move a row out of the editor's area
        return instance


class ScopedDeleteView(ScopedViewMixin, generic.DeleteView):
    def get_queryset(self):
        return self.scoped(self.model._default_manager.all(), "delete")

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ProtectedError:
            messages.error(
                self.request, _("%(object)s is still in use and cannot be deleted.") % {"object": self.object}
            )
            return redirect(self.index_url_name)


class ScopedInspectView(ScopedViewMixin, generic.InspectView):
    def get_object(self, queryset=None):
        queryset = self.scoped(self.model._default_manager.all(), "view")
        return get_object_or_404(queryset, pk=unquote(str(self.pk)))


class PersonEditView(ScopedEditView):
    template_name = "volunteers/admin/person_edit.html"

    def save_instance(self):
        person = services.do_update_profile(person=self.object, actor=self.request.user, form=self.form)
        self.check_instance("change", person)
        log(instance=person, action="wagtail.edit", user=self.request.user)
        return person

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        claims = POLICIES[IdentityClaim].filter_queryset(
            self.request.user, self.object.identity_claims.select_related("grid__community"), ["view"]
        )
        context["claims"] = claims.order_by("-created_at")
        context["phone"] = display_cn_mobile(self.object.phone)
        return context


@dataclass(frozen=True)
class Decision:
    """One button on a review page and the service it calls."""

    service: Callable
    label: str
    done: str  # success message, with %(object)s
    reason_required: bool = False
    destructive: bool = False


class ScopedObjectView(ScopedViewMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """A page about one object with decision buttons: GET shows it, POST runs one decision through a
    service. Subclasses list their `actions` (name → Decision) and name the services' keyword for the
    object's id in `object_kwarg`."""

    model = None
    object_kwarg = None
    permission_policy = None
    index_url_name = None
    edit_url_name = None
    header_icon = ""
    permission_required = "view"
    actions = {}

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = self.get_object()

    def get_object_queryset(self):
        return self.model._default_manager.all()

    def get_object(self):
        return get_object_or_404(self.scoped(self.get_object_queryset(), "view"), pk=self.kwargs["pk"])

    def get_page_title(self):
        return capfirst(self.model._meta.verbose_name) if self.model else ""

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": capfirst(self.model._meta.verbose_name_plural)},
            {"url": "", "label": str(self.object)},
        ]

    def available_actions(self):
        return []

    def get_forms(self, bound=None):
        """(name, Decision, form) for each decision open now; `bound`, a form that failed validation,
        stands in for its own."""
        return [
            (
                name,
                self.actions[name],
                bound
                if bound is not None and bound.prefix == name
                else DecisionForm(prefix=name, reason_required=self.actions[name].reason_required),
            )
            for name in self.available_actions()
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        context.setdefault("forms", self.get_forms())
        context["can_act"] = self.permission_policy.user_has_permission_for_instance(
            self.request.user, "change", self.object
        )
        return context

    def post(self, request, *args, **kwargs):
        self.check_instance("change", self.object)
        name = request.POST.get("action", "")
        if name not in self.actions:
            return HttpResponseBadRequest(_("Unknown action."))
        decision = self.actions[name]
        form = DecisionForm(request.POST, prefix=name, reason_required=decision.reason_required)
        if not form.is_valid():
            messages.error(request, _("Check the reason and try again."))
            return self.render_to_response(
                self.get_context_data(forms=self.get_forms(bound=form)), status=400
            )
        try:
            decision.service(
                **{self.object_kwarg: self.object.pk}, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except GongzhiError as error:
            # Most often someone else decided first: show the current state and why nothing happened.
            messages.error(request, str(error.message))
            self.object = self.get_object()
            return self.render_to_response(self.get_context_data(), status=error.status)
        messages.success(request, decision.done % {"object": self.object})
        return redirect(self.index_url_name)


class DecisionForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, reason_required=False, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        field.required = reason_required
        if reason_required:
            field.label = _("Reason (the person will see it)")
            field.error_messages["required"] = _("Give the person a reason.")
        else:
            field.label = _("Note (optional)")

    def clean_reason(self):
        return " ".join(self.cleaned_data["reason"].split())


class ClaimReviewView(ScopedObjectView):
    template_name = "volunteers/admin/claim_review.html"
    object_kwarg = "claim_id"
    actions = {
        "verify": Decision(
            services.do_verify_identity, gettext_lazy("Verify"), gettext_lazy("Verified: %(object)s.")
        ),
        "reject": Decision(
            services.do_reject_identity,
            gettext_lazy("Reject"),
            gettext_lazy("Rejected: %(object)s."),
            reason_required=True,
            destructive=True,
        ),
        "revoke": Decision(
            services.do_revoke_identity,
            gettext_lazy("Revoke"),
            gettext_lazy("Revoked: %(object)s."),
            reason_required=True,
            destructive=True,
        ),
    }

    def get_object_queryset(self):
        return IdentityClaim.objects.select_related(
            "person__home_grid__community", "grid__community", "decided_by"
        ).prefetch_related(Prefetch("events", queryset=IdentityEvent.objects.select_related("actor")))

    def available_actions(self):
        if self.object.status == IdentityClaim.Status.CLAIMED:
            return ["verify", "reject"]
        if self.object.status == IdentityClaim.Status.VERIFIED:
            return ["revoke"]
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["phone"] = display_cn_mobile(self.object.person.phone)
        return context


class OrganisationReviewView(ScopedObjectView):
    template_name = "volunteers/admin/organisation_review.html"
    object_kwarg = "organisation_id"
    actions = {
        "approve": Decision(
            services.do_approve_organisation, gettext_lazy("Approve"), gettext_lazy("Approved: %(object)s.")
        ),
        "reject": Decision(
            services.do_reject_organisation,
            gettext_lazy("Reject"),
            gettext_lazy("Rejected: %(object)s."),
            reason_required=True,
            destructive=True,
        ),
    }

    def get_object_queryset(self):
        return Organisation.objects.select_related("street", "community", "applied_by").prefetch_related(
            Prefetch("events", queryset=OrganisationEvent.objects.select_related("actor"))
        )

    def available_actions(self):
        if self.object.status == Organisation.Status.APPLIED:
            return ["approve", "reject"]
        if self.object.status == Organisation.Status.SUSPENDED:
            return ["approve"]
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["members"] = [
            (membership, display_cn_mobile(membership.person.phone))
            for membership in selectors.organisation_members(self.object)
        ]
        context["applicant_phone"] = display_cn_mobile(
            self.object.applied_by.phone if self.object.applied_by else ""
        )
        return context


class AppointStaffForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("Mobile number"),
        max_length=20,
        help_text=gettext_lazy("The person must have signed up already."),
    )
    level = forms.ChoiceField(label=gettext_lazy("Post"))
    community = forms.ModelChoiceField(
        label=gettext_lazy("Community"), queryset=Community.objects.none(), required=False
    )
    street = forms.ModelChoiceField(
        label=gettext_lazy("Street"), queryset=Street.objects.none(), required=False
    )
    district = forms.ModelChoiceField(
        label=gettext_lazy("District"), queryset=District.objects.none(), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        scope = scope_for(user)
        # Offer only the posts this person can hand out; services.do_appoint_staff has the final word
        # (street staff appoint community staff of their street, district admins street and community
        # staff, superusers anyone).
        if scope.superuser or scope.roles & STREET_UP:
            self.fields["community"].queryset = scope.changeable(Community.objects.select_related("street"))
        if scope.superuser or Role.DISTRICT_ADMIN in scope.roles:
            self.fields["street"].queryset = scope.changeable(Street.objects.all())
        if scope.superuser:
            self.fields["district"].queryset = District.objects.all()
        for level in StaffPost.Level.values:
            if not self.fields[level].queryset.exists():
                del self.fields[level]
        self.fields["level"].choices = [
            choice for choice in StaffPost.Level.choices if choice[0] in self.fields
        ]

    def clean_phone(self):
        phone = normalize_cn_mobile(self.cleaned_data["phone"])
        person = User.objects.filter(phone=phone, is_active=True).first()
        if person is None:
            raise ValidationError(UnknownPhone.default_message, code="unknown_phone")
        self.person = person
        return phone

    def clean(self):
        data = super().clean()
        level = data.get("level")
        if level and not data.get(level):
            self.add_error(level, _("Choose the place of this post."))
        elif level and hasattr(self, "person"):
            data["place"] = data[level]
            if StaffPost.objects.filter(person=self.person, level=level, **{level: data[level]}).exists():
                raise ValidationError(_("This person already holds this post."), code="duplicate_post")
        return data


class AppointStaffView(ScopedViewMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    model = StaffPost
    permission_policy = None
    index_url_name = None
    header_icon = ""
    permission_required = "add"
    form_class = AppointStaffForm
    template_name = "volunteers/admin/appoint_staff.html"
    page_title = gettext_lazy("Appoint staff")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": capfirst(StaffPost._meta.verbose_name_plural)},
            {"url": "", "label": self.page_title},
        ]

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        try:
            post = services.do_appoint_staff(
                person=form.person, actor=self.request.user, place=form.cleaned_data["place"]
            )
        except GongzhiError as error:
            form.add_error(None, str(error.message))
            return self.render_to_response(self.get_context_data(form=form), status=error.status)
        messages.success(
            self.request, _("Appointed: %(post)s, %(place)s.") % {"post": post, "place": post.place}
        )
        return redirect(self.index_url_name)


# --- forms for places and people ---------------------------------------------------------------------
class _ScopedParentForm(WagtailAdminModelForm):
    """A place's parent can only be one the editor manages (or the one it already has)."""

    parent_field = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields[self.parent_field]
        current = Q(pk=getattr(self.instance, f"{self.parent_field}_id", None) or 0)
        managed = scope_for(self.for_user).changeable(field.queryset.model._default_manager.all())
        field.queryset = field.queryset.filter(Q(pk__in=managed.values("pk")) | current)


class DistrictForm(WagtailAdminModelForm):
    class Meta:
        model = District
        fields = ["name", "code"]


class StreetForm(_ScopedParentForm):
    parent_field = "district"

    class Meta:
        model = Street
        fields = ["district", "name", "code"]


class CommunityForm(_ScopedParentForm):
    parent_field = "street"

    class Meta:
        model = Community
        fields = ["street", "name", "code", "kind"]


class GridForm(_ScopedParentForm):
    parent_field = "community"

    class Meta:
        model = Grid
        fields = ["community", "name", "code", "households", "party_org_kind", "party_org_name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = self.fields["community"].queryset.select_related("street")


class PersonForm(_ScopedParentForm):
    parent_field = "home_grid"

    class Meta:
        model = User
        fields = ["name", "home_grid", "skills"]
        widgets = {"skills": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Staff move people between the grids they manage; dropping someone's grid would drop them
        # out of everyone's area.
        self.fields["home_grid"].required = True
        self.fields["home_grid"].queryset = self.fields["home_grid"].queryset.select_related("community")


class DutyCategoryForm(WagtailAdminModelForm):
    class Meta:
        model = DutyCategory
        fields = ["code", "name", "description", "sort_order"]


class GridWorkerRoleForm(WagtailAdminModelForm):
    class Meta:
        model = GridWorkerRole
        fields = ["code", "name", "sort_order"]


class SkillForm(WagtailAdminModelForm):
    class Meta:
        model = Skill
        fields = ["name"]


# --- filters ---------------------------------------------------------------------------------------------
def _managed_grids(request):
    return scope_for(request.user).changeable(Grid.objects.select_related("community"))


def _managed_communities(request):
    return Community.objects.filter(grids__in=_managed_grids(request).values("pk")).distinct()


def _managed_streets(request):
    return Street.objects.filter(communities__grids__in=_managed_grids(request).values("pk")).distinct()


class GridFilterSet(WagtailFilterSet):
    street = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Street"), field_name="community__street", queryset=_managed_streets
    )
    community = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Community"), queryset=_managed_communities
    )

    class Meta:
        model = Grid
        fields = []


class PersonFilterSet(WagtailFilterSet):
    home_grid = django_filters.ModelChoiceFilter(label=gettext_lazy("Home grid"), queryset=_managed_grids)
    identity = django_filters.ChoiceFilter(
        label=gettext_lazy("Identity"),
        method="filter_identity",
        choices=[
            ("claimed", gettext_lazy("Has a claim awaiting verification")),
            ("verified", gettext_lazy("Has a verified identity")),
            ("none", gettext_lazy("No verified identity")),
        ],
    )
    kind = django_filters.ChoiceFilter(
        label=gettext_lazy("Verified identity"),
        method="filter_kind",
        choices=IdentityKind.choices,
    )

    class Meta:
        model = User
        fields = []

    def filter_identity(self, queryset, name, value):
        if value == "none":
            return queryset.exclude(identity_claims__status=IdentityClaim.Status.VERIFIED)
        return queryset.filter(identity_claims__status=value)

    def filter_kind(self, queryset, name, value):
        return queryset.filter(
            identity_claims__kind=value, identity_claims__status=IdentityClaim.Status.VERIFIED
        )


class ClaimFilterSet(WagtailFilterSet):
    ANY = "any"
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"),
        method="filter_status",
        empty_label=None,
        choices=[*IdentityClaim.Status.choices, (ANY, gettext_lazy("Any status"))],
    )
    kind = django_filters.ChoiceFilter(label=gettext_lazy("Identity"), choices=IdentityKind.choices)
    grid = django_filters.ModelChoiceFilter(label=gettext_lazy("Grid"), queryset=_managed_grids)

    class Meta:
        model = IdentityClaim
        fields = []

    def __init__(self, data=None, *args, **kwargs):
        # The screen is a queue: without a choice it shows the claims awaiting verification.
        if data is not None and not data.get("status"):
            data = data.copy()
            data["status"] = IdentityClaim.Status.CLAIMED
        super().__init__(data, *args, **kwargs)
        self.form.fields["status"].initial = IdentityClaim.Status.CLAIMED

    def filter_status(self, queryset, name, value):
        return queryset if value == self.ANY else queryset.filter(status=value)


class OrganisationFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(label=gettext_lazy("Status"), choices=Organisation.Status.choices)
    kind = django_filters.ChoiceFilter(label=gettext_lazy("Kind"), choices=Organisation.Kind.choices)

    class Meta:
        model = Organisation
        fields = []


class StaffPostFilterSet(WagtailFilterSet):
    level = django_filters.ChoiceFilter(label=gettext_lazy("Level"), choices=StaffPost.Level.choices)

    class Meta:
        model = StaffPost
        fields = []


# --- viewsets ----------------------------------------------------------------------------------------------
class _SecondaryLine:
    """A column whose cell carries a second, quieter line, so a list needs fewer columns on a phone."""

    def __init__(self, *args, secondary=None, secondary_nowrap=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.secondary = secondary
        self.secondary_nowrap = secondary_nowrap

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["secondary"] = self.secondary(instance) if self.secondary else ""
        return context


class StackedColumn(_SecondaryLine, Column):
    cell_template_name = "volunteers/admin/_cell.html"


class StackedTitleColumn(_SecondaryLine, TitleColumn):
    cell_template_name = "volunteers/admin/_title_cell.html"


class StackedDateColumn(_SecondaryLine, DateColumn):
    cell_template_name = "volunteers/admin/_date_cell.html"


def _phone(person):
    return display_cn_mobile(person.phone) if person else ""


def _place_of(post):
    return str(post.place)


class ScopedModelViewSet(ModelViewSet):
    """A ModelViewSet whose every view uses the model's ScopedPermissionPolicy."""

    index_view_class = ScopedIndexView
    add_view_class = ScopedCreateView
    edit_view_class = ScopedEditView
    delete_view_class = ScopedDeleteView
    inspect_view_class = ScopedInspectView
    copy_view_enabled = False
    # The reference index only serves the usage screens, which are not offered; keeping it would write
    # to it on every save of these models (every login, for people).
    add_to_reference_index = False
    form_class = None
    queryset = None
    edit_item_label = None

    @cached_property
    def permission_policy(self):
        return POLICIES[self.model]

    def get_common_view_kwargs(self, **kwargs):
        # Wagtail's history and usage screens look objects up without a scope: they are not offered.
        return super().get_common_view_kwargs(
            permission_policy=self.permission_policy, history_url_name=None, usage_url_name=None, **kwargs
        )

    def get_index_view_kwargs(self, **kwargs):
        if self.queryset is not None:
            kwargs.setdefault("queryset", self.queryset)
        kwargs.setdefault("edit_item_label", self.edit_item_label)
        return super().get_index_view_kwargs(**kwargs)

    def get_urlpatterns(self):
        hidden = {"history", "history_results", "usage"}
        return [pattern for pattern in super().get_urlpatterns() if pattern.name not in hidden]

    def get_form_class(self, for_update=False):
        return self.form_class

    @cached_property
    def menu_item_class(self):
        policy, any_permission = self.permission_policy, self.index_view_class.any_permission_required

        class ScopedMenuItem(MenuItem):
            def is_shown(self, request):
                return policy.user_has_any_permission(request.user, any_permission)

        return ScopedMenuItem


class DistrictViewSet(ScopedModelViewSet):
    model = District
    name = "districts"
    icon = "globe"
    form_class = DistrictForm
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


class StreetViewSet(ScopedModelViewSet):
    model = Street
    name = "streets"
    icon = "site"
    form_class = StreetForm
    queryset = Street.objects.select_related("district")
    list_display = ["name", "district", "code"]
    search_fields = ["name", "code"]


class CommunityViewSet(ScopedModelViewSet):
    model = Community
    name = "communities"
    icon = "home"
    form_class = CommunityForm
    queryset = Community.objects.select_related("street")
    list_display = ["name", "street", "kind", "code"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]


class GridViewSet(ScopedModelViewSet):
    model = Grid
    name = "grids"
    icon = "grid"
    form_class = GridForm
    queryset = Grid.objects.select_related("community__street")
    list_display = [
        StackedTitleColumn(
            "grid",
            label=gettext_lazy("Grid"),
            accessor="name",
            sort_key="name",
            secondary=lambda grid: f"{grid.community.name} · {grid.community.street.name}",
        ),
        Column("households", label=gettext_lazy("Households"), sort_key="households"),
        Column("party_org_name", label=gettext_lazy("Party organisation")),
    ]
    filterset_class = GridFilterSet
    search_fields = ["name", "code", "community__name", "party_org_name"]
    ordering = ["community__street__code", "community__code", "code"]


class DutyCategoryViewSet(ScopedModelViewSet):
    model = DutyCategory
    name = "duty_categories"
    icon = "list-ol"
    form_class = DutyCategoryForm
    list_display = ["name", "code", "sort_order"]
    ordering = ["sort_order", "code"]


class GridWorkerRoleViewSet(ScopedModelViewSet):
    model = GridWorkerRole
    name = "grid_worker_roles"
    icon = "tag"
    form_class = GridWorkerRoleForm
    list_display = ["name", "code", "sort_order"]
    ordering = ["sort_order", "code"]


class SkillViewSet(ScopedModelViewSet):
    model = Skill
    name = "skills"
    icon = "tasks"
    form_class = SkillForm
    list_display = ["name"]
    search_fields = ["name"]


def _verified_identities(person):
    return pgettext("list separator", ", ").join(claim.get_kind_display() for claim in person.verified_claims)


class PersonViewSet(ScopedModelViewSet):
    model = User
    name = "people"
    icon = "user"
    form_class = PersonForm
    edit_view_class = PersonEditView
    queryset = User.objects.select_related("home_grid__community").prefetch_related(
        Prefetch(
            "identity_claims",
            queryset=IdentityClaim.objects.filter(status=IdentityClaim.Status.VERIFIED),
            to_attr="verified_claims",
        )
    )
    list_display = [
        StackedTitleColumn(
            "person",
            label=gettext_lazy("Name"),
            accessor="name",
            sort_key="name",
            secondary=_phone,
            secondary_nowrap=True,
        ),
        Column("home_grid", label=gettext_lazy("Home grid"), accessor="home_grid"),
        Column("identities", label=gettext_lazy("Verified identities"), accessor=_verified_identities),
        DateColumn("date_joined", label=gettext_lazy("Joined"), sort_key="date_joined"),
    ]
    filterset_class = PersonFilterSet
    search_fields = ["name", "phone"]
    ordering = ["name"]
    list_export = ["name", "phone", "home_grid", "date_joined"]


class IdentityClaimViewSet(ScopedModelViewSet):
    edit_item_label = gettext_lazy("Review")
    model = IdentityClaim
    name = "identity_claims"
    icon = "tick-inverse"
    menu_label = gettext_lazy("Identity verification")
    queryset = IdentityClaim.objects.select_related(
        "person", "grid__community", "person__home_grid__community"
    )
    list_display = [
        StackedTitleColumn(
            "person",
            label=gettext_lazy("Person"),
            accessor="person.name",
            sort_key="person__name",
            secondary=lambda claim: _phone(claim.person),
            secondary_nowrap=True,
        ),
        StackedColumn(
            "kind",
            label=gettext_lazy("Identity"),
            accessor="get_kind_display",
            sort_key="kind",
            secondary=lambda claim: claim.grid or claim.person.home_grid or "",
        ),
        # The status sits under the date: in the queue it is the same on every row.
        StackedDateColumn(
            "created_at",
            label=gettext_lazy("Claimed at"),
            sort_key="created_at",
            secondary=lambda claim: claim.get_status_display(),
        ),
    ]
    filterset_class = ClaimFilterSet
    search_fields = ["person__name", "person__phone", "detail"]
    ordering = ["created_at"]  # a queue: the oldest claim first

    @property
    def edit_view(self):
        return self.construct_view(ClaimReviewView, **self.get_common_view_kwargs())


class OrganisationViewSet(ScopedModelViewSet):
    edit_item_label = gettext_lazy("Review")
    model = Organisation
    name = "organisations"
    icon = "group"
    queryset = Organisation.objects.select_related("street", "community")
    list_display = [
        StackedTitleColumn(
            "organisation",
            label=gettext_lazy("Name"),
            accessor="name",
            sort_key="name",
            secondary=lambda org: org.get_kind_display(),
        ),
        Column("place", label=gettext_lazy("Area"), accessor=lambda org: org.community or org.street),
        DateColumn("created_at", label=gettext_lazy("Applied at"), sort_key="created_at"),
        StatusTagColumn(
            "status",
            label=gettext_lazy("Status"),
            accessor="get_status_display",
            primary=lambda org: org.status == Organisation.Status.APPLIED,
        ),
    ]
    filterset_class = OrganisationFilterSet
    search_fields = ["name"]
    ordering = ["-created_at"]

    @property
    def edit_view(self):
        return self.construct_view(OrganisationReviewView, **self.get_common_view_kwargs())


class StaffPostViewSet(ScopedModelViewSet):
    model = StaffPost
    name = "staff_posts"
    icon = "key"
    queryset = StaffPost.objects.select_related("person", "district", "street", "community")
    list_display = [
        StackedTitleColumn(
            "person",
            label=gettext_lazy("Person"),
            accessor="person.name",
            sort_key="person__name",
            secondary=lambda post: _phone(post.person),
            secondary_nowrap=True,
        ),
        StackedColumn(
            "level",
            label=gettext_lazy("Post"),
            accessor="get_level_display",
            sort_key="level",
            secondary=_place_of,
        ),
        DateColumn("created_at", label=gettext_lazy("Appointed"), sort_key="created_at"),
    ]
    filterset_class = StaffPostFilterSet
    search_fields = ["person__name", "person__phone"]
    ordering = ["level", "-created_at"]

    @property
    def add_view(self):
        return self.construct_view(AppointStaffView, **self.get_common_view_kwargs())


class PlacesAndPeople(ViewSetGroup):
    menu_label = gettext_lazy("Grids and people")
    menu_icon = "group"
    menu_order = 150
    items = (
        IdentityClaimViewSet,
        PersonViewSet,
        OrganisationViewSet,
        GridViewSet,
        CommunityViewSet,
        StreetViewSet,
        DistrictViewSet,
        StaffPostViewSet,
        DutyCategoryViewSet,
        GridWorkerRoleViewSet,
        SkillViewSet,
    )


@hooks.register("register_admin_viewset")
def register_places_and_people():
    return PlacesAndPeople()
