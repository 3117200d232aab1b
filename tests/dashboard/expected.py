"""The dashboard's tables, computed again in plain Python from the records the test world wrote down.

These functions restate each figure's definition (see dashboard.selectors) without the ORM: if a query
groups by the wrong month, community or status, the two disagree.
"""

from points.models import Account, Entry
from services_catalog.models import Order, ServiceCategory
from volunteers.gridtasks.models import GridTask, SignUp
from volunteers.models import IdentityClaim, IdentityKind

from .world import MONTHS, NOW, World, local_month

TIER = {"party_member": "1", "deputy": "3", "legal_officer": "3", "grid_worker_full": "3"}
EARNING = {"attendance", "incident", "case", "order", "adjustment"}
PLACE_TAKEN = {SignUp.Status.CONFIRMED, SignUp.Status.ATTENDED, SignUp.Status.NO_SHOW}


def in_period(moment) -> bool:
    return MONTHS[0] <= local_month(moment) <= MONTHS[-1]


def rate(part, whole):
    return round(part * 100 / whole, 1) if whole else None


def mean(values, places=1):
    values = list(values)
    return round(sum(values) / len(values), places) if values else None


def label(month) -> str:
    from core.periods import month_label

    return month_label(month)


# --- people --------------------------------------------------------------------------------------------
def people_by_month(w: World, comms) -> list[list]:
    return [
        [
            label(m),
            sum(1 for _p, c, joined in w.people if c in comms and local_month(joined) == m),
            sum(1 for c, when in w.verifications if c in comms and local_month(when) == m),
        ]
        for m in MONTHS
    ]


def _holders(w: World, comms, tier=None) -> int:
    return len(
        {
            person.pk
            for person, kind, c, status in w.claims
            if c in comms
            and status == IdentityClaim.Status.VERIFIED
            and (tier is None or TIER.get(kind, "N") == tier)
        }
    )


def people_by_community(w: World, comms) -> list[list]:
    return [
        [
            c.name,
            sum(1 for _p, pc, _j in w.people if pc == c),
            sum(1 for _p, pc, joined in w.people if pc == c and in_period(joined)),
            _holders(w, [c]),
            _holders(w, [c], "1"),
            _holders(w, [c], "3"),
            _holders(w, [c], "N"),
        ]
        for c in comms
    ]


def people_totals(w: World, comms) -> list:
    rows = people_by_community(w, comms)
    return [
        "合计",
        sum(r[1] for r in rows),
        sum(r[2] for r in rows),
        _holders(w, comms),
        _holders(w, comms, "1"),
        _holders(w, comms, "3"),
        _holders(w, comms, "N"),
    ]


def identities_by_kind(w: World, comms) -> list[list]:
    return [
        [
            kind.label,
            TIER.get(kind.value, "N"),
            len(
                {
                    person.pk
                    for person, k, c, status in w.claims
                    if k == kind.value and c in comms and status == IdentityClaim.Status.VERIFIED
                }
            ),
        ]
        for kind in IdentityKind
    ]


# --- tasks and hours -----------------------------------------------------------------------------------
def _task_cells(w: World, keep) -> list:
    """`keep(community, moment)` says whether a record counts in the row."""
    held = [s for s in w.signups if s[2] == GridTask.Status.PUBLISHED and s[1] <= NOW and keep(s[0], s[1])]
    attended = sum(1 for s in held if s[3] == SignUp.Status.ATTENDED)
    no_shows = sum(1 for s in held if s[3] == SignUp.Status.NO_SHOW)
    minutes = sum(
        amount for c, unit, _kind, amount, when in w.entries if unit == Account.Unit.MINUTES and keep(c, when)
    )
    return [
        sum(
            1
            for c, starts, status in w.tasks
            if status == GridTask.Status.PUBLISHED and starts <= NOW and keep(c, starts)
        ),
        sum(1 for s in held if s[3] in PLACE_TAKEN),
        attended,
        no_shows,
        rate(attended, attended + no_shows),
        round(minutes / 60, 1),
    ]


def tasks_by_month(w: World, comms) -> list[list]:
    return [
        [label(m), *_task_cells(w, lambda c, when, m=m: c in comms and local_month(when) == m)]
        for m in MONTHS
    ]


def tasks_by_community(w: World, comms) -> list[list]:
    return [[c.name, *_task_cells(w, lambda pc, when, c=c: pc == c and in_period(when))] for c in comms]


# --- points --------------------------------------------------------------------------------------------
def _points_cells(w: World, keep) -> list:
    points = [
        (kind, amount)
        for c, unit, kind, amount, when in w.entries
        if unit == Account.Unit.POINTS and keep(c, when)
    ]
    return [
        sum(a for k, a in points if k in EARNING and a > 0),
        -sum(a for k, a in points if k == Entry.Kind.REDEMPTION),
        sum(a for k, a in points if k == Entry.Kind.REFUND),
        -sum(a for k, a in points if k == Entry.Kind.EXPIRY),
        sum(a for k, a in points if k == Entry.Kind.REVERSAL or (k == Entry.Kind.ADJUSTMENT and a < 0)),
        sum(1 for c, when in w.collected if keep(c, when)),
    ]


def points_by_month(w: World, comms) -> list[list]:
    return [
        [label(m), *_points_cells(w, lambda c, when, m=m: c in comms and local_month(when) == m)]
        for m in MONTHS
    ]


def points_by_community(w: World, comms) -> list[list]:
    return [[c.name, *_points_cells(w, lambda pc, when, c=c: pc == c and in_period(when))] for c in comms]


def points_by_kind(w: World, comms) -> list[list]:
    points = [
        (kind, amount)
        for c, unit, kind, amount, when in w.entries
        if unit == Account.Unit.POINTS and c in comms and in_period(when)
    ]
    return [
        [kind.label, sum(1 for k, _a in points if k == kind), sum(a for k, a in points if k == kind)]
        for kind in Entry.Kind
    ]


# --- orders --------------------------------------------------------------------------------------------
def _order_cells(orders) -> list:
    rated = [o[6] for o in orders if o[6] is not None]
    return [
        len(orders),
        sum(1 for o in orders if o[2] == Order.Status.COMPLETED),
        sum(1 for o in orders if o[2] == Order.Status.CANCELLED),
        len(rated),
        mean(rated, 2),
        mean((o[4] - o[3]).total_seconds() / 3600 for o in orders if o[4]),
        mean((o[5] - o[3]).total_seconds() / 3600 for o in orders if o[5]),
    ]


def orders_by_month(w: World, comms) -> list[list]:
    return [
        [label(m), *_order_cells([o for o in w.orders if o[0] in comms and local_month(o[3]) == m])]
        for m in MONTHS
    ]


def orders_by_community(w: World, comms) -> list[list]:
    return [[c.name, *_order_cells([o for o in w.orders if o[0] == c and in_period(o[3])])] for c in comms]


def orders_overall(w: World, comms) -> list:
    return _order_cells([o for o in w.orders if o[0] in comms and in_period(o[3])])


def orders_by_category(w: World, comms) -> list[list]:
    categories = list(ServiceCategory.objects.order_by("position", "slug"))
    return [
        [
            label(m),
            *(
                sum(1 for o in w.orders if o[0] in comms and o[1] == cat.pk and local_month(o[3]) == m)
                for cat in categories
            ),
        ]
        for m in MONTHS
    ]


def orders_by_status(w: World, comms) -> list[list]:
    return [
        [status.label, sum(1 for o in w.orders if o[0] in comms and o[2] == status and in_period(o[3]))]
        for status in Order.Status
    ]


TABLES = {
    "people_by_month": people_by_month,
    "people_by_community": people_by_community,
    "identities_by_kind": identities_by_kind,
    "tasks_by_month": tasks_by_month,
    "tasks_by_community": tasks_by_community,
    "points_by_month": points_by_month,
    "points_by_community": points_by_community,
    "points_by_kind": points_by_kind,
    "orders_by_category": orders_by_category,
    "orders_by_month": orders_by_month,
    "orders_by_community": orders_by_community,
    "orders_by_status": orders_by_status,
}
