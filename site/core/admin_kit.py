"""The back-office kit every app builds its Wagtail admin screens with: a permission policy that asks the
scope rule, list/create/edit/delete/inspect views that read only through it, review pages whose
decisions are declared as data (`Decision`), forms whose place fields offer only the editor's places, and
list columns with a second line for phone screens.

Scope is enforced in one place, `ScopedPermissionPolicy`: every screen lists its rows through the policy
and checks the object it acts on through the policy, and the policy asks the scope rule (core.scoping,
answered by volunteers.scopes) — the same rule the site and the API use. A row outside the staff member's
area is never listed and its pages answer 404.

The back office lists what a staff member *manages* (`Scope.changeable`), not everything they may read:
grids and approved organisations are public, so `Scope.visible` would list the whole district.

An app declares, per model, which staff roles may do what (`ScopedPermissionPolicy(model, actions=…)`),
registers the table (`register_policies`) and names it on its viewsets (`ScopedModelViewSet.policies`).
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.forms.models import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import ButtonsColumnMixin, Column, DateColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from . import scoping
from .exceptions import GongzhiError
from .text import one_line


# --- the permission policy ---------------------------------------------------------------------------
class ScopedPermissionPolicy(ModelPermissionPolicy):
    """Who may do what with one model in the back office.

    `actions` maps each action the back office offers ("view", "add", "change", "delete") to the staff
    roles that may perform it at all; an empty set means superusers only, and an action that is not in
    the map is not offered to anyone (identity claims are never added or deleted here, for instance).
    A staff member also needs the model permission their group carries (volunteers' staff group), and
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
        if not scoping.scope_for(user).roles & self.actions[action]:
            return False
        return not self.model_perms or super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        return not self.scoped or scoping.scope_for(user).can_change(instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(self.user_has_permission_for_instance(user, action, instance) for action in actions)

    def filter_queryset(self, user, queryset, actions):
        """`queryset` narrowed to the rows `user` may perform any of `actions` on."""
        if not self.user_has_any_permission(user, actions):
            return queryset.none()
        if not self.scoped:
            return queryset
        return scoping.scope_for(user).changeable(queryset)

    def instances_user_has_any_permission_for(self, user, actions):
        return self.filter_queryset(user, self.model._default_manager.all(), actions)

    def users_with_any_permission(self, actions):
        roles = frozenset().union(*(self.actions[a] for a in actions if a in self.actions))
        staff = scoping.staff_holding(roles)
        if self.model_perms:
            staff &= self._get_users_with_any_permission_codenames_filter(
                self._get_permission_codenames(actions)
            )
        superusers = Q(is_superuser=True) if any(a in self.actions for a in actions) else Q(pk__in=[])
        return get_user_model().objects.filter((superusers | staff) & Q(is_active=True)).distinct()


def register_policies(policies: dict, *, skip=()) -> None:
    """Make each policy the one Wagtail asks for its model (choosers, generic views, the menu)."""
    for model, policy in policies.items():
        if model not in skip:
            register_permission_policy(model, policy)


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
        return one_line(self.cleaned_data["reason"])


# --- forms and columns ---------------------------------------------------------------------------------
class ScopedParentForm(WagtailAdminModelForm):
    """A place's parent can only be one the editor manages (or the one it already has)."""

    parent_field = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields[self.parent_field]
        current = Q(pk=getattr(self.instance, f"{self.parent_field}_id", None) or 0)
        managed = scoping.scope_for(self.for_user).changeable(field.queryset.model._default_manager.all())
        field.queryset = field.queryset.filter(Q(pk__in=managed.values("pk")) | current)


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
    cell_template_name = "core/admin/_cell.html"


class StackedTitleColumn(_SecondaryLine, TitleColumn):
    cell_template_name = "core/admin/_title_cell.html"


class StackedDateColumn(_SecondaryLine, DateColumn):
    cell_template_name = "core/admin/_date_cell.html"


# --- viewsets ----------------------------------------------------------------------------------------------
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
    # model → ScopedPermissionPolicy: each app's table of who may do what with its models.
    policies: dict = {}

    @cached_property
    def permission_policy(self):
        return self.policies[self.model]

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
