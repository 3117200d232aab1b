"""The dashboard's figures, each computed by an aggregate query over the communities it is asked about.

Every figure is a `Count`, `Sum` or `Avg` (with `filter=` where one query yields several figures) grouped
either by calendar month (`TruncMonth` in the site's zone, Asia/Shanghai) or by community, so the number
of queries depends on the number of sections, never on the number of rows counted. Python only reshapes
the grouped results (at most a few dozen rows: months × communities or categories) into tables.

Where each thing is counted, and when:

| figure | community | month |
|---|---|---|
| people | their home grid's | they registered |
| verified identities | the claim's grid's, else the person's home grid's (scope rule) | the verification |
| tasks, sign-ups, attendance | the task's grid's | the task starts (only tasks that have started) |
| verified hours, points | the person's home grid's | the ledger entry was posted |
| redemptions collected | the person's home grid's | the item was handed over |
| service orders | the order's grid (the resident's home grid when ordering) | the order was placed |
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import (
    Avg,
    BigIntegerField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.periods import Period, month_label, month_of, zone
from core.reports import (
    COUNT,
    HOURS,
    PERCENT,
    RATING,
    TEXT,
    Chart,
    Column,
    Table,
    per_community,
    per_month,
    within,
)
from points.models import Account, Entry
from points.redemption.models import Redemption
from services_catalog.models import Order, ServiceCategory
from volunteers.gridtasks.models import GridTask, SignUp
from volunteers.models import IDENTITY_TIER, Community, IdentityClaim, IdentityEvent, IdentityKind, User
from volunteers.scopes import Scope


@dataclass
class Section:
    key: str
    title: str
    tables: list[Table]
    intro: str = ""


@dataclass
class Figure:
    label: str
    value: int | float | None
    kind: str = COUNT


@dataclass
class Report:
    period: Period
    communities: list[Community]
    sections: list[Section]
    headline: list[Figure] = field(default_factory=list)

    @property
    def tables(self) -> dict[str, Table]:
        return {table.key: table for section in self.sections for table in section.tables}


def communities_of(scope: Scope) -> QuerySet[Community]:
    """The communities a staff member serves: their community, their street's or their district's."""
    return scope.changeable(Community.objects.all()).order_by("street__code", "code")


# --- helpers -------------------------------------------------------------------------------------------
def _number(row: dict | None, key: str) -> int:
    return (row or {}).get(key) or 0


def _hours(minutes) -> float:
    return round((minutes or 0) / 60, 1)


def _avg_hours(duration) -> float | None:
    return None if duration is None else round(duration.total_seconds() / 3600, 1)


def _rating(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _rate(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def _sum_column(rows: list[list], index: int) -> int | float:
    return sum(row[index] or 0 for row in rows)


def _rows(keys: Iterable, label: Callable, data: dict, cells: Callable) -> list[list]:
    return [[label(key), *cells(data.get(key))] for key in keys]


def _totals(columns: list[Column], rows: list[list], overrides: dict | None = None) -> list:
    """A total row: additive columns summed (hours rounded again), the others from `overrides`."""
    overrides = overrides or {}
    total = [_("Total")]
    for i, column in enumerate(columns[1:], start=1):
        if column.key in overrides:
            total.append(overrides[column.key])
        elif column.kind == COUNT:
            total.append(_sum_column(rows, i))
        elif column.kind == HOURS:
            total.append(round(_sum_column(rows, i), 1))
        else:
            total.append(None)
    return total


# --- 1. people and identities --------------------------------------------------------------------------
TIER_KINDS = {
    tier: [kind for kind in IdentityKind.values if IDENTITY_TIER.get(kind, "N") == tier]
    for tier in ("1", "3", "N")
}


def _claim_place(prefix: str = "") -> Coalesce:
    # As the scope rule reads a claim: its grid's community, or for a claim without a grid (a deputy),
    # the community of the person's home grid.
    return Coalesce(
        f"{prefix}grid__community_id",
        f"{prefix}person__home_grid__community_id",
        output_field=BigIntegerField(),
    )


def people_section(ids: list[int], communities: list[Community], period: Period) -> Section:
    people = User.objects.filter(home_grid__community__in=ids)
    joined = per_month(people, "date_joined", period, {"new": Count("pk")})
    people_by_community = per_community(
        people,
        "home_grid__community",
        {"registered": Count("pk"), "new": Count("pk", filter=within("date_joined", period))},
    )
    verifications = per_month(
        IdentityEvent.objects.filter(status=IdentityClaim.Status.VERIFIED)
        .annotate(place=_claim_place("claim__"))
        .filter(place__in=ids),
        "at",
        period,
        {"verified": Count("pk")},
    )
    verified_claims = (
        IdentityClaim.objects.filter(status=IdentityClaim.Status.VERIFIED)
        .annotate(place=_claim_place())
        .filter(place__in=ids)
    )
    holders = {
        "holders": Count("person", distinct=True),
        **{
            f"tier_{tier.lower()}": Count("person", distinct=True, filter=Q(kind__in=kinds))
            for tier, kinds in TIER_KINDS.items()
        },
    }
    holders_by_community = per_community(verified_claims, "place", holders)
    holders_total = verified_claims.aggregate(**holders)
    by_kind = {
        row["kind"]: row
        for row in verified_claims.order_by().values("kind").annotate(people=Count("person", distinct=True))
    }

    month_columns = [
        Column("month", pgettext("statistics", "Month"), TEXT),
        Column("new", _("New registrations")),
        Column("verified", _("Identities verified")),
    ]
    month_rows = [
        [month_label(month), _number(joined.get(month), "new"), _number(verifications.get(month), "verified")]
        for month in period.months
    ]
    community_columns = [
        Column("community", _("Community"), TEXT),
        Column("registered", _("Registered people (now)")),
        Column("new", _("New registrations")),
        Column("holders", _("People with a verified identity (now)")),
        Column("tier_1", _("“1”: party members")),
        Column("tier_3", _("“3” identities")),
        Column("tier_n", _("“N” identities")),
    ]
    community_rows = [
        [
            community.name,
            _number(people_by_community.get(community.pk), "registered"),
            _number(people_by_community.get(community.pk), "new"),
            *(
                _number(holders_by_community.get(community.pk), key)
                for key in ("holders", "tier_1", "tier_3", "tier_n")
            ),
        ]
        for community in communities
    ]
    kind_columns = [
        Column("kind", _("Identity"), TEXT),
        Column("tier", _("“1+3+N” group"), TEXT),
        Column("people", _("People (now)")),
    ]
    kind_rows = [
        [str(kind.label), IDENTITY_TIER.get(kind, "N"), _number(by_kind.get(kind.value), "people")]
        for kind in IdentityKind
    ]
    # A person may hold several identities or have them in several communities: the total counts each
    # person once, from its own query, instead of adding up the rows.
    distinct_totals = {key: holders_total[key] or 0 for key in ("holders", "tier_1", "tier_3", "tier_n")}
    return Section(
        "people",
        _("People and identities"),
        [
            Table(
                "people_by_month",
                _("Registrations and verified identities per month"),
                month_columns,
                month_rows,
                total=_totals(month_columns, month_rows),
                chart=Chart(series=("new", "verified")),
            ),
            Table(
                "people_by_community",
                _("People and identities per community"),
                community_columns,
                community_rows,
                total=_totals(community_columns, community_rows, distinct_totals),
                note=_(
                    "People are counted in the community of their home grid; identities in the community "
                    "of the grid they were claimed for. “3”: deputies, legal officers and full-time grid "
                    "workers; “N”: every other identity. “Now” columns do not depend on the period."
                ),
                chart=Chart(series=("registered", "holders"), horizontal=True),
            ),
            Table(
                "identities_by_kind",
                _("Verified “1+3+N” identities by kind (now)"),
                kind_columns,
                kind_rows,
                total=None,
                note=_("A person who holds several identities is counted under each of them."),
                chart=Chart(series=("people",), horizontal=True),
            ),
        ],
    )


# --- 2. grid tasks and hours ---------------------------------------------------------------------------
PLACE_TAKEN = (SignUp.Status.CONFIRMED, SignUp.Status.ATTENDED, SignUp.Status.NO_SHOW)
SIGNUP_FIGURES = {
    "signups": Count("pk", filter=Q(status__in=PLACE_TAKEN)),
    "attended": Count("pk", filter=Q(status=SignUp.Status.ATTENDED)),
    "no_shows": Count("pk", filter=Q(status=SignUp.Status.NO_SHOW)),
}


def tasks_section(ids: list[int], communities: list[Community], period: Period, now: datetime) -> Section:
    tasks = GridTask.objects.filter(
        status=GridTask.Status.PUBLISHED, grid__community__in=ids, starts_at__lte=now
    )
    signups = SignUp.objects.filter(
        task__status=GridTask.Status.PUBLISHED, task__grid__community__in=ids, task__starts_at__lte=now
    )
    minutes = Entry.objects.filter(
        account__unit=Account.Unit.MINUTES, account__person__home_grid__community__in=ids
    )
    by_month = {
        "tasks": per_month(tasks, "starts_at", period, {"tasks": Count("pk")}),
        "signups": per_month(signups, "task__starts_at", period, SIGNUP_FIGURES),
        "minutes": per_month(minutes, "created_at", period, {"minutes": Sum("amount")}),
    }
    by_community = {
        "tasks": per_community(
            tasks.filter(within("starts_at", period)), "grid__community", {"tasks": Count("pk")}
        ),
        "signups": per_community(
            signups.filter(within("task__starts_at", period)), "task__grid__community", SIGNUP_FIGURES
        ),
        "minutes": per_community(
            minutes.filter(within("created_at", period)),
            "account__person__home_grid__community",
            {"minutes": Sum("amount")},
        ),
    }

    def cells(data, key):
        signup_row = data["signups"].get(key)
        attended, no_shows = _number(signup_row, "attended"), _number(signup_row, "no_shows")
        return [
            _number(data["tasks"].get(key), "tasks"),
            _number(signup_row, "signups"),
            attended,
            no_shows,
            _rate(attended, attended + no_shows),
            _hours(_number(data["minutes"].get(key), "minutes")),
        ]

    def columns(first: Column) -> list[Column]:
        return [
            first,
            Column("tasks", _("Tasks held")),
            Column("signups", _("Places taken")),
            Column("attended", _("Attendances")),
            Column("no_shows", _("No-shows")),
            Column("attendance_rate", _("Attendance rate (%)"), PERCENT),
            Column("hours", _("Verified hours"), HOURS),
        ]

    def total(cols, rows, data):
        attended, no_shows = _sum_column(rows, 3), _sum_column(rows, 4)
        # Hours from the minutes, not from the rounded hours of each row.
        minutes = sum(_number(row, "minutes") for row in data["minutes"].values())
        return _totals(
            cols, rows, {"attendance_rate": _rate(attended, attended + no_shows), "hours": _hours(minutes)}
        )

    month_columns = columns(Column("month", pgettext("statistics", "Month"), TEXT))
    month_rows = [[month_label(month), *cells(by_month, month)] for month in period.months]
    community_columns = columns(Column("community", _("Community"), TEXT))
    community_rows = [[community.name, *cells(by_community, community.pk)] for community in communities]
    return Section(
        "tasks",
        _("Grid tasks and service hours"),
        [
            Table(
                "tasks_by_month",
                _("Tasks, attendance and verified hours per month"),
                month_columns,
                month_rows,
                total=total(month_columns, month_rows, by_month),
                chart=Chart(series=("tasks", "signups", "attended"), lines=("hours",)),
            ),
            Table(
                "tasks_by_community",
                _("Tasks, attendance and verified hours per community"),
                community_columns,
                community_rows,
                total=total(community_columns, community_rows, by_community),
                note=_(
                    "Tasks that have started, in the month they start and the community of their grid; "
                    "places taken are confirmed sign-ups, attendances and no-shows. Verified hours are those "
                    "credited to people's records that month, counted in the community of their home grid."
                ),
                chart=Chart(series=("tasks", "attended"), lines=("hours",)),
            ),
        ],
    )


# --- 3. points awarded and redeemed --------------------------------------------------------------------
EARNING_KINDS = (
    Entry.Kind.ATTENDANCE,
    Entry.Kind.INCIDENT_REWARD,
    Entry.Kind.CASE_REWARD,
    Entry.Kind.ORDER_SERVICE,
    Entry.Kind.ADJUSTMENT,
)
POINT_FIGURES = {
    "awarded": Sum("amount", filter=Q(kind__in=EARNING_KINDS, amount__gt=0)),
    "redeemed": Sum("amount", filter=Q(kind=Entry.Kind.REDEMPTION)),
    "refunded": Sum("amount", filter=Q(kind=Entry.Kind.REFUND)),
    "expired": Sum("amount", filter=Q(kind=Entry.Kind.EXPIRY)),
    "corrections": Sum(
        "amount", filter=Q(kind=Entry.Kind.REVERSAL) | Q(kind=Entry.Kind.ADJUSTMENT, amount__lt=0)
    ),
}


def points_section(ids: list[int], communities: list[Community], period: Period) -> Section:
    entries = Entry.objects.filter(
        account__unit=Account.Unit.POINTS, account__person__home_grid__community__in=ids
    )
    collected = Redemption.objects.filter(
        status=Redemption.Status.HANDED_OVER, person__home_grid__community__in=ids
    )
    by_month = {
        "entries": per_month(entries, "created_at", period, POINT_FIGURES),
        "collected": per_month(collected, "handed_over_at", period, {"collected": Count("pk")}),
    }
    by_community = {
        "entries": per_community(
            entries.filter(within("created_at", period)),
            "account__person__home_grid__community",
            POINT_FIGURES,
        ),
        "collected": per_community(
            collected.filter(within("handed_over_at", period)),
            "person__home_grid__community",
            {"collected": Count("pk")},
        ),
    }
    by_kind = {
        row["kind"]: row
        for row in entries.filter(within("created_at", period))
        .order_by()
        .values("kind")
        .annotate(entries=Count("pk"), points=Sum("amount"))
    }

    def cells(data, key):
        row = data["entries"].get(key)
        return [
            _number(row, "awarded"),
            -_number(row, "redeemed"),
            _number(row, "refunded"),
            -_number(row, "expired"),
            _number(row, "corrections"),
            _number(data["collected"].get(key), "collected"),
        ]

    def columns(first: Column) -> list[Column]:
        return [
            first,
            Column("awarded", _("Points awarded")),
            Column("redeemed", _("Points redeemed")),
            Column("refunded", _("Points refunded")),
            Column("expired", _("Points expired")),
            Column("corrections", _("Corrections")),
            Column("collected", _("Rewards collected")),
        ]

    month_columns = columns(Column("month", pgettext("statistics", "Month"), TEXT))
    month_rows = [[month_label(month), *cells(by_month, month)] for month in period.months]
    community_columns = columns(Column("community", _("Community"), TEXT))
    community_rows = [[community.name, *cells(by_community, community.pk)] for community in communities]
    kind_columns = [
        Column("kind", _("Kind of entry"), TEXT),
        Column("entries", _("Ledger entries")),
        Column("points", _("Points (net)")),
    ]
    kind_rows = [
        [
            str(kind.label),
            _number(by_kind.get(kind.value), "entries"),
            _number(by_kind.get(kind.value), "points"),
        ]
        for kind in Entry.Kind
    ]
    return Section(
        "points",
        _("Points awarded and redeemed"),
        [
            Table(
                "points_by_month",
                _("Points per month"),
                month_columns,
                month_rows,
                total=_totals(month_columns, month_rows),
                chart=Chart(series=("awarded", "redeemed")),
            ),
            Table(
                "points_by_community",
                _("Points per community"),
                community_columns,
                community_rows,
                total=_totals(community_columns, community_rows),
                note=_(
                    "Counted in the community of the person's home grid, in the month the ledger entry was "
                    "posted. Points awarded: attendance, rewards, service orders and additions by staff; "
                    "corrections: reversals and deductions by staff."
                ),
                chart=Chart(series=("awarded", "redeemed"), horizontal=True),
            ),
            Table(
                "points_by_kind",
                _("Ledger entries by kind"),
                kind_columns,
                kind_rows,
                total=_totals(kind_columns, kind_rows),
                chart=None,
            ),
        ],
    )


# --- 4. service orders and ratings ---------------------------------------------------------------------
def _hours_between(start: str, end: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


ORDER_FIGURES = {
    "orders": Count("pk"),
    "completed": Count("pk", filter=Q(status=Order.Status.COMPLETED)),
    "cancelled": Count("pk", filter=Q(status=Order.Status.CANCELLED)),
    "rated": Count("rating"),
    "rating": Avg("rating"),
    "to_accept": Avg(_hours_between("created_at", "accepted_at"), filter=Q(accepted_at__isnull=False)),
    "to_deliver": Avg(_hours_between("created_at", "delivered_at"), filter=Q(delivered_at__isnull=False)),
}


def orders_section(ids: list[int], communities: list[Community], period: Period) -> Section:
    orders = Order.objects.filter(grid__community__in=ids)
    in_period = orders.filter(within("created_at", period))
    categories = list(ServiceCategory.objects.order_by("position", "slug"))
    by_month = per_month(orders, "created_at", period, ORDER_FIGURES)
    by_community = per_community(in_period, "grid__community", ORDER_FIGURES)
    overall = in_period.aggregate(**ORDER_FIGURES)
    by_month_and_category = {
        (month_of(row["bucket_month"]), row["service__category"]): row["orders"]
        for row in in_period.annotate(bucket_month=TruncMonth("created_at", tzinfo=zone()))
        .order_by()
        .values("bucket_month", "service__category")
        .annotate(orders=Count("pk"))
    }
    by_status = {
        row["status"]: row["orders"]
        for row in in_period.order_by().values("status").annotate(orders=Count("pk"))
    }

    def cells(row):
        return [
            _number(row, "orders"),
            _number(row, "completed"),
            _number(row, "cancelled"),
            _number(row, "rated"),
            _rating((row or {}).get("rating")),
            _avg_hours((row or {}).get("to_accept")),
            _avg_hours((row or {}).get("to_deliver")),
        ]

    def columns(first: Column) -> list[Column]:
        return [
            first,
            Column("orders", _("Orders")),
            Column("completed", _("Orders confirmed")),
            Column("cancelled", _("Orders cancelled")),
            Column("rated", _("Orders rated")),
            Column("rating", _("Average rating (1–5)"), RATING),
            Column("to_accept", _("Average hours to acceptance"), HOURS),
            Column("to_deliver", _("Average hours to delivery"), HOURS),
        ]

    # The period's averages come from one aggregate over all its orders, not from averaging averages.
    averages = {
        "rating": _rating(overall["rating"]),
        "to_accept": _avg_hours(overall["to_accept"]),
        "to_deliver": _avg_hours(overall["to_deliver"]),
    }
    month_columns = columns(Column("month", pgettext("statistics", "Month"), TEXT))
    month_rows = _rows(period.months, month_label, by_month, cells)
    community_columns = columns(Column("community", _("Community"), TEXT))
    community_rows = [[community.name, *cells(by_community.get(community.pk))] for community in communities]
    category_columns = [
        Column("month", pgettext("statistics", "Month"), TEXT),
        *(Column(f"category_{category.pk}", category.label) for category in categories),
    ]
    category_rows = [
        [month_label(month), *(by_month_and_category.get((month, category.pk), 0) for category in categories)]
        for month in period.months
    ]
    status_columns = [Column("status", _("Status"), TEXT), Column("orders", _("Orders"))]
    status_rows = [[str(status.label), by_status.get(status.value, 0)] for status in Order.Status]
    return Section(
        "orders",
        _("Service orders and ratings"),
        [
            Table(
                "orders_by_category",
                _("Orders per month by service category"),
                category_columns,
                category_rows,
                total=_totals(category_columns, category_rows),
                chart=Chart(series=tuple(column.key for column in category_columns[1:]), stacked=True),
            ),
            Table(
                "orders_by_month",
                _("Orders, ratings and response times per month"),
                month_columns,
                month_rows,
                total=_totals(month_columns, month_rows, averages),
                chart=Chart(series=("orders", "completed"), lines=("rating",)),
            ),
            Table(
                "orders_by_community",
                _("Orders, ratings and response times per community"),
                community_columns,
                community_rows,
                total=_totals(community_columns, community_rows, averages),
                note=_(
                    "Orders are counted in the month they were placed and the community of the resident's "
                    "home grid. Hours are averaged over the orders that reached acceptance or delivery."
                ),
                chart=Chart(series=("orders", "completed"), horizontal=True),
            ),
            Table(
                "orders_by_status",
                _("Orders by status"),
                status_columns,
                status_rows,
                total=_totals(status_columns, status_rows),
                chart=Chart(series=("orders",), horizontal=True),
            ),
        ],
    )


# --- the whole report ----------------------------------------------------------------------------------
def build_report(*, communities: list[Community], period: Period, now: datetime) -> Report:
    """The dashboard of `communities` (already narrowed to the staff member's scope) over `period`."""
    ids = [community.pk for community in communities]
    sections = [
        people_section(ids, communities, period),
        tasks_section(ids, communities, period, now),
        points_section(ids, communities, period),
        orders_section(ids, communities, period),
    ]
    report = Report(period=period, communities=communities, sections=sections)
    tables = report.tables
    if len(communities) == 1:
        # One bar per chart says nothing the month charts do not: keep the per-community tables only.
        for table in tables.values():
            if table.key.endswith("_by_community"):
                table.chart = None

    def total(table_key: str, column_key: str):
        table = tables[table_key]
        index = next(i for i, column in enumerate(table.columns) if column.key == column_key)
        return table.total[index]

    report.headline = [
        Figure(_("Registered people"), total("people_by_community", "registered")),
        Figure(_("New registrations"), total("people_by_month", "new")),
        Figure(_("Tasks held"), total("tasks_by_month", "tasks")),
        Figure(_("Verified hours"), total("tasks_by_month", "hours"), HOURS),
        Figure(_("Points awarded"), total("points_by_month", "awarded")),
        Figure(_("Points redeemed"), total("points_by_month", "redeemed")),
        Figure(_("Service orders"), total("orders_by_month", "orders")),
        Figure(_("Average rating"), total("orders_by_month", "rating"), RATING),
    ]
    return report


def month_summary(*, communities: list[Community], month: date, now: datetime) -> list[Figure]:
    """A few figures of one month for the admin home page: five queries, the dashboard's definitions."""
    ids = [community.pk for community in communities]
    period = Period(month, month)

    def one(queryset, path, aggregates) -> dict:
        return per_month(queryset, path, period, aggregates).get(month, {})

    joined = one(User.objects.filter(home_grid__community__in=ids), "date_joined", {"new": Count("pk")})
    tasks = one(
        GridTask.objects.filter(
            status=GridTask.Status.PUBLISHED, grid__community__in=ids, starts_at__lte=now
        ),
        "starts_at",
        {"tasks": Count("pk")},
    )
    ledger = one(
        Entry.objects.filter(account__person__home_grid__community__in=ids),
        "created_at",
        {
            "minutes": Sum("amount", filter=Q(account__unit=Account.Unit.MINUTES)),
            **{
                key: Sum("amount", filter=Q(account__unit=Account.Unit.POINTS) & POINT_FIGURES[key].filter)
                for key in ("awarded", "redeemed")
            },
        },
    )
    orders = one(Order.objects.filter(grid__community__in=ids), "created_at", {"orders": Count("pk")})
    return [
        Figure(_("New registrations"), _number(joined, "new")),
        Figure(_("Tasks held"), _number(tasks, "tasks")),
        Figure(_("Verified hours"), _hours(_number(ledger, "minutes")), HOURS),
        Figure(_("Points awarded"), _number(ledger, "awarded")),
        Figure(_("Points redeemed"), -_number(ledger, "redeemed")),
        Figure(_("Service orders"), _number(orders, "orders")),
    ]
