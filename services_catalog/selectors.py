"""Reads of the services catalogue and the ordering loop, joined up front so a page's (or an API list's)
query count does not grow with its rows. One section per group of pages: the API, the residents'
pages, the workbench, dining points and insight."""

from django.db.models import Avg, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.search import matching_pks
from core.text import one_line
from volunteers.models import Community, Grid, Organisation
from volunteers.scopes import scope_for

from .models import Order, OrderEvent, Service, Session


# --- the API: catalogue, orders in scope, the pool organisations claim from ------------------------------
def published_services(
    *, category=None, community: Community | None = None, grid: Grid | None = None, search=""
) -> QuerySet[Service]:
    """The API's catalogue: the catalogue page's own query (`catalogue_services`, below), so the app and
    the site list, filter and rate alike. `grid`: only services a resident of that grid may order."""
    filters = CatalogueFilters(
        category=category, community=community, home_grid=grid, only_home=grid is not None, text=search
    )
    return catalogue_services(filters=filters)


def service_for_page(code: str) -> Service | None:
    """A published service with what its page shows (`catalogue_service`, below) and its bookable
    sessions as `upcoming_sessions`."""
    service = catalogue_service(code)
    if service is not None:
        service.upcoming_sessions = bookable_sessions(service)
    return service


ORDER_JOINS = (
    "service__category",
    "service__organisation",
    "session",
    "grid__community",
    "organisation",
    "resident",
)


def orders_in_scope(*, actor, status: str | None = None) -> QuerySet[Order]:
    """Every order the actor may see (their own, their organisations', their grids', their area's),
    newest first."""
    qs = scope_for(actor).visible(Order.objects.all())
    if status:
        qs = qs.filter(status=status)
    return qs.select_related(*ORDER_JOINS).order_by("-created_at", "-pk")


def orders_of_resident(*, person, status: str | None = None) -> QuerySet[Order]:
    """The orders placed for `person` (by themselves or by a grid worker), newest first."""
    qs = Order.objects.filter(resident=person)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related(*ORDER_JOINS).order_by("-created_at", "-pk")


def claimable_orders(*, actor) -> QuerySet[Order]:
    """The pool: orders waiting for dispatch that an organisation the actor administers could claim
    (it serves the resident's street, or community) and has not declined before. Oldest first."""
    orgs = list(
        Organisation.objects.filter(
            pk__in=scope_for(actor).admin_org_ids, status=Organisation.Status.APPROVED
        ).values_list("pk", "street_id", "community_id")
    )
    where = Q(pk__in=[])
    for org_id, street_id, community_id in orgs:
        serves = Q(grid__community__street_id=street_id)
        if community_id is not None:
            serves &= Q(grid__community_id=community_id)
        declined = Exists(
            OrderEvent.objects.filter(
                order=OuterRef("pk"), kind=OrderEvent.Kind.DECLINED, organisation_id=org_id
            )
        )
        where |= serves & ~declined
    return (
        Order.objects.filter(where, status=Order.Status.ORDERED, organisation__isnull=True)
        .select_related(*ORDER_JOINS)
        .order_by("created_at", "pk")
    )


def order_for_page(*, code: str, actor) -> Order | None:
    """One order the actor may see, with its events (and their actors), volunteers and beneficiary."""
    return (
        orders_in_scope(actor=actor)
        .filter(code=code)
        .select_related("placed_by", "delivered_by", "resident__beneficiary")
        .prefetch_related(
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor", "organisation")),
            "assignments__person",
        )
        .first()
    )


# === catalogue and residents' pages (views/catalogue.py) ====================================================
# Imports of this section only (the module's own are at the top).
from dataclasses import dataclass as _dataclass  # noqa: E402
from datetime import timedelta as _timedelta  # noqa: E402

from django.db.models import BooleanField, ExpressionWrapper, F, IntegerField, Value  # noqa: E402

from volunteers.models import (  # noqa: E402
    GRID_WORKER_KINDS,
    IdentityClaim,
    Membership,
    StaffPost,
    User,
)

from .models import OrderAssignment, ServiceCategory, ServicePhoto  # noqa: E402

CATALOGUE_SESSION_DAYS = 14


def _rated_orders():
    return Order.objects.filter(service=OuterRef("pk"), rating__isnull=False).order_by().values("service")


def with_ratings(qs: QuerySet) -> QuerySet:
    """`rating_avg` (None when unrated) and `rating_count` (rated orders) on each service, as subqueries:
    one query whatever the number of services or orders."""
    return qs.annotate(
        rating_avg=Subquery(_rated_orders().annotate(a=Avg("rating")).values("a")),
        rating_count=Coalesce(
            Subquery(_rated_orders().annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
            Value(0),
        ),
    )


def _area(field: str, **lookups) -> Exists:
    through = getattr(Service, field).through
    return Exists(through.objects.filter(service_id=OuterRef("pk"), **lookups))


def serves_grid_q(grid: Grid) -> Q:
    """Services whose area holds `grid` (directly, through its community or its street), as EXISTS
    clauses on the area tables, so the filter never multiplies rows."""
    return (
        Q(_area("area_grids", grid_id=grid.pk))
        | Q(_area("area_communities", community_id=grid.community_id))
        | Q(_area("area_streets", street_id=grid.community.street_id))
    )


def serves_community_q(community: Community) -> Q:
    """Services that serve the community, its street or any grid of it."""
    return (
        Q(_area("area_grids", grid__community_id=community.pk))
        | Q(_area("area_communities", community_id=community.pk))
        | Q(_area("area_streets", street_id=community.street_id))
    )


def match_services(qs: QuerySet, text: str) -> QuerySet:
    """The catalogue page's text search: the site's Chinese word search (core.search: segmented, so a
    word inside a phrase is found — "助餐" finds 长者助餐点), plus the English category names for English
    readers."""
    text = one_line(text, 100)
    if not text:
        return qs
    return qs.filter(Q(pk__in=matching_pks(qs, text)) | Q(category__name_en__iexact=text))


@_dataclass(frozen=True)
class CatalogueFilters:
    category: ServiceCategory | None = None
    community: Community | None = None
    home_grid: Grid | None = None  # the viewer's: services serving it come first
    only_home: bool = False  # "serves my grid"
    text: str = ""


def catalogue_services(*, filters: CatalogueFilters = CatalogueFilters(), now=None) -> QuerySet:
    """Published services for the catalogue page with their rating, the next session's start and places
    left (`next_starts_at`, `next_places_left`: None for on-demand services or none planned) and whether
    they serve the viewer's home grid (`serves_home`, those first)."""
    now = now or timezone.now()
    qs = Service.objects.filter(status=Service.Status.PUBLISHED).select_related("category", "organisation")
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.community:
        qs = qs.filter(serves_community_q(filters.community))
    if filters.text:
        qs = match_services(qs, filters.text)
    upcoming = Session.objects.filter(service=OuterRef("pk"), cancelled=False, starts_at__gt=now).order_by(
        "starts_at"
    )
    qs = with_ratings(qs).annotate(
        next_starts_at=Subquery(upcoming.values("starts_at")[:1]),
        next_places_left=Subquery(
            upcoming.annotate(left=F("capacity") - F("booked")).values("left")[:1],
            output_field=IntegerField(),
        ),
    )
    if filters.home_grid is None:
        return qs.annotate(serves_home=Value(False)).order_by("category__position", "title", "pk")
    home = serves_grid_q(filters.home_grid)
    if filters.only_home:
        qs = qs.filter(home)
    qs = qs.annotate(serves_home=ExpressionWrapper(home, output_field=BooleanField()))
    return qs.order_by("-serves_home", "category__position", "title", "pk")


def catalogue_categories() -> list[ServiceCategory]:
    """Categories that have a published service, for the chips."""
    published = Service.objects.filter(category=OuterRef("pk"), status=Service.Status.PUBLISHED)
    return list(ServiceCategory.objects.filter(Exists(published)))


def catalogue_communities() -> list[Community]:
    return list(Community.objects.select_related("street").order_by("street__code", "code"))


def catalogue_service(code: str) -> Service | None:
    """A published service with everything its page shows (None otherwise: a draft or a suspended
    service does not exist for the catalogue, whoever asks)."""
    return (
        with_ratings(Service.objects.filter(code=code, status=Service.Status.PUBLISHED))
        .select_related("category", "organisation", "street")
        .prefetch_related(
            Prefetch("photos", queryset=ServicePhoto.objects.order_by("position", "id")),
            "area_streets",
            "area_communities",
            "area_grids__community__street",
        )
        .first()
    )


def bookable_sessions(service: Service, *, now=None, days: int = CATALOGUE_SESSION_DAYS) -> list[Session]:
    now = now or timezone.now()
    return list(
        Session.objects.filter(
            service=service, cancelled=False, starts_at__gt=now, starts_at__lt=now + _timedelta(days=days)
        ).order_by("starts_at")
    )


def live_bookings(*, service: Service, person) -> dict[int, Order]:
    """The person's live bookings of the service's sessions, by session id."""
    orders = Order.objects.filter(service=service, resident=person, session__isnull=False).exclude(
        status=Order.Status.CANCELLED
    )
    return {order.session_id: order for order in orders}


def open_request(*, service: Service, person) -> Order | None:
    return (
        Order.objects.filter(service=service, resident=person, status__in=Order.ACTIVE)
        .order_by("-created_at")
        .first()
    )


def rating_breakdown(service: Service) -> list[tuple[int, int]]:
    """[(5, n5), (4, n4), … (1, n1)]: how many rated orders gave each number of stars (one query)."""
    counts = dict(
        Order.objects.filter(service=service, rating__isnull=False)
        .order_by()
        .values_list("rating")
        .annotate(n=Count("pk"))
    )
    return [(stars, counts.get(stars, 0)) for stars in range(5, 0, -1)]


def recent_reviews(service: Service, *, limit: int = 5) -> list[Order]:
    """The latest rated orders with a comment; the page shows the resident's masked name only."""
    return list(
        Order.objects.filter(service=service, rating__isnull=False)
        .exclude(comment="")
        .select_related("resident")
        .order_by("-finished_at", "-id")[:limit]
    )


ORDER_GROUPS = {
    "active": (Order.Status.ORDERED, Order.Status.DISPATCHED, Order.Status.ACCEPTED),
    "to_rate": (Order.Status.DELIVERED,),
    "done": (Order.Status.COMPLETED, Order.Status.CLOSED),
    "cancelled": (Order.Status.CANCELLED,),
}


def my_orders(*, person, group: str = "") -> QuerySet:
    """The person's own orders (placed by them or for them), newest first, with what the list shows."""
    qs = Order.objects.filter(resident=person).select_related(
        "service__category", "service__organisation", "session", "organisation"
    )
    if group in ORDER_GROUPS:
        qs = qs.filter(status__in=ORDER_GROUPS[group])
    return qs.order_by("-created_at", "-id")


def my_order_counts(*, person) -> dict[str, int]:
    """How many of the person's orders are in each group, and in all (one query)."""
    return Order.objects.filter(resident=person).aggregate(
        all=Count("pk"),
        **{name: Count("pk", filter=Q(status__in=statuses)) for name, statuses in ORDER_GROUPS.items()},
    )


def order_page_order(code: str) -> Order | None:
    """An order by its code with what the order page shows; whether the viewer may see it is the
    view's question (scope, assignment or the claim pool)."""
    return (
        Order.objects.filter(code=code)
        .select_related(
            "service__category",
            "service__organisation",
            "session",
            "resident__beneficiary",
            "placed_by",
            "grid__community__street",
            "organisation",
            "delivered_by",
        )
        .prefetch_related(Prefetch("assignments", queryset=OrderAssignment.objects.select_related("person")))
        .first()
    )


def order_timeline(order: Order) -> list[OrderEvent]:
    return list(order.events.select_related("actor", "organisation").order_by("at", "id"))


def actor_roles(order: Order, actor_ids) -> dict[int, str]:
    """What each actor is to the order — "organisation" (an active member of its organisation),
    "volunteer" (assigned), "grid_worker" (of the resident's grid), "staff" (of its area) — in a fixed
    number of queries, so the resident's timeline can name roles and organisations rather than people."""
    ids = set(actor_ids) - {None}
    if not ids:
        return {}
    community = order.grid.community
    staff = set(
        StaffPost.objects.filter(person_id__in=ids)
        .filter(
            Q(community_id=community.pk)
            | Q(street_id=community.street_id)
            | Q(district_id=community.street.district_id)
        )
        .values_list("person_id", flat=True)
    )
    workers = set(
        IdentityClaim.objects.filter(
            person_id__in=ids,
            grid_id=order.grid_id,
            kind__in=GRID_WORKER_KINDS,
            status=IdentityClaim.Status.VERIFIED,
        ).values_list("person_id", flat=True)
    )
    members = set()
    if order.organisation_id:
        members = set(
            Membership.objects.filter(
                person_id__in=ids, organisation_id=order.organisation_id, status=Membership.Status.ACTIVE
            ).values_list("person_id", flat=True)
        )
    assigned = {a.person_id for a in order.assignments.all()}
    roles = {}
    for pk in ids:
        if pk in members:
            roles[pk] = "organisation"
        elif pk in assigned:
            roles[pk] = "volunteer"
        elif pk in workers:
            roles[pk] = "grid_worker"
        elif pk in staff:
            roles[pk] = "staff"
    return roles


def organisations_serving(grid: Grid) -> list[Organisation]:
    """Approved organisations whose area holds the grid (services.organisation_serves, as one query)."""
    return list(
        Organisation.objects.filter(status=Organisation.Status.APPROVED, street_id=grid.community.street_id)
        .filter(Q(community__isnull=True) | Q(community_id=grid.community_id))
        .order_by("name")
    )


def assignable_members(organisation_id: int) -> list:
    return list(
        User.objects.filter(
            memberships__organisation_id=organisation_id, memberships__status=Membership.Status.ACTIVE
        )
        .distinct()
        .order_by("name", "pk")
    )


# === end catalogue ==========================================================================================


# === the workbench (views/manage.py) ========================================================================
# Imports of this section only (the module's own are at the top).
from datetime import timedelta as _manage_timedelta  # noqa: E402

from volunteers.models import User as _User  # noqa: E402

WORKBENCH_RECENT_DAYS = 14
WORKBENCH_SECTION_LIMIT = 50


def member_organisations(*, actor) -> list[Organisation]:
    """The approved organisations the actor is an active member of, each with `is_admin` set."""
    scope = scope_for(actor)
    orgs = list(
        Organisation.objects.filter(pk__in=scope.member_org_ids, status=Organisation.Status.APPROVED)
        .select_related("street", "community")
        .order_by("name", "pk")
    )
    for org in orgs:
        org.is_admin = scope.superuser or org.pk in scope.admin_org_ids
    return orgs


def org_inbox(*, organisation: Organisation, now=None) -> dict[str, list[Order]]:
    """An organisation's orders by what it has to do next: accept, deliver, wait for the resident's
    confirmation; and what finished recently. One query per section, each capped."""
    now = now or timezone.now()
    base = Order.objects.filter(organisation=organisation).select_related(*ORDER_JOINS)
    limit = WORKBENCH_SECTION_LIMIT
    return {
        "to_accept": list(
            base.filter(status=Order.Status.DISPATCHED).order_by("stage_started_at", "pk")[:limit]
        ),
        "to_deliver": list(
            base.filter(status=Order.Status.ACCEPTED)
            .prefetch_related("assignments__person")
            .order_by("stage_started_at", "pk")[:limit]
        ),
        "to_confirm": list(base.filter(status=Order.Status.DELIVERED).order_by("delivered_at", "pk")[:limit]),
        "finished": list(
            base.filter(
                status__in=(Order.Status.COMPLETED, Order.Status.CLOSED, Order.Status.CANCELLED),
                finished_at__gte=now - _manage_timedelta(days=WORKBENCH_RECENT_DAYS),
            ).order_by("-finished_at", "-pk")[:20]
        ),
    }


def org_inbox_counts(*, organisation: Organisation, now=None) -> dict[str, int]:
    """How many orders each inbox section holds (the lists themselves are capped)."""
    now = now or timezone.now()
    return Order.objects.filter(organisation=organisation).aggregate(
        to_accept=Count("pk", filter=Q(status=Order.Status.DISPATCHED)),
        to_deliver=Count("pk", filter=Q(status=Order.Status.ACCEPTED)),
        to_confirm=Count("pk", filter=Q(status=Order.Status.DELIVERED)),
        finished=Count(
            "pk",
            filter=Q(
                status__in=(Order.Status.COMPLETED, Order.Status.CLOSED, Order.Status.CANCELLED),
                finished_at__gte=now - _manage_timedelta(days=WORKBENCH_RECENT_DAYS),
            ),
        ),
    )


def order_pool(*, organisation: Organisation) -> QuerySet[Order]:
    """The orders waiting for dispatch that `organisation` could claim: in its street (and community,
    if it has one — services.organisation_serves) and not declined by it before. Oldest first."""
    serves = Q(grid__community__street_id=organisation.street_id)
    if organisation.community_id is not None:
        serves &= Q(grid__community_id=organisation.community_id)
    declined = OrderEvent.objects.filter(
        order=OuterRef("pk"), kind=OrderEvent.Kind.DECLINED, organisation=organisation
    )
    return (
        Order.objects.filter(serves, status=Order.Status.ORDERED)
        .exclude(Exists(declined))
        .select_related(*ORDER_JOINS)
        .order_by("created_at", "pk")
    )


def organisation_services(*, organisation: Organisation) -> QuerySet[Service]:
    """All of an organisation's services, whatever their status, with their photo and order counts."""
    return (
        Service.objects.filter(organisation=organisation)
        .select_related("category", "street")
        .annotate(
            photo_count=Count("photos", distinct=True),
            open_orders=Count("orders", filter=Q(orders__status__in=Order.ACTIVE), distinct=True),
        )
        .order_by("status", "category__position", "title", "pk")
    )


def centre_services(*, actor) -> QuerySet[Service]:
    """The services the centre runs itself (no organisation) in the streets of a street or district
    staff member: they list and edit them on the workbench."""
    scope = scope_for(actor)
    qs = Service.objects.filter(organisation__isnull=True)
    if not scope.superuser:
        qs = qs.filter(Q(street_id__in=scope.street_ids) | Q(street__district_id__in=scope.district_ids))
    return (
        qs.select_related("category", "street")
        .annotate(
            photo_count=Count("photos", distinct=True),
            open_orders=Count("orders", filter=Q(orders__status__in=Order.ACTIVE), distinct=True),
        )
        .order_by("status", "category__position", "title", "pk")
    )


def _staff_grids(scope):
    """The grids in the places a staff member serves (not the grids they work in as a grid worker):
    Grid's scope rule lets only staff places change a grid."""
    return Grid.objects.filter(scope.change_q(Grid)).values("pk")


def orders_to_dispatch(*, actor) -> QuerySet[Order]:
    """Orders waiting for dispatch in the actor's staff area, longest waiting first."""
    return (
        Order.objects.filter(status=Order.Status.ORDERED, grid__in=_staff_grids(scope_for(actor)))
        .select_related(*ORDER_JOINS)
        .order_by("stage_started_at", "pk")
    )


def awards_to_review(*, actor) -> QuerySet[Order]:
    """Finished orders whose volunteers' points wait for a staff decision (poor rating, unconfirmed)."""
    return (
        Order.objects.filter(award=Order.Award.HELD, grid__in=_staff_grids(scope_for(actor)))
        .select_related(*ORDER_JOINS)
        .order_by("finished_at", "pk")
    )


def services_to_review(*, actor, status: str = Service.Status.PENDING) -> QuerySet[Service]:
    """Services the actor may decide on (services.do_review_service's rule) in one status: those waiting
    for review by default, oldest first; published ones to suspend, suspended ones to publish again."""
    scope = scope_for(actor)
    if not scope.is_staff:
        return Service.objects.none()
    return (
        scope.changeable(Service.objects.filter(status=status))
        .select_related("category", "organisation", "street")
        .order_by("updated_at", "pk")
    )


def staff_counts(*, actor, dispatch_hours: int, now=None) -> dict[str, int]:
    """The numbers on the staff tiles of the workbench: three aggregate queries whatever the rows."""
    now = now or timezone.now()
    scope = scope_for(actor)
    grids = _staff_grids(scope)
    orders = Order.objects.filter(grid__in=grids).aggregate(
        to_dispatch=Count("pk", filter=Q(status=Order.Status.ORDERED)),
        overdue=Count(
            "pk",
            filter=Q(
                status=Order.Status.ORDERED,
                stage_started_at__lt=now - _manage_timedelta(hours=dispatch_hours),
            ),
        ),
        held=Count("pk", filter=Q(award=Order.Award.HELD)),
    )
    return {**orders, "to_review": services_to_review(actor=actor).count()}


def residents_of(*, actor, search: str = "") -> QuerySet[_User]:
    """The people whose home grid the actor looks after (services.check_can_act_for's rule), with their
    grid and service details. `search`: part of the name, or the last digits of the mobile number."""
    qs = _User.objects.filter(home_grid__in=scope_for(actor).managed_grids().values("pk"))
    search = one_line(search, 40)
    if search:
        digits = search.replace(" ", "")
        if digits.isdigit() and len(digits) >= 4:
            qs = qs.filter(Q(phone__endswith=digits) | Q(name__icontains=search))
        else:
            qs = qs.filter(name__icontains=search)
    return qs.select_related("home_grid__community", "beneficiary").order_by("name", "pk")


def resident_for_worker(*, actor, person_id) -> _User | None:
    return residents_of(actor=actor).filter(pk=person_id).first()


# === end workbench ==========================================================================================


# === dining points and classes, cards, insight (views/dining.py) ============================================
# Imports of this section only (the module's own are at the top).
from dataclasses import dataclass as _dining_dataclass  # noqa: E402
from datetime import date as _date  # noqa: E402
from datetime import datetime as _datetime  # noqa: E402
from datetime import time as _time  # noqa: E402
from datetime import timedelta as _dining_timedelta  # noqa: E402

from django.db.models import DurationField as _DurationField  # noqa: E402
from django.db.models import ExpressionWrapper as _ExpressionWrapper  # noqa: E402
from django.db.models import F as _F  # noqa: E402


def _day_bounds(day: _date) -> tuple[_datetime, _datetime]:
    """The first moment of `day` and of the next day, on the site's calendar (Asia/Shanghai)."""
    zone = timezone.get_current_timezone()
    start = _datetime.combine(day, _time.min, tzinfo=zone)
    return start, _datetime.combine(day + _dining_timedelta(days=1), _time.min, tzinfo=zone)


def month_bounds(month: _date) -> tuple[_datetime, _datetime]:
    """The first moment of the month of `month` and of the next month (Asia/Shanghai)."""
    zone = timezone.get_current_timezone()
    first = month.replace(day=1)
    following = (first + _dining_timedelta(days=32)).replace(day=1)
    return (
        _datetime.combine(first, _time.min, tzinfo=zone),
        _datetime.combine(following, _time.min, tzinfo=zone),
    )


# --- the QR card's page -----------------------------------------------------------------------------------
def card_orders(*, resident, today: _date | None = None) -> list[Order]:
    """The resident's orders someone holding their card may act on: accepted or delivered (to check in
    at the door, record the delivery, confirm and rate) and today's session bookings (to mark attended).
    A resident has a handful of these at a time; who may act on each is the view's question."""
    start, end = _day_bounds(today or timezone.localdate())
    today_sessions = Q(session__starts_at__gte=start, session__starts_at__lt=end) & ~Q(
        status=Order.Status.CANCELLED
    )
    return list(
        Order.objects.filter(resident=resident)
        .filter(Q(status__in=(Order.Status.ACCEPTED, Order.Status.DELIVERED)) | today_sessions)
        .select_related("service__organisation", "session", "organisation", "grid")
        .order_by("session__starts_at", "created_at", "pk")
    )


# --- session rosters --------------------------------------------------------------------------------------
def session_services_for(actor) -> QuerySet[Service]:
    """Session services whose rosters the actor keeps (services.can_run_sessions, as one filter):
    members of the service's organisation, and whoever may change the service."""
    scope = scope_for(actor)
    qs = Service.objects.filter(mode=Service.Mode.SESSIONS)
    if not scope.superuser:
        qs = qs.filter(scope.change_q(Service) | Q(organisation_id__in=scope.member_org_ids)).distinct()
    return qs.select_related("organisation", "category", "street").order_by("title", "pk")


def roster_sessions(*, service: Service, day: _date) -> list[Session]:
    """The service's sessions on `day`, each with `roster`: its live bookings with the resident, their
    dietary notes and who booked for them. Two queries whatever the number of sessions and bookings."""
    start, end = _day_bounds(day)
    bookings = (
        Order.objects.exclude(status=Order.Status.CANCELLED)
        .select_related("resident__beneficiary", "placed_by")
        .order_by("resident__name", "resident_id")
    )
    return list(
        Session.objects.filter(service=service, starts_at__gte=start, starts_at__lt=end)
        .prefetch_related(Prefetch("orders", queryset=bookings, to_attr="roster"))
        .order_by("starts_at", "pk")
    )


def roster_session(*, service: Service, session_id) -> Session | None:
    return Session.objects.filter(service=service, pk=session_id).select_related("service").first()


def booking_in_session(*, session: Session, order_code: str) -> Order | None:
    return (
        Order.objects.filter(session=session, code=order_code)
        .exclude(status=Order.Status.CANCELLED)
        .select_related("resident__beneficiary")
        .first()
    )


@_dining_dataclass(frozen=True)
class SubsidyLine:
    name: str
    subsidy_group: str
    booked: int
    attended: int


def subsidy_lines(*, service: Service, month: _date) -> list[SubsidyLine]:
    """One line per resident who booked a session of the service in the month (its sessions' dates, on
    the site's calendar): sessions booked and attended. One aggregate query whatever the rows."""
    start, end = month_bounds(month)
    rows = (
        Order.objects.filter(
            service=service,
            session__starts_at__gte=start,
            session__starts_at__lt=end,
            session__cancelled=False,
        )
        .exclude(status=Order.Status.CANCELLED)
        .order_by()
        .values("resident_id", "resident__name", "resident__beneficiary__subsidy_group")
        .annotate(booked=Count("pk"), attended=Count("pk", filter=Q(attended_at__isnull=False)))
        .order_by("resident__name", "resident_id")
    )
    return [
        SubsidyLine(
            name=row["resident__name"],
            subsidy_group=row["resident__beneficiary__subsidy_group"] or "",
            booked=row["booked"],
            attended=row["attended"],
        )
        for row in rows
    ]


# --- insight for staff: orders, response times, ratings and the seed's two rankings ------------------
# The figures use the shapes every report shares (core.reports: Table, Column, Chart and the per-month
# grouping in Asia/Shanghai), so the page's charts, the XLSX and the admin dashboard read alike. Every
# table is one aggregate query (Count/Avg with filter=), so the number of queries is fixed whatever the
# number of orders.
from django.utils.translation import gettext  # noqa: E402

from core import periods as _periods  # noqa: E402
from core import reports as _reports  # noqa: E402
from points.cases.models import Case as _Case  # noqa: E402

_Chart, _Column, _Table = _reports.Chart, _reports.Column, _reports.Table
_per_month = _reports.per_month
_COUNT, _HOURS, _PERCENT, _RATING, _TEXT = (
    _reports.COUNT,
    _reports.HOURS,
    _reports.PERCENT,
    _reports.RATING,
    _reports.TEXT,
)

DONE = (Order.Status.COMPLETED, Order.Status.CLOSED)
FINISHED = (*DONE, Order.Status.CANCELLED)
RANKING_LENGTH = 10


def _duration(start: str, end: str) -> _ExpressionWrapper:
    return _ExpressionWrapper(_F(end) - _F(start), output_field=_DurationField())


# One dict of aggregates serves every grouping (month, category, community, organisation).
INSIGHT_FIGURES = {
    "orders": Count("pk"),
    "done": Count("pk", filter=Q(status__in=DONE)),
    "finished": Count("pk", filter=Q(status__in=FINISHED)),
    "cancelled": Count("pk", filter=Q(status=Order.Status.CANCELLED)),
    "rated": Count("rating"),
    "rating_avg": Avg("rating"),
    **{f"stars_{n}": Count("pk", filter=Q(rating=n)) for n in range(1, 6)},
    "to_accept": Avg(_duration("created_at", "accepted_at"), filter=Q(accepted_at__isnull=False)),
    "to_deliver": Avg(_duration("created_at", "delivered_at"), filter=Q(delivered_at__isnull=False)),
}


def _n(row, key) -> int:
    return (row or {}).get(key) or 0


def _hours(duration) -> float | None:
    return None if duration is None else round(duration.total_seconds() / 3600, 1)


def _stars(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _percent(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def _loop_cells(row) -> list:
    """Orders, done, cancelled, completion rate, rated, average rating, hours to accept and to deliver."""
    return [
        _n(row, "orders"),
        _n(row, "done"),
        _n(row, "cancelled"),
        _percent(_n(row, "done"), _n(row, "finished")),
        _n(row, "rated"),
        _stars((row or {}).get("rating_avg")),
        _hours((row or {}).get("to_accept")),
        _hours((row or {}).get("to_deliver")),
    ]


def _loop_columns(first: _Column) -> list[_Column]:
    return [
        first,
        _Column("orders", gettext("Orders")),
        _Column("done", gettext("Completed")),
        _Column("cancelled", gettext("Cancelled")),
        _Column("completion", gettext("Completion rate (%)"), _PERCENT),
        _Column("rated", gettext("Rated")),
        _Column("rating", gettext("Average rating (1–5)"), _RATING),
        _Column("to_accept", gettext("Average hours to acceptance"), _HOURS),
        _Column("to_deliver", gettext("Average hours to delivery"), _HOURS),
    ]


def _loop_total(overall: dict) -> list:
    # Rates and averages of a total come from one aggregate over all the orders, not from the rows.
    return [gettext("Total"), *_loop_cells(overall)]


def _grouped(queryset: QuerySet, lookup: str, aggregates: dict) -> dict:
    """One query: `aggregates` for each value of `lookup` (a category, a community)."""
    rows = queryset.order_by().values(lookup).annotate(**aggregates)
    return {row[lookup]: row for row in rows}


@_dining_dataclass
class Headline:
    label: str
    value: int | float | None
    kind: str = _COUNT


@_dining_dataclass
class InsightReport:
    period: _periods.Period
    communities: list
    headline: list[Headline]
    tables: list[_Table]

    @property
    def by_key(self) -> dict[str, _Table]:
        return {table.key: table for table in self.tables}

    def charts(self) -> list[dict]:
        return [data for table in self.tables if (data := table.chart_data())]


def insight_report(*, communities: list[Community], period: _periods.Period) -> InsightReport:
    """Service orders of residents of `communities` (already narrowed to the staff member's scope), placed
    within `period`, and the problems reported in their grids. An order counts in the community of its
    grid (the resident's home grid when ordering: the scope rule's place) and the month it was placed."""
    ids = [community.pk for community in communities]
    orders = Order.objects.filter(grid__community__in=ids)
    in_period = orders.filter(created_at__gte=period.start, created_at__lt=period.end)

    overall = in_period.aggregate(**INSIGHT_FIGURES)
    by_month = _per_month(orders, "created_at", period, INSIGHT_FIGURES)
    by_community = _grouped(in_period, "grid__community", INSIGHT_FIGURES)
    categories = list(ServiceCategory.objects.order_by("position", "slug"))
    category_label = {category.pk: category.label for category in categories}
    by_category = _grouped(in_period, "service__category", INSIGHT_FIGURES)
    by_organisation = list(
        in_period.filter(organisation__isnull=False)
        .order_by()
        .values("organisation", "organisation__name")
        .annotate(**INSIGHT_FIGURES)
        .order_by("organisation__name", "organisation")
    )
    top_services = list(
        in_period.order_by()
        .values("service", "service__title", "service__category")
        .annotate(orders=Count("pk"))
        .order_by("-orders", "service__title", "service")[:RANKING_LENGTH]
    )
    # "群众最常遇到的问题" (seed 002: the work orders of the grid system, classified by how often a problem
    # occurs). Here those are the incidents and cases reported in the grids (points.cases): each has a
    # category from the reward table and the grid it happened in. Rejected reports are not problems.
    problems = list(
        _Case.objects.filter(grid__community__in=ids, created_at__gte=period.start, created_at__lt=period.end)
        .exclude(status=_Case.Status.REJECTED)
        .order_by()
        .values("category", "category__name")
        .annotate(reports=Count("pk"), closed=Count("pk", filter=Q(status=_Case.Status.CLOSED)))
        .order_by("-reports", "category__name", "category")
    )

    tables = []
    month_columns = _loop_columns(_Column("month", gettext("Month"), _TEXT))
    tables.append(
        _Table(
            "orders_by_month",
            gettext("Orders per month"),
            month_columns,
            [[_periods.month_label(month), *_loop_cells(by_month.get(month))] for month in period.months],
            total=_loop_total(overall),
            chart=_Chart(series=("orders", "done"), lines=("to_accept", "to_deliver")),
            note=gettext(
                "Orders count in the month they were placed. Completed: confirmed by the resident or "
                "closed automatically after delivery; the completion rate is their share of the orders "
                "that have ended (completed or cancelled). Hours run from the order to its acceptance "
                "and to its delivery."
            ),
        )
    )
    category_columns = _loop_columns(_Column("category", gettext("Service category"), _TEXT))
    tables.append(
        _Table(
            "orders_by_category",
            gettext("Orders, completion and ratings by service category"),
            category_columns,
            [[category.label, *_loop_cells(by_category.get(category.pk))] for category in categories],
            total=_loop_total(overall),
            chart=_Chart(series=("orders", "done"), horizontal=True),
        )
    )
    community_columns = _loop_columns(_Column("community", gettext("Community"), _TEXT))
    tables.append(
        _Table(
            "orders_by_community",
            gettext("Orders, completion and ratings by community"),
            community_columns,
            [[community.name, *_loop_cells(by_community.get(community.pk))] for community in communities],
            total=_loop_total(overall),
            chart=_Chart(series=("orders", "done"), horizontal=True),
            note=gettext("Orders count in the community of the resident's home grid."),
        )
    )
    star_columns = [_Column("stars", gettext("Rating"), _TEXT), _Column("orders", gettext("Orders"))]
    star_rows = [[gettext("%(n)d stars") % {"n": n}, _n(overall, f"stars_{n}")] for n in range(5, 0, -1)]
    tables.append(
        _Table(
            "rating_distribution",
            gettext("How residents rated the services"),
            star_columns,
            star_rows,
            total=[gettext("Total"), sum(row[1] for row in star_rows)],
            chart=_Chart(series=("orders",), horizontal=True),
        )
    )
    organisation_columns = [
        _Column("organisation", gettext("Organisation"), _TEXT),
        _Column("orders", gettext("Orders")),
        _Column("done", gettext("Completed")),
        _Column("completion", gettext("Completion rate (%)"), _PERCENT),
        _Column("rated", gettext("Rated")),
        _Column("rating", gettext("Average rating (1–5)"), _RATING),
        *(_Column(f"stars_{n}", gettext("%(n)d stars") % {"n": n}) for n in range(5, 0, -1)),
    ]
    organisation_rows = [
        [
            row["organisation__name"],
            row["orders"],
            row["done"],
            _percent(row["done"], row["finished"]),
            row["rated"],
            _stars(row["rating_avg"]),
            *(row[f"stars_{n}"] for n in range(5, 0, -1)),
        ]
        for row in by_organisation
    ]
    tables.append(
        _Table(
            "ratings_by_organisation",
            gettext("Ratings by organisation"),
            organisation_columns,
            organisation_rows,
            chart=_Chart(series=("rating",), horizontal=True),
            note=gettext("Orders an organisation accepted or was sent, by the organisation serving them."),
        )
    )
    total_orders = overall["orders"] or 0
    needed_rows = sorted(
        (
            [category.label, _n(by_category.get(category.pk), "orders"), 0.0]
            for category in categories
            if _n(by_category.get(category.pk), "orders")
        ),
        key=lambda row: -row[1],
    )
    for row in needed_rows:
        row[2] = _percent(row[1], total_orders)
    tables.append(
        _Table(
            "needed_categories",
            gettext("Services residents need most"),
            [
                _Column("category", gettext("Service category"), _TEXT),
                _Column("orders", gettext("Orders")),
                _Column("share", gettext("Share of orders (%)"), _PERCENT),
            ],
            needed_rows,
            chart=_Chart(series=("orders",), horizontal=True),
            note=gettext("Service categories ranked by the number of orders residents placed."),
        )
    )
    tables.append(
        _Table(
            "needed_services",
            gettext("Services ordered most"),
            [
                _Column("service", gettext("Service"), _TEXT),
                _Column("category", gettext("Service category"), _TEXT),
                _Column("orders", gettext("Orders")),
            ],
            [
                [
                    row["service__title"],
                    category_label.get(row["service__category"], ""),
                    row["orders"],
                ]
                for row in top_services
            ],
            note=gettext("The %(n)d services with the most orders.") % {"n": RANKING_LENGTH},
        )
    )
    tables.append(
        _Table(
            "problems",
            gettext("Problems residents meet most"),
            [
                _Column("category", gettext("Kind of problem"), _TEXT),
                _Column("reports", gettext("Times reported")),
                _Column("closed", gettext("Resolved")),
            ],
            [[row["category__name"], row["reports"], row["closed"]] for row in problems[:RANKING_LENGTH]],
            chart=_Chart(series=("reports",), horizontal=True),
            note=gettext(
                "Incidents and cases reported in the grids of these communities, by category, "
                "rejected reports left out."
            ),
        )
    )
    headline = [
        Headline(gettext("Orders"), total_orders),
        Headline(
            gettext("Completion rate (%)"),
            _percent(overall["done"] or 0, overall["finished"] or 0),
            _PERCENT,
        ),
        Headline(gettext("Average rating (1–5)"), _stars(overall["rating_avg"]), _RATING),
        Headline(gettext("Average hours to acceptance"), _hours(overall["to_accept"]), _HOURS),
        Headline(gettext("Average hours to delivery"), _hours(overall["to_deliver"]), _HOURS),
        Headline(gettext("Problems reported"), sum(row["reports"] for row in problems)),
    ]
    return InsightReport(period=period, communities=communities, headline=headline, tables=tables)
