"""What a leaderboard score counts, per period, kept in step with the ledger, and how a board ranks."""

import pytest

from points.leaderboards import selectors
from points.leaderboards.models import Score
from points.leaderboards.periods import ALL, MONTH, YEAR, Period, parse_period
from points.leaderboards.services import rebuild_scores
from points.models import Account, Entry

from .conftest import at, post, reverse

pytestmark = pytest.mark.django_db


def scores(person):
    return dict(Score.objects.filter(person=person).values_list("period", "points"))


def test_an_earning_counts_towards_its_month_its_year_and_all_time(places, person_in):
    person = person_in(places["a1x"])
    post(person, 10, when=at(2026, 3, 31, 23, 30))  # still March in Shanghai (15:30 UTC)
    post(person, 5, when=at(2026, 4, 1, 0, 30))  # April in Shanghai, still March 31 in UTC

    assert scores(person) == {"2026-03": 10, "2026-04": 5, "2026": 15, "all": 15}


def test_redemptions_refunds_expiry_adjustments_and_minutes_do_not_change_a_score(places, person_in):
    person = person_in(places["a1x"])
    post(person, 100, when=at(2026, 5, 2))
    post(person, -60, kind=Entry.Kind.REDEMPTION, when=at(2026, 5, 3))
    post(person, 60, kind=Entry.Kind.REFUND, when=at(2026, 5, 4))
    post(person, -10, kind=Entry.Kind.EXPIRY, when=at(2026, 5, 5))
    post(person, 30, kind=Entry.Kind.ADJUSTMENT, when=at(2026, 5, 6))
    post(person, 120, unit=Account.Unit.MINUTES, when=at(2026, 5, 7))

    assert scores(person) == {"2026-05": 100, "2026": 100, "all": 100}
    assert Account.objects.get(person=person, unit=Account.Unit.POINTS).balance == 120


@pytest.mark.parametrize(
    "kind",
    [Entry.Kind.ATTENDANCE, Entry.Kind.INCIDENT_REWARD, Entry.Kind.CASE_REWARD, Entry.Kind.ORDER_SERVICE],
)
def test_every_earning_kind_counts(places, person_in, kind):
    person = person_in(places["a1x"])
    post(person, 7, kind=kind, when=at(2026, 6, 1))
    assert scores(person)["2026-06"] == 7


def test_a_reversal_takes_the_award_out_of_the_period_it_was_earned_in(places, person_in):
    person = person_in(places["a1x"])
    kept = post(person, 10, when=at(2026, 1, 10))
    wrong = post(person, 40, when=at(2026, 1, 20))
    post(person, 5, when=at(2026, 2, 3))
    reverse(wrong, when=at(2026, 2, 10))

    assert scores(person) == {"2026-01": 10, "2026-02": 5, "2026": 15, "all": 15}
    january = Score.objects.get(person=person, period="2026-01")
    assert january.last_earned_at == kept.created_at  # the reversed award no longer sets the tie-break


def test_reversing_the_only_award_of_a_month_removes_that_months_score(places, person_in):
    person = person_in(places["a1x"])
    only = post(person, 10, when=at(2026, 1, 10))
    reverse(only, when=at(2026, 1, 11))
    assert scores(person) == {}


def test_reversing_a_redemption_leaves_the_score_alone(places, person_in):
    person = person_in(places["a1x"])
    post(person, 50, when=at(2026, 1, 10))
    spent = post(person, -20, kind=Entry.Kind.REDEMPTION, when=at(2026, 1, 11))
    reverse(spent, when=at(2026, 1, 12))
    assert scores(person)["2026-01"] == 50


def test_rebuilding_from_the_ledger_gives_the_scores_kept_along_the_way(places, person_in):
    people = [person_in(places["a1x"]) for _ in range(3)]
    entries = []
    for n, person in enumerate(people):
        entries.append(post(person, 10 + n, when=at(2025, 12, 31, 23)))
        entries.append(post(person, 3, when=at(2026, 1, 1, 1)))
        post(person, -2, kind=Entry.Kind.REDEMPTION, when=at(2026, 1, 2))
    reverse(entries[1], when=at(2026, 2, 1))
    kept = sorted(Score.objects.values_list("person_id", "period", "points", "last_earned_at"))

    rebuild_scores()

    assert sorted(Score.objects.values_list("person_id", "period", "points", "last_earned_at")) == kept
    assert len(kept) == 3 * 5 - 2  # five periods each; the reversal empties one January and 2026


def board(level, place, period):
    return [(row.rank, row.points) for row in selectors.board(level=level, place=place, period=period)]


def test_equal_points_share_a_rank_and_the_next_rank_is_skipped(places, person_in):
    grid = places["a1x"]
    for amount in (50, 30, 30, 20, 30):
        post(person_in(grid), amount, when=at(2026, 4, 5))
    assert board("grid", grid, Period(MONTH, "2026-04")) == [(1, 50), (2, 30), (2, 30), (2, 30), (5, 20)]


def test_within_a_tie_whoever_reached_the_total_first_is_listed_first(places, person_in):
    grid = places["a1x"]
    late = person_in(grid, name="李晚到")
    early = person_in(grid, name="王早到")
    post(late, 10, when=at(2026, 4, 1))
    post(late, 10, when=at(2026, 4, 20))  # reaches 20 on the 20th
    post(early, 20, when=at(2026, 4, 10))  # reaches 20 on the 10th

    rows = selectors.board(level="grid", place=grid, period=Period(MONTH, "2026-04"))
    assert [(r.rank, r.name) for r in rows] == [(1, "王*到"), (1, "李*到")]


def test_month_year_and_all_time_boards_differ(places, person_in):
    grid = places["a1x"]
    steady, sprinter = person_in(grid), person_in(grid)
    post(steady, 100, when=at(2025, 6, 1))
    post(steady, 10, when=at(2026, 4, 1))
    post(sprinter, 50, when=at(2026, 4, 2))
    post(sprinter, 20, when=at(2026, 2, 2))

    month = selectors.board(
        level="grid", place=grid, period=parse_period("month", "2026-04", now=at(2026, 4, 30))
    )
    year = selectors.board(level="grid", place=grid, period=Period(YEAR, "2026"))
    all_time = selectors.board(level="grid", place=grid, period=Period(ALL, "all"))
    assert [r.points for r in month] == [50, 10]
    assert [r.points for r in year] == [70, 10]
    assert [r.points for r in all_time] == [110, 70]


def test_a_board_shows_only_the_people_of_its_place(places, person_in):
    names = {}
    for grid in ("a1x", "a1y", "a2x", "b1x"):
        person = person_in(places[grid], name=f"{grid}号人")
        post(person, 10, when=at(2026, 4, 1))
        names[grid] = person.name
    post(person_in(None, name="无网格"), 99, when=at(2026, 4, 1))
    april = Period(MONTH, "2026-04")

    def shown(level, place):
        return sorted(r.name for r in selectors.board(level=level, place=places[place], period=april))

    from core.masking import mask_name

    def masked(*grids):
        return sorted(mask_name(names[g]) for g in grids)

    assert shown("grid", "a1x") == masked("a1x")
    assert shown("community", "a1") == masked("a1x", "a1y")
    assert shown("street", "street_a") == masked("a1x", "a1y", "a2x")
    assert shown("street", "street_b") == masked("b1x")
    district = places["street_a"].district
    assert shown_district(district, april) == masked("a1x", "a1y", "a2x", "b1x")


def test_boards_follow_a_person_who_moves_and_a_grid_that_moves(places, person_in):
    april = Period(MONTH, "2026-04")
    mover = person_in(places["a1x"], name="搬家人")
    post(mover, 10, when=at(2026, 4, 1))

    def on(level, place):
        return [r.points for r in selectors.board(level=level, place=places[place], period=april)]

    assert on("grid", "a1x") == [10] and on("street", "street_b") == []

    mover.home_grid = places["b1x"]
    mover.save()  # the profile form and the back office save the whole person
    assert on("grid", "a1x") == [] and on("grid", "b1x") == [10] and on("street", "street_b") == [10]

    mover.save(update_fields=["last_login"])  # a login: nothing to do, and nothing done
    grid = places["b1x"]
    grid.community = places["a2"]  # the grid is handed over to another community and street
    grid.save()
    assert on("community", "a2") == [10] and on("street", "street_a") == [10]
    assert on("street", "street_b") == []
    assert set(Score.objects.filter(person=mover).values_list("street_id", flat=True)) == {
        places["street_a"].pk
    }


def test_rebuilding_copies_each_persons_places(places, person_in):
    person = person_in(places["a2x"])
    post(person, 10, when=at(2026, 4, 1))
    Score.objects.update(grid=None, community=None, street=None, district=None)
    rebuild_scores()
    row = Score.objects.get(person=person, period="all")
    assert (row.grid_id, row.community_id, row.street_id, row.district_id) == (
        places["a2x"].pk,
        places["a2"].pk,
        places["street_a"].pk,
        places["street_a"].district_id,
    )


def shown_district(district, period):
    from core.masking import mask_name  # noqa: F401

    return sorted(r.name for r in selectors.board(level="district", place=district, period=period))


def test_an_opted_out_person_is_left_off_the_board_but_keeps_points_and_a_private_rank(places, person_in):
    from points.leaderboards.services import do_set_visibility

    grid = places["a1x"]
    top, shy, third = person_in(grid), person_in(grid), person_in(grid)
    post(top, 30, when=at(2026, 4, 1))
    post(shy, 20, when=at(2026, 4, 1))
    post(third, 10, when=at(2026, 4, 1))
    do_set_visibility(person=shy, actor=shy, hidden=True)
    april = Period(MONTH, "2026-04")

    assert board("grid", grid, april) == [(1, 30), (2, 10)]
    assert scores(shy)["2026-04"] == 20
    assert Account.objects.get(person=shy, unit=Account.Unit.POINTS).balance == 20
    mine = selectors.rank_of(
        person=shy, level="grid", place=grid, period=april, score=selectors.score_of(person=shy, period=april)
    )
    assert (mine.rank, mine.of) == (2, 3)
    theirs = selectors.rank_of(
        person=third,
        level="grid",
        place=grid,
        period=april,
        score=selectors.score_of(person=third, period=april),
    )
    assert (theirs.rank, theirs.of) == (2, 2)  # the hidden person is not counted above anyone else


def test_only_the_person_may_change_their_visibility(places, person_in):
    from core.exceptions import NotAllowed
    from points.leaderboards.services import do_set_visibility

    person, other = person_in(places["a1x"]), person_in(places["a1x"])
    with pytest.raises(NotAllowed):
        do_set_visibility(person=person, actor=other, hidden=True)
    assert not selectors.is_hidden(person=person)


@pytest.mark.parametrize(
    ("kind", "when"),
    [
        ("week", ""),
        ("month", "2026-13"),
        ("month", "26-01"),
        ("year", "20x6"),
        ("all", "2026"),
        ("month", "2099-01"),
    ],
)
def test_bad_periods_are_refused(kind, when):
    from points.leaderboards.exceptions import InvalidPeriod

    with pytest.raises(InvalidPeriod):
        parse_period(kind, when, now=at(2026, 4, 30))
