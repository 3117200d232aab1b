"""Services and orders over the API (/api/v1/services): the catalogue, ordering (点单), my orders, and the
steps of the loop — dispatch (派单), claim, accept or decline (接单), assign, check in at the door and
deliver (上菜), confirm and rate (评单), cancel — for residents, organisations, grid workers and staff.

Endpoints are thin: reads go through `selectors` (already joined, so a list's query count does not grow
with its rows), changes through `services`, exactly as the web pages do; the services decide who may do
what. Services and orders are addressed by their random public codes, never by database ids; a session,
a person or an organisation, which have no public code, is named by its id in the body.
"""

import datetime as dt
from typing import Annotated, Literal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Value
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.responses import Status
from pydantic import ConfigDict, StrictBool, StrictInt, StrictStr, model_validator

from core.api import AppTokenAuth, InvalidInput, error_responses
from core.exceptions import GongzhiError, NotAllowed
from volunteers.exceptions import OutOfScope
from volunteers.models import Community, Grid, User
from volunteers.scopes import scope_for

from . import exceptions, selectors, services
from .models import Order, OrderRules, Service, ServiceCategory

router = Router(tags=["services"])

ORDER_STATUS = Literal[tuple(Order.Status.values)]
# A database id sent in a body: bounded, so an absurd number is refused as input (422) rather than
# reaching the database as a value out of the column's range.
Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]


# --- shapes: the catalogue ---------------------------------------------------------------------------
class PlaceRef(Schema):
    id: int
    name: str


class OrganisationRef(Schema):
    id: int = Field(description="The organisation's id (to claim or dispatch an order).")
    name: str


class CategoryOut(Schema):
    code: str = Field(description='The category code used as a filter, e.g. "elder_dining".')
    name: str = Field(description="In the request's language.")
    description: str

    @staticmethod
    def resolve_code(obj) -> str:
        return obj.slug

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.label


class RatingOut(Schema):
    average: float | None = Field(description="Mean of the residents' ratings (1-5), null before the first.")
    count: int


class ServiceOut(Schema):
    code: str = Field(description="The service's public code: its name in URLs.")
    title: str
    category: CategoryOut
    organisation: OrganisationRef | None = Field(
        description="Who provides it; null: the service centre dispatches each order to an organisation."
    )
    place: str
    hours: str
    mode: str = Field(description="sessions (book a place in a session) or on_demand (a request).")
    price_kind: str = Field(description="free, subsidised or paid.")
    price: str | None = Field(description="Yuan, as a decimal string.")
    price_note: str
    min_age: int | None
    max_age: int | None
    subsidy_groups: list[str] = Field(
        description="Only residents in one of these groups may order; empty: anyone."
    )
    rating: RatingOut

    @staticmethod
    def resolve_price(obj) -> str | None:
        return None if obj.price is None else str(obj.price)

    @staticmethod
    def resolve_rating(obj) -> dict:
        average = getattr(obj, "rating_avg", None)
        return {
            "average": None if average is None else round(float(average), 1),
            "count": getattr(obj, "rating_count", 0) or 0,
        }


class SessionOut(Schema):
    id: int = Field(description="Send it as `session` to book a place.")
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    places_left: int


class AreaOut(Schema):
    streets: list[PlaceRef]
    communities: list[PlaceRef]
    grids: list[PlaceRef]


class PhotoOut(Schema):
    url: str
    caption: str

    @staticmethod
    def resolve_url(obj) -> str:
        return obj.image.url


class EligibilityOut(Schema):
    ok: bool = Field(description="The caller may order this service.")
    code: str | None = Field(description="Why not: no_home_grid, outside_area or not_eligible.")
    message: str | None


class ServiceDetailOut(ServiceOut):
    description: str
    contact_phone: str
    latitude: float | None
    longitude: float | None
    weekdays: list[int] = Field(description="Of a session service: 0 = Monday … 6 = Sunday.")
    session_start: dt.time | None
    session_end: dt.time | None
    points_per_delivery: int = Field(
        description="Points each volunteer who delivers receives on confirmation."
    )
    area: AreaOut = Field(description="The streets, communities and grids it serves.")
    photos: list[PhotoOut]
    sessions: list[SessionOut] = Field(
        description="Sessions of the next two weeks still to come and not cancelled, soonest first."
    )
    can_order: EligibilityOut | None = Field(description="For a signed-in caller; null otherwise.")

    @staticmethod
    def resolve_latitude(obj):
        return None if obj.latitude is None else float(obj.latitude)

    @staticmethod
    def resolve_longitude(obj):
        return None if obj.longitude is None else float(obj.longitude)

    @staticmethod
    def resolve_area(obj) -> dict:
        return {
            "streets": list(obj.area_streets.all()),
            "communities": list(obj.area_communities.all()),
            "grids": list(obj.area_grids.all()),
        }

    @staticmethod
    def resolve_sessions(obj) -> list:
        return obj.upcoming_sessions

    @staticmethod
    def resolve_can_order(obj):
        return getattr(obj, "can_order", None)


class ServiceListQuery(Schema):
    category: str | None = Field(
        None, max_length=40, description="A category code (see /services/categories)."
    )
    community: int | None = Field(
        None, ge=1, le=2**63 - 1, description="A community id (see /places): services serving any of it."
    )
    q: str | None = Field(
        None, max_length=50, description="Words to find in the title, description or place."
    )
    for_me: bool = Field(False, description="Only services the signed-in caller's home grid is served by.")


# --- shapes: orders ------------------------------------------------------------------------------------
class ServiceRef(Schema):
    code: str
    title: str
    category: CategoryOut


class SessionRef(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime


class GridRef(Schema):
    id: int
    name: str
    community: PlaceRef


class OrderOut(Schema):
    code: str = Field(description="The order's public code: its name in URLs.")
    status: str = Field(
        description="ordered (waiting for dispatch), dispatched (waiting for the organisation), accepted, "
        "delivered (waiting for confirmation), completed, closed (not confirmed in time) or cancelled."
    )
    status_label: str
    service: ServiceRef
    session: SessionRef | None = Field(description="The session booked; null for an on-demand request.")
    channel: str = Field(description="web, api, or proxy (ordered by a grid worker for the resident).")
    note: str
    resident_name: str = Field(description="The resident's name (masked in the pool of orders to claim).")
    grid: GridRef = Field(description="The resident's home grid.")
    organisation: OrganisationRef | None
    created_at: dt.datetime
    dispatched_at: dt.datetime | None
    accepted_at: dt.datetime | None
    delivered_at: dt.datetime | None
    finished_at: dt.datetime | None
    rating: int | None
    comment: str
    confirmed_via: str = Field(description='web, card or sms; "" before confirmation.')
    award: str = Field(description='Volunteers\' points: "", released, held (for staff review) or withheld.')
    url: str = Field(description="The order's web page.")

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_resident_name(obj) -> str:
        return obj.resident.masked_name if getattr(obj, "masked", False) else obj.resident.name

    @staticmethod
    def resolve_url(obj) -> str:
        return reverse("services:order", args=[obj.code])


class ResidentOut(Schema):
    name: str
    phone: str | None
    address: str
    dietary_notes: str


class EventOut(Schema):
    kind: str
    label: str
    at: dt.datetime
    actor: str | None = Field(description="Who did it (masked name); null: the system.")
    organisation: str | None
    note: str

    @staticmethod
    def resolve_label(obj) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return obj.actor.masked_name if obj.actor_id else None

    @staticmethod
    def resolve_organisation(obj) -> str | None:
        return obj.organisation.name if obj.organisation_id else None


class VolunteerOut(Schema):
    id: int
    name: str = Field(description="Masked.")


class OrderDetailOut(OrderOut):
    resident: ResidentOut = Field(description="Whom to serve, for the people who handle the order.")
    placed_by: str = Field(description="Who placed the order (masked name).")
    checked_in_at: dt.datetime | None = Field(
        description="The deliverer scanned the resident's card at the door."
    )
    attended_at: dt.datetime | None = Field(description="The resident's card was scanned at the session.")
    due_at: dt.datetime | None = Field(description="The deadline of the current stage; null when finished.")
    volunteers: list[VolunteerOut] = Field(description="The volunteers assigned to deliver.")
    events: list[EventOut] = Field(description="Every step, oldest first.")
    actions: list[str] = Field(
        description="What the caller may do now (a hint for buttons; the server decides): cancel, dispatch, "
        "accept, decline, assign, check_in, deliver, confirm, confirm_for_resident, review_award."
    )
    assignable: list[VolunteerOut] = Field(
        description="For the organisation's administrators while the order is accepted: active members."
    )

    @staticmethod
    def resolve_resident(obj) -> dict:
        person = obj.resident
        # The reverse one-to-one raises a subclass of AttributeError when there is none.
        beneficiary = getattr(person, "beneficiary", None)
        return {
            "name": person.name,
            "phone": person.phone,
            "address": beneficiary.address if beneficiary else "",
            "dietary_notes": beneficiary.dietary_notes if beneficiary else "",
        }

    @staticmethod
    def resolve_placed_by(obj) -> str:
        return obj.placed_by.masked_name

    @staticmethod
    def resolve_volunteers(obj) -> list[dict]:
        return [{"id": a.person_id, "name": a.person.masked_name} for a in obj.assignments.all()]

    @staticmethod
    def resolve_events(obj) -> list:
        return list(obj.events.all())


class OrderListQuery(Schema):
    status: ORDER_STATUS | None = Field(None, description="Only orders at this status.")


class PlaceOrderIn(Schema):
    model_config = ConfigDict(extra="forbid")

    session: Id | None = Field(
        None, description="For a session service: the id of the session to book (from the service's page)."
    )
    note: StrictStr = Field("", max_length=300, description="For the organisation: what is needed, when.")
    resident: Id | None = Field(
        None,
        description="A grid worker ordering for a resident of their grid (帮办): the resident's id. "
        "Recorded as channel proxy.",
    )


class ReasonIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: StrictStr = Field("", max_length=200)


class DeclineIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: StrictStr = Field(min_length=1, max_length=200, description="Why the organisation declines.")


class ConfirmIn(Schema):
    model_config = ConfigDict(extra="forbid")

    rating: StrictInt = Field(ge=1, le=5, description="1 to 5 stars.")
    comment: StrictStr = Field("", max_length=300)
    card: StrictStr | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="On the deliverer's phone: what the resident's printed QR card holds (URL or token).",
    )
    sms_code: StrictStr | None = Field(
        None,
        min_length=1,
        max_length=12,
        description="On the deliverer's phone: the 6-digit code the resident received by SMS at delivery.",
    )

    @model_validator(mode="after")
    def _one_proof(self):
        if self.card is not None and self.sms_code is not None:
            raise ValueError("card or sms_code, not both")
        return self


class OrganisationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    organisation: Id = Field(description="An approved organisation's id.")


class ClaimIn(Schema):
    model_config = ConfigDict(extra="forbid")

    organisation: Id | None = Field(
        None, description="Which of the caller's organisations claims it; may be left out if they run one."
    )


class AssignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    volunteers: list[Id] = Field(
        min_length=1,
        max_length=20,
        description="Ids of active members of the organisation (see `assignable`).",
    )


class CardIn(Schema):
    model_config = ConfigDict(extra="forbid")

    card: StrictStr = Field(min_length=1, max_length=500, description="What the resident's QR card holds.")


class DeliverIn(Schema):
    model_config = ConfigDict(extra="forbid")

    note: StrictStr = Field("", max_length=300)


class AwardIn(Schema):
    model_config = ConfigDict(extra="forbid")

    release: StrictBool = Field(description="true: post the volunteers' points; false: withhold them.")
    reason: StrictStr = Field("", max_length=200, description="Required to withhold.")


# --- helpers ---------------------------------------------------------------------------------------------
_app_token = AppTokenAuth()


def _viewer(request):
    """The caller on a public endpoint: the app's token if it sent one, else the browser session."""
    if request.headers.get("X-Session-Token"):
        return _app_token(request) or AnonymousUser()
    return request.user


def _order_id(code: str) -> int:
    """The order's id for a service call; the service checks that the caller may act on it."""
    order_id = Order.objects.filter(code=code).values_list("pk", flat=True).first()
    if order_id is None:
        raise exceptions.OrderNotFound()
    return order_id


def _actions(order: Order, viewer) -> list[str]:
    """Buttons worth showing. Only a hint from the caller's roles and the order's stage: the services
    make every decision again (and refuse with a reason) when the action is sent."""
    scope = scope_for(viewer)
    every = scope.superuser
    own = viewer.pk in (order.resident_id, order.placed_by_id)
    admin = every or order.organisation_id in scope.admin_org_ids
    deliverer = (
        every
        or order.organisation_id in scope.member_org_ids
        or order.grid_id in scope.grid_ids
        or any(a.person_id == viewer.pk for a in order.assignments.all())
    )
    actions = []
    if order.status in Order.OPEN and (own or scope.is_staff):
        actions.append("cancel")
    if order.status == Order.Status.ORDERED and scope.is_staff:
        actions.append("dispatch")
    if order.status == Order.Status.DISPATCHED and admin:
        actions += ["accept", "decline"]
    if order.status == Order.Status.ACCEPTED:
        if admin:
            actions.append("assign")
        if deliverer:
            actions += ["check_in", "deliver"]
    if order.status == Order.Status.DELIVERED:
        if viewer.pk == order.resident_id:
            actions.append("confirm")
        if deliverer:
            actions.append("confirm_for_resident")
    if order.award == Order.Award.HELD and scope.is_staff:
        actions.append("review_award")
    return actions


def _detail(code: str, viewer) -> Order:
    order = selectors.order_for_page(code=code, actor=viewer)
    if order is None:
        raise exceptions.OrderNotFound()
    order.due_at = services.stage_deadline(order, OrderRules.load())
    order.actions = _actions(order, viewer)
    scope = scope_for(viewer)
    if order.status == Order.Status.ACCEPTED and (
        scope.superuser or order.organisation_id in scope.admin_org_ids
    ):
        order.assignable = [
            {"id": person.pk, "name": person.masked_name}
            for person in selectors.assignable_members(order.organisation_id)
        ]
    else:
        order.assignable = []
    return order


def _order_answer(order: Order, viewer) -> Order:
    """The order as the caller sees it now, with its events."""
    return _detail(order.code, viewer)


# --- the catalogue -----------------------------------------------------------------------------------
@router.get(
    "/categories",
    response={200: list[CategoryOut]},
    auth=None,
    summary="Service categories",
    description="Elder dining, day care, the after-school class, … in display order.",
)
def list_categories(request):
    return list(ServiceCategory.objects.all())


@router.get(
    "",
    response={200: list[ServiceOut], **error_responses(400, 401, 422)},
    auth=None,
    summary="The services catalogue",
    description="Published services with their rating, by category. Filters: `category`, `community` (the "
    "services serving it), `q` (words in Chinese or English), `for_me` (signed in: the services the "
    "caller's home grid is served by; 401 when not signed in, no_home_grid without a home grid).",
)
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def list_services(request, filters: Query[ServiceListQuery]):
    category = None
    if filters.category:
        category = ServiceCategory.objects.filter(slug=filters.category).first()
        if category is None:
            raise InvalidInput({"category": [str(_("Unknown service category."))]})
    community = None
    if filters.community is not None:
        community = Community.objects.filter(pk=filters.community).first()
        if community is None:
            return selectors.published_services().none()
    grid = None
    if filters.for_me:
        viewer = _viewer(request)
        if not viewer.is_authenticated:
            raise GongzhiError(_("Please sign in first."), code="not_authenticated", status=401)
        if viewer.home_grid_id is None:
            raise exceptions.NoHomeGrid()
        grid = Grid.objects.select_related("community").get(pk=viewer.home_grid_id)
    return selectors.published_services(
        category=category, community=community, grid=grid, search=filters.q or ""
    )


# --- orders: lists ---------------------------------------------------------------------------------------
@router.get(
    "/orders/mine",
    response={200: list[OrderOut], **error_responses(401, 422)},
    summary="My orders",
    description="The orders placed for the caller (by themselves or a grid worker), newest first.",
)
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def my_orders(request, filters: Query[OrderListQuery]):
    return selectors.orders_of_resident(person=request.user, status=filters.status)


@router.get(
    "/orders",
    response={200: list[OrderOut], **error_responses(401, 422)},
    summary="Orders in my scope",
    description="Every order the caller may see, newest first: their own; their organisations' (members "
    "and administrators); their grids' (grid workers); their community's, street's or district's (staff).",
)
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def orders_in_scope(request, filters: Query[OrderListQuery]):
    return selectors.orders_in_scope(actor=request.user, status=filters.status)


@router.get(
    "/orders/pool",
    response={200: list[OrderOut], **error_responses(401, 422)},
    summary="Orders to claim",
    description="For organisation administrators: orders waiting for dispatch in the area their "
    "organisations serve, which they have not declined, oldest first. Residents' names are masked until "
    "claimed.",
)
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def claimable_orders(request):
    return selectors.claimable_orders(actor=request.user).annotate(masked=Value(True))


@router.get(
    "/orders/{code}",
    response={200: OrderDetailOut, **error_responses(401, 404)},
    summary="An order",
    description="One order the caller may see, with every step it went through and what they may do next.",
)
def order_detail(request, code: str):
    return _detail(code, request.user)


# --- orders: the resident's steps ----------------------------------------------------------------------
@router.post(
    "/orders/{code}/cancel",
    response={200: OrderDetailOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Cancel an order",
    description="The resident (or whoever ordered for them, or staff) cancels before an organisation "
    "accepts; a booked place is freed. Cancelling again changes nothing. Refusals: wrong_stage "
    "(accepted already).",
)
def cancel_order(request, code: str, payload: ReasonIn | None = None):
    order = services.do_cancel_order(
        actor=request.user, order_id=_order_id(code), reason=payload.reason if payload else ""
    )
    return _order_answer(order, request.user)


@router.post(
    "/orders/{code}/confirm",
    response={200: OrderDetailOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Confirm and rate (评单)",
    description="The resident confirms the delivery and rates it 1-5. A resident without a smartphone does "
    "it on the deliverer's phone: send `card` (their QR card) or `sms_code` (the code they received). "
    "Exactly once: the volunteers' points are released (or held for review after a poor rating). Refusals: "
    "not_delivered, already_rated, not_resident, invalid_card, wrong_code (limited attempts).",
)
def confirm_order(request, code: str, payload: ConfirmIn):
    order = services.do_confirm_order(
        actor=request.user,
        order_id=_order_id(code),
        rating=payload.rating,
        comment=payload.comment,
        card=payload.card,
        sms_code=payload.sms_code,
    )
    return _order_answer(order, request.user)


# --- orders: staff and organisations ----------------------------------------------------------------------
@router.post(
    "/orders/{code}/dispatch",
    response={200: OrderDetailOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Dispatch an order (派单, staff)",
    description="Staff of the resident's area send a waiting order to an approved organisation. Refusals: "
    "out_of_scope, wrong_stage, organisation_required, organisation_out_of_area (it does not serve the "
    "resident's area).",
)
def dispatch_order(request, code: str, payload: OrganisationIn):
    order = services.do_dispatch_order(
        actor=request.user, order_id=_order_id(code), organisation_id=payload.organisation
    )
    return _order_answer(order, request.user)


@router.post(
    "/orders/{code}/claim",
    response={200: OrderDetailOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Claim an order (organisation)",
    description="An administrator of an organisation serving the resident's area takes a waiting order "
    "from the pool; it is accepted at once. Refusals: not_org_admin, taken_by_another, wrong_stage "
    "(declined before, or not waiting), out_of_scope (outside the organisation's area).",
)
def claim_order(request, code: str, payload: ClaimIn | None = None):
    organisation_id = payload.organisation if payload else None
    if organisation_id is None:
        admin_of = sorted(scope_for(request.user).admin_org_ids)
        if not admin_of:
            raise NotAllowed(
                _("Only an administrator of the organisation can do this."), code="not_org_admin"
            )
        if len(admin_of) > 1:
            raise InvalidInput({"organisation": [str(_("Choose which of your organisations claims it."))]})
        organisation_id = admin_of[0]
    order = services.do_claim_order(
        actor=request.user, order_id=_order_id(code), organisation_id=organisation_id
    )
    return _order_answer(order, request.user)


@router.post(
    "/orders/{code}/accept",
    response={200: OrderDetailOut, **error_responses(401, 403, 404, 409)},
    summary="Accept an order (接单)",
    description="An administrator of the organisation the order was dispatched to accepts it; accepting "
    "again changes nothing. Refusals: not_org_admin, taken_by_another, wrong_stage.",
)
def accept_order(request, code: str):
    order = services.do_accept_order(actor=request.user, order_id=_order_id(code))
    return _order_answer(order, request.user)


@router.post(
    "/orders/{code}/decline",
    response={200: OrderOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Decline an order",
    description="The organisation declines with a reason: the order goes back to the centre to be dispatched "
    "again, and leaves the organisation's view (so the answer is the order without its details). "
    "Refusals: not_org_admin, wrong_stage, reason_required.",
)
def decline_order(request, code: str, payload: DeclineIn):
    order = services.do_decline_order(actor=request.user, order_id=_order_id(code), reason=payload.reason)
    # No longer the organisation's to handle: shown as the pool shows it, the resident's name masked.
    return selectors.orders_of_resident(person=order.resident).annotate(masked=Value(True)).get(pk=order.pk)


@router.post(
    "/orders/{code}/assign",
    response={200: OrderDetailOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Assign volunteers",
    description="An administrator of the organisation sends members to deliver (they receive the points when "
    "the resident confirms). Assigning someone again changes nothing. Refusals: not_org_admin, wrong_stage, "
    "not_a_member.",
)
def assign_volunteers(request, code: str, payload: AssignIn):
    order = services.do_assign_volunteers(
        actor=request.user, order_id=_order_id(code), person_ids=payload.volunteers
    )
    return _order_answer(order, request.user)


@router.post(
    "/orders/{code}/check-in",
    response={200: OrderDetailOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Check in at the resident's door",
    description="The deliverer scans the resident's QR card as proof of the visit (the first scan is kept). "
    "Refusals: out_of_scope, invalid_card, wrong_stage.",
)
def check_in_at_door(request, code: str, payload: CardIn):
    order = services.do_check_in_at_door(actor=request.user, order_id=_order_id(code), token=payload.card)
    return _order_answer(order, request.user)


@router.post(
    "/orders/{code}/deliver",
    response={200: OrderDetailOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Record delivery (上菜)",
    description="The organisation's members, the grid's grid worker or an assigned volunteer record that the "
    "service was delivered; the resident is asked to confirm (and, with a mobile number, gets an SMS code). "
    "Recording it again changes nothing. Refusals: out_of_scope, wrong_stage.",
)
def deliver_order(request, code: str, payload: DeliverIn | None = None):
    order = services.do_deliver_order(
        actor=request.user, order_id=_order_id(code), note=payload.note if payload else ""
    )
    return _order_answer(order, request.user)


@router.post(
    "/orders/{code}/award",
    response={200: OrderDetailOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Decide on held points (staff)",
    description="Points held after a poor rating or an unconfirmed delivery: release them to the volunteers "
    "(posted once) or withhold them with a reason. Refusals: out_of_scope, wrong_stage, reason_required.",
)
def review_award(request, code: str, payload: AwardIn):
    order = services.do_review_award(
        actor=request.user, order_id=_order_id(code), release=payload.release, reason=payload.reason
    )
    return _order_answer(order, request.user)


# --- a service and ordering it (after every literal path above: /{code} would match them) ---------
@router.get(
    "/{code}",
    response={200: ServiceDetailOut, **error_responses(404)},
    auth=None,
    summary="A service",
    description="A published service with its area, photos and the sessions still to come; a signed-in "
    "caller learns whether they may order it (`can_order`).",
)
def service_detail(request, code: str):
    service = selectors.service_for_page(code)
    if service is None:
        raise exceptions.ServiceNotFound()
    viewer = _viewer(request)
    if viewer.is_authenticated:
        try:
            services.check_can_order(service=service, resident=viewer)
            service.can_order = {"ok": True, "code": None, "message": None}
        except GongzhiError as refusal:
            service.can_order = {"ok": False, "code": refusal.code, "message": str(refusal.message)}
    return service


@router.post(
    "/{code}/order",
    response={201: OrderDetailOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Order a service (点单)",
    description="Book a place in a session (`session`) or request an on-demand service, with a note. A grid "
    "worker may order for a resident of their grid (`resident`). Refusals: service_not_found, no_home_grid, "
    "outside_area, not_eligible, session_not_bookable (past, cancelled or not this service's), "
    "session_full, already_booked, already_requested, out_of_scope (not your resident).",
)
def place_order(request, code: str, payload: PlaceOrderIn | None = None):
    payload = payload or PlaceOrderIn()
    service_id = Service.objects.filter(code=code).values_list("pk", flat=True).first()
    if service_id is None:
        raise exceptions.ServiceNotFound()
    resident = None
    if payload.resident is not None and payload.resident != request.user.pk:
        # An unknown id is refused like someone else's resident: ids are not to be probed.
        resident = User.objects.filter(pk=payload.resident, is_active=True).first()
        if resident is None:
            raise OutOfScope()
    order = services.do_place_order(
        actor=request.user,
        service_id=service_id,
        resident=resident,
        session_id=payload.session,
        note=payload.note,
        channel=Order.Channel.API,
    )
    return Status(201, _order_answer(order, request.user))
