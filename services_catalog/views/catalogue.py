"""Residents' pages of the services catalogue: the catalogue, a service's page with booking or request
(点单, also by a grid worker for a resident: 帮办), my orders, and the order page where each party takes
its step of the loop (派单 → 接单 → 上菜 → 评单).

Views are thin: every change goes through services.py; a refusal (GongzhiError) is shown on the page it
came from with its message and its 4xx status, and the form the person filled in is shown again.
"""

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import re_path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core.exceptions import GongzhiError, NotFound
from core.masking import mask_name
from core.shortcuts import signin_first
from volunteers.models import Grid, Organisation, User
from volunteers.scopes import scope_for

from .. import selectors, services
from ..forms import (
    AssignForm,
    CancelOrderForm,
    CatalogueFilterForm,
    DeliverForm,
    OrganisationChoiceForm,
    PlaceOrderForm,
    RateForm,
    ReasonForm,
    SmsConfirmForm,
)
from ..models import Order, OrderEvent, Service, SubsidyGroup
from . import first_error

PER_PAGE = 20

# Codes are services_catalog.models.new_code(): 12 URL-safe characters (16 at most). Matching only such
# codes keeps words like "orders/pool/" free for the other modules' routes, listed after these.
CODE = r"(?P<code>[A-Za-z0-9_-]{12,16})"


# --- helpers ---------------------------------------------------------------------------------------------
class FormRefused(GongzhiError):
    """A form that did not validate, shown like any other refusal (400, its first message)."""

    code = "bad_input"

    def __init__(self, form):
        super().__init__(first_error(form))
        self.form = form


def _service_or_404(code) -> Service:
    service = selectors.catalogue_service(code)
    if service is None:
        raise Http404(_("This service does not exist or is not published."))
    return service


# --- the catalogue ---------------------------------------------------------------------------------------
def catalogue(request):
    categories = selectors.catalogue_categories()
    communities = selectors.catalogue_communities()
    form = CatalogueFilterForm(request.GET, categories=categories, communities=communities)
    status, error = 200, None
    if not form.is_valid():
        # The valid filters still apply; the bad one is named and dropped.
        status, error = 400, first_error(form)
    data = form.cleaned_data
    home_grid = _home_grid(request.user)
    by_slug = {c.slug: c for c in categories}
    community = next((c for c in communities if c.pk == data.get("community")), None)
    filters = selectors.CatalogueFilters(
        category=by_slug.get(data.get("category") or ""),
        community=community,
        home_grid=home_grid,
        only_home=bool(data.get("mine")) and home_grid is not None,
        text=data.get("q") or "",
    )
    page = Paginator(selectors.catalogue_services(filters=filters), PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "services_catalog/catalogue_list.html",
        {
            "form": form,
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "chips": _category_chips(categories, filters.category, query),
            "mine_chip": _mine_chip(query, filters.only_home) if home_grid else None,
            "home_grid": home_grid,
            "error": error,
            "searching": bool(filters.text or filters.community or filters.category or filters.only_home),
        },
        status=status,
    )


def _home_grid(user) -> Grid | None:
    if not user.is_authenticated or not user.home_grid_id:
        return None
    return Grid.objects.select_related("community__street").filter(pk=user.home_grid_id).first()


def _category_chips(categories, current, query) -> list[dict]:
    chips = []
    for category in [None, *categories]:
        q = query.copy()
        q.pop("category", None)
        if category is not None:
            q["category"] = category.slug
        chips.append(
            {
                "label": category.label if category else _("All"),
                "query": q.urlencode(),
                "active": category == current,
            }
        )
    return chips


def _mine_chip(query, active) -> dict:
    q = query.copy()
    q.pop("mine", None)
    if not active:
        q["mine"] = "1"
    return {"label": _("Serves my grid"), "query": q.urlencode(), "active": active}


# --- a service's page and ordering (点单) -----------------------------------------------------------------
def service_detail(request, code):
    service = _service_or_404(code)
    try:
        resident = _resident_for(request, request.GET.get("for"))
    except GongzhiError as exc:
        return _render_service(request, service, status=exc.status, error=exc)
    return _render_service(request, service, resident=resident)


def _resident_for(request, raw) -> User | None:
    """The resident a grid worker orders for (帮办), or None when ordering for oneself. Only someone who
    looks after the resident's grid gets past this, so a name is never shown to anyone else."""
    if raw in (None, ""):
        return None
    if not request.user.is_authenticated:
        raise NotFound(_("Sign in first."))
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise GongzhiError(_("Unknown resident."), code="bad_resident") from None
    resident = User.objects.filter(pk=pk, is_active=True).first()
    if resident is None:
        raise NotFound(_("Unknown resident."), code="resident_not_found")
    if resident.pk == request.user.pk:
        return None
    services.check_can_act_for(actor=request.user, resident=resident)
    return resident


def _render_service(request, service, *, resident=None, status=200, error=None, form=None):
    user = request.user
    who = resident or (user if user.is_authenticated else None)
    blocked = None  # why `who` cannot order, said before they try
    bookings, request_open = {}, None
    if who is not None:
        try:
            services.check_can_order(service=service, resident=who)
        except GongzhiError as exc:
            blocked = exc
        if service.is_sessions:
            bookings = selectors.live_bookings(service=service, person=who)
        else:
            request_open = selectors.open_request(service=service, person=who)
    sessions = selectors.bookable_sessions(service) if service.is_sessions else []
    for session in sessions:
        session.my_order = bookings.get(session.pk)
    breakdown = selectors.rating_breakdown(service)
    return render(
        request,
        "services_catalog/catalogue_detail.html",
        {
            "service": service,
            "photos": list(service.photos.all()),
            "sessions": sessions,
            "resident": resident,
            "blocked": blocked,
            "request_open": request_open,
            "form": form or PlaceOrderForm(initial={"for": resident.pk if resident else None}),
            "error": error,
            "area": _area_names(service),
            "eligibility": _eligibility(service),
            "breakdown": breakdown,
            "reviews": selectors.recent_reviews(service),
        },
        status=status,
    )


def _area_names(service) -> list[str]:
    return (
        [s.name for s in service.area_streets.all()]
        + [c.name for c in service.area_communities.all()]
        + [str(g) for g in service.area_grids.all()]
    )


def _eligibility(service) -> list[str]:
    """Who may order, in words."""
    lines = []
    if service.min_age is not None or service.max_age is not None:
        lines.append(_("Age: %(ages)s") % {"ages": services.age_range(service)})
    if service.subsidy_groups:
        labels = dict(SubsidyGroup.choices)
        groups = [str(labels.get(code, code)) for code in service.subsidy_groups]
        lines.append(_("In one of these groups: %(groups)s") % {"groups": _(", ").join(groups)})
    if not lines:
        lines.append(_("Every resident of the area served"))
    return lines


def place_order(request, code):
    if not request.user.is_authenticated:
        return signin_first(request, reverse("services:detail", args=[code]))
    if request.method != "POST":
        return redirect("services:detail", code)
    service = _service_or_404(code)
    form = PlaceOrderForm(request.POST)
    resident = None
    try:
        if not form.is_valid():
            raise FormRefused(form)
        resident = _resident_for(request, form.cleaned_data["for"])
        order = services.do_place_order(
            actor=request.user,
            service_id=service.pk,
            resident=resident,
            session_id=form.cleaned_data["session"],
            note=form.cleaned_data["note"],
        )
    except GongzhiError as exc:
        return _render_service(request, service, resident=resident, status=exc.status, error=exc, form=form)
    if order.session_id:
        messages.success(request, _("Booked. The organisation has been told."))
    else:
        messages.success(request, _("Request sent. You will be told when it is accepted."))
    return redirect("services:order", order.code)


# --- my orders --------------------------------------------------------------------------------------------
ORDER_GROUP_LABELS = {
    "": gettext_lazy("All"),
    "active": gettext_lazy("In progress"),
    "to_rate": gettext_lazy("To confirm"),
    "done": gettext_lazy("Finished"),
    "cancelled": gettext_lazy("Cancelled"),
}


def my_orders(request):
    if not request.user.is_authenticated:
        return signin_first(request)
    group = request.GET.get("status", "")
    status, error = 200, None
    if group not in ORDER_GROUP_LABELS:
        status, error, group = 400, _("Unknown status filter: showing all orders."), ""
    page = Paginator(selectors.my_orders(person=request.user, group=group), PER_PAGE).get_page(
        request.GET.get("page")
    )
    counts = selectors.my_order_counts(person=request.user)
    chips = [
        {
            "label": label,
            "count": counts[key or "all"],
            "query": f"status={key}" if key else "",
            "active": key == group,
            "key": key or "all",
        }
        for key, label in ORDER_GROUP_LABELS.items()
    ]
    return render(
        request,
        "services_catalog/order_mine.html",
        {"page": page, "chips": chips, "group": group, "error": error, "counts": counts},
        status=status,
    )


# --- the order page ---------------------------------------------------------------------------------------
@dataclass
class OrderViewer:
    """Who the viewer is to one order; decides what the page shows and which steps it offers."""

    user: User
    in_scope: bool = False  # volunteers.scopes: their own, their organisation's, their grid's, their area's
    is_resident: bool = False
    placed_it: bool = False  # the grid worker who ordered on the resident's behalf
    is_staff: bool = False
    org_admin: bool = False
    org_member: bool = False
    deliverer: bool = False  # services.can_deliver
    claim_orgs: list = field(default_factory=list)  # organisations the viewer could claim it for

    @property
    def may_view(self) -> bool:
        return self.in_scope or self.deliverer or bool(self.claim_orgs)

    @property
    def sees_names(self) -> bool:
        """Staff, the organisation and the deliverers see who did what; the resident sees roles."""
        return self.is_staff or self.org_member or self.deliverer or self.placed_it

    @property
    def sees_resident(self) -> bool:
        """The resident's contact and address: for those who serve them, not for a claim-only look."""
        return self.is_staff or self.org_member or self.deliverer or self.placed_it


def _viewer(user, order) -> OrderViewer:
    scope = scope_for(user)
    org_id = order.organisation_id
    viewer = OrderViewer(
        user=user,
        in_scope=scope.can_view(order),
        is_resident=user.pk == order.resident_id,
        placed_it=user.pk == order.placed_by_id and user.pk != order.resident_id,
        org_admin=scope.superuser or bool(org_id and org_id in scope.admin_org_ids),
        org_member=bool(org_id and org_id in scope.member_org_ids),
        deliverer=services.can_deliver(user, order),
    )
    viewer.is_staff = scope.is_staff and viewer.in_scope
    if scope.admin_org_ids:
        declined = set(
            order.events.filter(kind=OrderEvent.Kind.DECLINED).values_list("organisation_id", flat=True)
        )
        viewer.claim_orgs = [
            org
            for org in Organisation.objects.filter(
                pk__in=scope.admin_org_ids, status=Organisation.Status.APPROVED
            ).order_by("name")
            if org.pk not in declined and services.organisation_serves(org, order.grid)
        ]
    return viewer


def _order_and_viewer(request, code, *, claiming=False):
    order = selectors.order_page_order(code)
    if order is None:
        raise Http404(_("This order does not exist."))
    viewer = _viewer(request.user, order)
    # An organisation sees a waiting order it could claim (the pool); one claiming it a moment after
    # another organisation did is told so (409) rather than shown a 404.
    open_to_claim = order.status == Order.Status.ORDERED and viewer.claim_orgs
    if not (viewer.in_scope or viewer.deliverer or open_to_claim or (claiming and viewer.claim_orgs)):
        raise Http404(_("This order does not exist."))
    return order, viewer


def order_detail(request, code):
    if not request.user.is_authenticated:
        return signin_first(request)
    order, viewer = _order_and_viewer(request, code)
    return _render_order(request, order, viewer)


# The loop's own words: 点单 → 派单 → 接单 → 上菜 → 评单.
STEPS = [
    ("ordered", pgettext_lazy("order step", "Order")),
    ("dispatched", pgettext_lazy("order step", "Dispatch")),
    ("accepted", pgettext_lazy("order step", "Accept")),
    ("delivered", pgettext_lazy("order step", "Deliver")),
    ("completed", pgettext_lazy("order step", "Rate")),
]
# How many steps an order has behind it: an order waiting for dispatch has done 点单, and so on.
_STEPS_DONE = {
    Order.Status.ORDERED: 1,
    Order.Status.DISPATCHED: 2,
    Order.Status.ACCEPTED: 3,
    Order.Status.DELIVERED: 4,
    Order.Status.COMPLETED: 5,
    Order.Status.CLOSED: 4,  # delivered, never rated
}
# Internal bookkeeping the resident does not need to read on their own order.
_STAFF_ONLY_EVENTS = {
    OrderEvent.Kind.REMINDED,
    OrderEvent.Kind.ESCALATED,
    OrderEvent.Kind.AWARD_RELEASED,
    OrderEvent.Kind.AWARD_HELD,
    OrderEvent.Kind.AWARD_WITHHELD,
}
_ROLE_LABELS = {
    "organisation": None,  # the organisation's name
    "volunteer": gettext_lazy("Volunteer"),
    "grid_worker": gettext_lazy("Grid worker"),
    "staff": gettext_lazy("Service centre"),
}


def _steps(order) -> list[dict]:
    if order.status == Order.Status.CANCELLED:
        return []
    done = _STEPS_DONE.get(order.status, 0)
    waiting = order.status != Order.Status.CLOSED
    return [
        {"key": key, "label": label, "done": i < done, "current": waiting and i == done}
        for i, (key, label) in enumerate(STEPS)
    ]


def _timeline(order, viewer) -> list[dict]:
    events = selectors.order_timeline(order)
    rows = []
    if viewer.sees_names:
        for event in events:
            rows.append(
                {
                    "event": event,
                    "who": event.actor.name if event.actor else _("System"),
                    "organisation": event.organisation.name if event.organisation else "",
                    "note": event.note,
                }
            )
        return rows
    roles = selectors.actor_roles(order, {e.actor_id for e in events})
    for event in events:
        if event.kind in _STAFF_ONLY_EVENTS:
            continue
        note = event.note
        if event.kind == OrderEvent.Kind.ASSIGNED:
            note = mask_name(note)  # the volunteer's name: the resident sees 张*
        rows.append(
            {
                "event": event,
                "who": _role_for_resident(event, order, roles, viewer),
                "organisation": event.organisation.name if event.organisation else "",
                "note": note,
            }
        )
    return rows


def _role_for_resident(event, order, roles, viewer) -> str:
    if event.actor_id is None:
        return _("System")
    if event.actor_id == viewer.user.pk:
        return _("You")
    if event.kind in (OrderEvent.Kind.CLAIMED, OrderEvent.Kind.ACCEPTED, OrderEvent.Kind.DECLINED) and (
        event.organisation
    ):
        return event.organisation.name
    role = roles.get(event.actor_id)
    if role == "organisation" and order.organisation:
        return order.organisation.name
    if role in _ROLE_LABELS and _ROLE_LABELS[role] is not None:
        return str(_ROLE_LABELS[role])
    if event.actor_id == order.placed_by_id:
        return _("Grid worker")
    return _("Service centre")


def _actions(order, viewer) -> dict:
    s, Status = order.status, Order.Status
    return {
        "cancel": (viewer.is_resident or viewer.placed_it or viewer.is_staff) and s in Order.OPEN,
        "confirm": viewer.is_resident and s == Status.DELIVERED,
        "accept": viewer.org_admin and order.organisation_id and s == Status.DISPATCHED,
        "decline": viewer.org_admin and order.organisation_id and s == Status.DISPATCHED,
        "assign": viewer.org_admin and order.organisation_id and s == Status.ACCEPTED,
        "claim": bool(viewer.claim_orgs) and s == Status.ORDERED,
        "dispatch": viewer.is_staff and s == Status.ORDERED,
        "deliver": viewer.deliverer and s == Status.ACCEPTED,
        "confirm_sms": viewer.deliverer and not viewer.is_resident and s == Status.DELIVERED,
        "release": viewer.is_staff and order.award == Order.Award.HELD,
        "withhold": viewer.is_staff and order.award == Order.Award.HELD,
    }


def _render_order(request, order, viewer, *, status=200, error=None, failed=None):
    actions = _actions(order, viewer)
    forms = {name: _action_form(name, None, order, viewer) for name in ACTIONS if actions.get(name)}
    if failed is not None:
        forms[failed[0]] = failed[1]
    return render(
        request,
        "services_catalog/order_detail.html",
        {
            "order": order,
            "viewer": viewer,
            "actions": actions,
            "forms": forms,
            "failed_action": failed[0] if failed else "",
            "error": error,
            "steps": _steps(order),
            "timeline": _timeline(order, viewer),
            "beneficiary": getattr(order.resident, "beneficiary", None),
            "assigned": [a.person for a in order.assignments.all()],
        },
        status=status,
    )


# --- the steps of the loop, one POST each ----------------------------------------------------------------
def _action_form(action, data, order, viewer):
    """The form of a step (None for a step without input), bound to `data` or empty for the page."""
    if action == "assign":
        members = selectors.assignable_members(order.organisation_id) if order.organisation_id else []
        initial = {"people": [a.person_id for a in order.assignments.all()]}
        return AssignForm(data, members=members, initial=initial)
    if action == "claim":
        return OrganisationChoiceForm(data, organisations=viewer.claim_orgs)
    if action == "dispatch":
        return OrganisationChoiceForm(data, organisations=selectors.organisations_serving(order.grid))
    form_class = {
        "cancel": CancelOrderForm,
        "confirm": RateForm,
        "decline": ReasonForm,
        "withhold": ReasonForm,
        "deliver": DeliverForm,
        "confirm_sms": SmsConfirmForm,
    }.get(action)
    return form_class(data) if form_class else None


def _cancel(actor, order, data):
    services.do_cancel_order(actor=actor, order_id=order.pk, reason=data["reason"])
    return _("The order is cancelled.")


def _confirm(actor, order, data):
    services.do_confirm_order(actor=actor, order_id=order.pk, rating=data["rating"], comment=data["comment"])
    return _("Thank you! Your rating is recorded.")


def _accept(actor, order, data):
    services.do_accept_order(actor=actor, order_id=order.pk)
    return _("Order accepted. The resident has been told.")


def _decline(actor, order, data):
    services.do_decline_order(actor=actor, order_id=order.pk, reason=data["reason"])
    return _("Order declined: it goes back to the service centre.")


def _assign(actor, order, data):
    services.do_assign_volunteers(actor=actor, order_id=order.pk, person_ids=data["people"])
    return _("Volunteers assigned; they have been told.")


def _claim(actor, order, data):
    services.do_claim_order(actor=actor, order_id=order.pk, organisation_id=data["organisation"])
    return _("Order claimed and accepted.")


def _dispatch(actor, order, data):
    services.do_dispatch_order(actor=actor, order_id=order.pk, organisation_id=data["organisation"])
    return _("Order dispatched.")


def _release(actor, order, data):
    services.do_review_award(actor=actor, order_id=order.pk, release=True)
    return _("Points released to the volunteers.")


def _withhold(actor, order, data):
    services.do_review_award(actor=actor, order_id=order.pk, release=False, reason=data["reason"])
    return _("Points withheld; the reason is recorded.")


def _deliver(actor, order, data):
    services.do_deliver_order(actor=actor, order_id=order.pk, note=data["note"])
    return _("Marked as delivered. The resident is asked to confirm and rate it.")


def _confirm_sms(actor, order, data):
    services.do_confirm_order(
        actor=actor,
        order_id=order.pk,
        rating=data["rating"],
        comment=data["comment"],
        sms_code=data["code"].strip(),
    )
    return _("Confirmed and rated for the resident. Thank you!")


ACTIONS = {
    "cancel": _cancel,
    "confirm": _confirm,
    "accept": _accept,
    "decline": _decline,
    "assign": _assign,
    "claim": _claim,
    "dispatch": _dispatch,
    "release": _release,
    "withhold": _withhold,
    "deliver": _deliver,
    "confirm_sms": _confirm_sms,
}


def order_action(request, code, action):
    if not request.user.is_authenticated:
        return signin_first(request, reverse("services:order", args=[code]))
    action = action.replace("-", "_")
    if action not in ACTIONS:
        raise Http404(_("Unknown action."))
    if request.method != "POST":
        return redirect("services:order", code)
    order, viewer = _order_and_viewer(request, code, claiming=action == "claim")
    form = _action_form(action, request.POST, order, viewer)
    try:
        if form is not None and not form.is_valid():
            raise FormRefused(form)
        message = ACTIONS[action](request.user, order, form.cleaned_data if form is not None else {})
    except GongzhiError as exc:
        # Show the order as it now is, with the refusal and what the person typed.
        order = selectors.order_page_order(code)
        viewer = _viewer(request.user, order)
        if not viewer.may_view:
            return render(request, "services_catalog/order_refused.html", {"error": exc}, status=exc.status)
        failed = (action, form) if form is not None else None
        return _render_order(request, order, viewer, status=exc.status, error=exc, failed=failed)
    messages.success(request, message)
    return redirect("services:order", order.code)


urlpatterns = [
    re_path(r"^$", catalogue, name="catalogue"),
    re_path(rf"^s/{CODE}/$", service_detail, name="detail"),
    re_path(rf"^s/{CODE}/order/$", place_order, name="place_order"),
    re_path(r"^orders/$", my_orders, name="my_orders"),
    re_path(rf"^orders/{CODE}/$", order_detail, name="order"),
    re_path(rf"^orders/{CODE}/(?P<action>[a-z-]{{2,20}})/$", order_action, name="order_action"),
]
