"""Reads for the points page and the boards. Every function here costs a fixed number of queries, whatever
the size of the ledger: boards read `Score` in index order and stop after one page; a rank is one
counting query over one index range (period, place)."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from core.masking import mask_name
from points.models import Account, Entry
from volunteers.models import Community, District, Grid, Street

from .exceptions import InvalidLevel, PlaceNotFound
from .models import OptOut, Score
from .periods import Period

GRID, COMMUNITY, STREET, DISTRICT = "grid", "community", "street", "district"
LEVELS = (GRID, COMMUNITY, STREET, DISTRICT)
_PLACE_MODELS = {GRID: Grid, COMMUNITY: Community, STREET: Street, DISTRICT: District}
_RELATED = {
    GRID: ("community__street__district",),
    COMMUNITY: ("street__district",),
    STREET: ("district",),
    DISTRICT: (),
}
BOARD_SIZE = 50


@dataclass(frozen=True)
class Row:
    rank: int
    name: str  # masked
    points: int
    is_me: bool


@dataclass(frozen=True)
class Rank:
    level: str
    place: object
    rank: int | None  # None: no points in the period yet
    of: int  # people ranked on the board (plus the person, if they are hidden)
    points: int


def place_for(level: str, code: str):
    """The place a board is for, with its parents loaded (for breadcrumbs)."""
    if level not in LEVELS:
        raise InvalidLevel()
    place = _PLACE_MODELS[level].objects.select_related(*_RELATED[level]).filter(code=code).first()
    if place is None:
        raise PlaceNotFound()
    return place


def children_of(level: str, place) -> tuple[str | None, QuerySet | list]:
    """The level below and its places, for links from a board to the boards inside it."""
    if level == DISTRICT:
        return STREET, Street.objects.filter(district=place).order_by("name")
    if level == STREET:
        return COMMUNITY, Community.objects.filter(street=place).order_by("name")
    if level == COMMUNITY:
        return GRID, Grid.objects.filter(community=place).order_by("name")
    return None, []


def streets_by_district() -> QuerySet:
    return Street.objects.select_related("district").order_by("district__name", "name")


def _in_place(level: str, place) -> Q:
    """Scope of a board: the people whose home grid lies in the place (people without one are on no
    place's board). The score carries its person's places, indexed with the period and the board order."""
    return Q(**{f"{level}_id": place.pk})


def _shown() -> Exists:
    return ~Exists(OptOut.objects.filter(person_id=OuterRef("person_id"), opted_out=True))


def board(*, level: str, place, period: Period, viewer=None, size: int = BOARD_SIZE) -> list[Row]:
    """The top of a board, ranked: points descending; equal points share a rank (1, 1, 3); within a tie,
    who reached the total first (earlier last counted earning) comes first, then the earlier account.
    People who opted out are not on it. One query."""
    top = (
        Score.objects.filter(_in_place(level, place), _shown(), period=period.key, points__gt=0)
        .order_by("-points", "last_earned_at", "person_id")
        .values_list("person_id", "points", "person__name")[:size]
    )
    viewer_id = viewer.pk if viewer is not None and viewer.is_authenticated else None
    rows: list[Row] = []
    for position, (person_id, points, name) in enumerate(top, start=1):
        # Standard competition ranking: a row shares the rank of the row above when the points are equal.
        rank = rows[-1].rank if rows and rows[-1].points == points else position
        rows.append(Row(rank=rank, name=mask_name(name), points=points, is_me=person_id == viewer_id))
    return rows


def score_of(*, person, period: Period) -> Score | None:
    return Score.objects.filter(person=person, period=period.key).first()


def rank_of(*, person, level: str, place, period: Period, score: Score | None) -> Rank:
    """The person's rank on a board: 1 + the number of people shown on it with more points. A person who
    opted out still sees where they would stand (among the people who are shown)."""
    mine = score.points if score is not None else 0
    others = Score.objects.filter(_in_place(level, place), _shown(), period=period.key, points__gt=0).exclude(
        person=person
    )
    counts = others.aggregate(above=Count("pk", filter=Q(points__gt=mine)), total=Count("pk"))
    if not mine:
        return Rank(level=level, place=place, rank=None, of=counts["total"], points=0)
    return Rank(level=level, place=place, rank=counts["above"] + 1, of=counts["total"] + 1, points=mine)


def my_ranks(*, person, period: Period) -> list[Rank]:
    """The person's rank in their home grid and community for the period (none without a home grid)."""
    if person.home_grid_id is None:
        return []
    grid = Grid.objects.select_related("community").get(pk=person.home_grid_id)
    score = score_of(person=person, period=period)
    return [
        rank_of(person=person, level=GRID, place=grid, period=period, score=score),
        rank_of(person=person, level=COMMUNITY, place=grid.community, period=period, score=score),
    ]


@dataclass(frozen=True)
class Balances:
    points: int
    minutes: int
    points_account_id: int | None

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


def balances(*, person) -> Balances:
    accounts = {
        unit: (pk, balance)
        for pk, unit, balance in Account.objects.filter(person=person).values_list("pk", "unit", "balance")
    }
    points = accounts.get(Account.Unit.POINTS, (None, 0))
    return Balances(
        points=points[1],
        minutes=accounts.get(Account.Unit.MINUTES, (None, 0))[1],
        points_account_id=points[0],
    )


def history(*, account_id: int | None) -> QuerySet:
    """The points account's entries, newest first, with whether each was reversed (one query a page)."""
    if account_id is None:
        return Entry.objects.none()
    return (
        Entry.objects.filter(account_id=account_id)
        .select_related("reversed_by")
        .only(
            "amount",
            "kind",
            "reason",
            "balance_after",
            "created_at",
            "reverses_id",
            "reversed_by__created_at",
        )
        .order_by("-created_at", "-id")
    )


def is_hidden(*, person) -> bool:
    return OptOut.objects.filter(person=person, opted_out=True).exists()
