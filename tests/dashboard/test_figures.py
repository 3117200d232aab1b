"""Every table of the dashboard equals the same figures computed independently from the known dataset,
for the whole district, one street, and each community on its own."""

from datetime import date

import pytest

from core.periods import Period
from dashboard.selectors import build_report, month_summary
from points.models import Account, Entry

from . import expected
from .world import MONTHS, NOW, at

pytestmark = pytest.mark.django_db

PERIOD = Period(MONTHS[0], MONTHS[-1])


def report(communities, period=PERIOD):
    return build_report(communities=communities, period=period, now=NOW)


@pytest.mark.parametrize("which", ["all", "street", "a", "b", "c"])
def test_every_table_equals_the_figures_computed_from_the_records(world, which):
    communities = {
        "all": [world.a, world.b, world.c],
        "street": [world.a, world.b],
        "a": [world.a],
        "b": [world.b],
        "c": [world.c],
    }[which]

    tables = report(communities).tables

    assert set(tables) == set(expected.TABLES)
    for key, compute in expected.TABLES.items():
        assert tables[key].rows == compute(world, communities), key


def test_the_dataset_is_not_trivial(world):
    # Guard against a world that proves nothing: each table has non-zero figures somewhere.
    tables = report([world.a, world.b, world.c]).tables
    for key, table in tables.items():
        numbers = [value for row in table.rows for value in row[1:] if isinstance(value, int | float)]
        assert any(numbers), key


def test_months_are_cut_in_shanghai_time(world):
    """A registration at 00:30 on 1 February in Shanghai is 31 January in UTC: it counts in February."""
    rows = {row[0]: row for row in report([world.a]).tables["people_by_month"].rows}
    january, february = (expected.label(date(2026, m, 1)) for m in (1, 2))

    assert rows[january][1] == 1  # 31 January, 23:30
    assert rows[february][1] == 1  # 1 February, 00:30


def test_totals_count_a_person_with_identities_in_two_communities_once(world):
    table = report([world.a, world.b]).tables["people_by_community"]

    assert table.total[1:] == expected.people_totals(world, [world.a, world.b])[1:]
    # pa2 holds a verified identity in A (deputy, no grid) and in B (volunteer for B's grid).
    holders_by_row = sum(row[3] for row in table.rows)
    assert table.total[3] == holders_by_row - 1


def test_order_averages_of_the_period_come_from_all_its_orders(world):
    communities = [world.a, world.b, world.c]
    table = report(communities).tables["orders_by_month"]
    overall = expected.orders_overall(world, communities)

    assert table.total[1:] == overall
    assert table.total[5] == pytest.approx((5 + 3 + 4 + 1) / 4, abs=0.005)


def test_attendance_rate_total_is_attended_over_attended_and_no_shows(world):
    table = report([world.a, world.b]).tables["tasks_by_community"]
    # A: 3 attended, 1 no-show; B: 1 attended, 2 no-shows.
    assert [row[3:5] for row in table.rows] == [[3, 1], [1, 2]]
    assert table.total[5] == round(4 * 100 / 7, 1)


def test_a_shorter_period_leaves_out_the_months_before_it(world):
    period = Period(date(2026, 2, 1), date(2026, 3, 1))
    tables = report([world.a], period).tables

    assert [row[0] for row in tables["people_by_month"].rows] == [
        expected.label(date(2026, 2, 1)),
        expected.label(date(2026, 3, 1)),
    ]
    # Registered people "now" do not depend on the period, new registrations do.
    registered, new = tables["people_by_community"].rows[0][1:3]
    assert (registered, new) == (5, 2)


def test_month_summary_equals_the_dashboards_figures_of_that_month(world):
    communities = [world.a, world.b]
    figures = [figure.value for figure in month_summary(communities=communities, month=MONTHS[-1], now=NOW)]
    tables = report(communities, Period(MONTHS[-1], MONTHS[-1])).tables
    people, tasks = tables["people_by_month"].rows[0], tables["tasks_by_month"].rows[0]
    points, orders = tables["points_by_month"].rows[0], tables["orders_by_month"].rows[0]

    assert figures == [people[1], tasks[1], tasks[6], points[1], points[2], orders[1]]
    assert figures == [3, 1, 1.5, 27, 30, 3]


def test_total_hours_come_from_the_minutes_not_from_rounded_rows(world):
    # 20 minutes in each of three months: 0.3 + 0.3 + 0.3 rounded rows, but 1.0 hour in all.
    person = world.person(world.gc, at(2025, 5, 1))
    for month in (5, 6, 7):
        world.post(person, 20, Entry.Kind.ATTENDANCE, at(2025, month, 2), unit=Account.Unit.MINUTES)

    table = report([world.c], Period(date(2025, 5, 1), date(2025, 7, 1))).tables["tasks_by_month"]

    assert [row[6] for row in table.rows] == [0.3, 0.3, 0.3]
    assert table.total[6] == 1.0
