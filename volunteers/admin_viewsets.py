"""The staff back office in the Wagtail admin: places, people, identities, organisations and staff posts.

Built with core.admin_kit: every screen lists and checks rows through its model's policy (admin_access.py),
which asks the scope rule (volunteers.scopes), so a row outside the staff member's area is never listed
and its pages answer 404. Identity decisions, organisation decisions, staff appointments and profile edits
go through volunteers.services; reference data and places are plain records edited here.
"""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.generic import FormView
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms.models import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.log_actions import log

from core.admin_kit import (
    Decision,
    ScopedEditView,
    ScopedModelViewSet,
    ScopedObjectView,
    ScopedParentForm,
    ScopedViewMixin,
    StackedColumn,
    StackedDateColumn,
    StackedTitleColumn,
)
from core.exceptions import GongzhiError
from core.phones import display_cn_mobile, normalize_cn_mobile

from . import selectors, services
from .admin_access import POLICIES
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
from .scopes import STREET_UP, Role, scope_for


# --- views ---------------------------------------------------------------------------------------------
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
class DistrictForm(WagtailAdminModelForm):
    class Meta:
        model = District
        fields = ["name", "code"]


class StreetForm(ScopedParentForm):
    parent_field = "district"

    class Meta:
        model = Street
        fields = ["district", "name", "code"]


class CommunityForm(ScopedParentForm):
    parent_field = "street"

    class Meta:
        model = Community
        fields = ["street", "name", "code", "kind"]


class GridForm(ScopedParentForm):
    parent_field = "community"

    class Meta:
        model = Grid
        fields = ["community", "name", "code", "households", "party_org_kind", "party_org_name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = self.fields["community"].queryset.select_related("street")


class PersonForm(ScopedParentForm):
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
def _phone(person):
    return display_cn_mobile(person.phone) if person else ""


def _place_of(post):
    return str(post.place)


class _PlacesAndPeopleViewSet(ScopedModelViewSet):
    policies = POLICIES


class DistrictViewSet(_PlacesAndPeopleViewSet):
    model = District
    name = "districts"
    icon = "globe"
    form_class = DistrictForm
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


class StreetViewSet(_PlacesAndPeopleViewSet):
    model = Street
    name = "streets"
    icon = "site"
    form_class = StreetForm
    queryset = Street.objects.select_related("district")
    list_display = ["name", "district", "code"]
    search_fields = ["name", "code"]


class CommunityViewSet(_PlacesAndPeopleViewSet):
    model = Community
    name = "communities"
    icon = "home"
    form_class = CommunityForm
    queryset = Community.objects.select_related("street")
    list_display = ["name", "street", "kind", "code"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]


class GridViewSet(_PlacesAndPeopleViewSet):
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


class DutyCategoryViewSet(_PlacesAndPeopleViewSet):
    model = DutyCategory
    name = "duty_categories"
    icon = "list-ol"
    form_class = DutyCategoryForm
    list_display = ["name", "code", "sort_order"]
    ordering = ["sort_order", "code"]


class GridWorkerRoleViewSet(_PlacesAndPeopleViewSet):
    model = GridWorkerRole
    name = "grid_worker_roles"
    icon = "tag"
    form_class = GridWorkerRoleForm
    list_display = ["name", "code", "sort_order"]
    ordering = ["sort_order", "code"]


class SkillViewSet(_PlacesAndPeopleViewSet):
    model = Skill
    name = "skills"
    icon = "tasks"
    form_class = SkillForm
    list_display = ["name"]
    search_fields = ["name"]


def _verified_identities(person):
    return pgettext("list separator", ", ").join(claim.get_kind_display() for claim in person.verified_claims)


class PersonViewSet(_PlacesAndPeopleViewSet):
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


class IdentityClaimViewSet(_PlacesAndPeopleViewSet):
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


class OrganisationViewSet(_PlacesAndPeopleViewSet):
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


class StaffPostViewSet(_PlacesAndPeopleViewSet):
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
