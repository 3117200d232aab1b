"""Insight for staff (/services/insight/ and its XLSX): orders by category, community and month (in
Shanghai months), response times, completion rate, ratings by category and organisation, and the two
rankings — each figure checked against counts worked out here from the plan of the data, in the staff
member's own communities only, with a fixed number of queries."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO
from statistics import mean

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from points.cases.models import Case, RewardCategory
from services_catalog.models import Order
from tests.factories import UserFactory
from tests.services_catalog.dining.support import SHANGHAI, at
from tests.services_catalog.factories import ServiceFactory, category

pytestmark = pytest.mark.django_db

NOW = at(2026, 3, 20, 12)
S = Order.Status


@dataclass
class Planned:
    grid: str  # g1 (community c1), g2 (c2), g3 (c3)
    service: str  # lunch (elder dining, org A), legal (legal aid, org B)
    created: datetime
    status: str
    accept_h: float | None = None
    deliver_h: float | None = None
    rating: int | None = None


PLAN = [
    Planned("g1", "lunch", at(2026, 1, 31, 23, 30), S.COMPLETED, 1, 3, 5),  # January in Shanghai
    Planned(
        "g1", "lunch", at(2026, 2, 1, 0, 30), S.COMPLETED, 2, 5, 4
    ),  # February in Shanghai, January in UTC
    Planned("g1", "lunch", at(2026, 2, 10), S.CLOSED, 4, 10),
    Planned("g1", "legal", at(2026, 2, 11), S.COMPLETED, 6, 30, 2),
    Planned("g1", "legal", at(2026, 3, 2), S.CANCELLED),
    Planned("g2", "lunch", at(2026, 3, 5), S.COMPLETED, 0.5, 2, 5),
    Planned("g2", "legal", at(2026, 3, 6), S.ACCEPTED, 3),
    Planned("g2", "legal", at(2025, 2, 1), S.COMPLETED, 1, 2, 1),  # before the twelve months shown
    Planned("g3", "lunch", at(2026, 2, 15), S.COMPLETED, 1, 2, 3),  # another street: never counted for s1
    Planned("g3", "legal", at(2026, 3, 1), S.DELIVERED, 2, 4),
]

PROBLEMS = [  # (grid, category name, status, reported)
    ("g1", "安全隐患排查上报", Case.Status.CLOSED, at(2026, 2, 3)),
    ("g1", "安全隐患排查上报", Case.Status.REPORTED, at(2026, 3, 3)),
    ("g2", "安全隐患排查上报", Case.Status.VERIFIED, at(2026, 3, 4)),
    ("g2", "矛盾纠纷调解", Case.Status.CLOSED, at(2026, 1, 9)),
    ("g1", "矛盾纠纷调解", Case.Status.REJECTED, at(2026, 3, 9)),  # rejected: not a problem
    ("g3", "矛盾纠纷调解", Case.Status.CLOSED, at(2026, 3, 9)),  # another street
]


def shanghai_month(moment: datetime) -> date:
    local = moment.astimezone(SHANGHAI)
    return date(local.year, local.month, 1)


@pytest.fixture
def data(world, clock):
    clock.move_to(NOW)
    legal = ServiceFactory(
        title="法律援助咨询", street=world.s1, organisation=world.org_b, category=category("legal_aid")
    )
    legal.category.name, legal.category.position = "法律援助", 5
    legal.category.save()
    dining = world.lunch.category
    dining.name, dining.position = "老年助餐", 1
    dining.save()
    service = {"lunch": world.lunch, "legal": legal}
    grids = {"g1": world.g1, "g2": world.g2, "g3": world.g3}
    residents = {"g1": world.r1, "g2": world.r4, "g3": world.r3}
    for planned in PLAN:
        order = Order.objects.create(
            service=service[planned.service],
            resident=residents[planned.grid],
            placed_by=residents[planned.grid],
            grid=grids[planned.grid],
            organisation=service[planned.service].organisation,
            status=planned.status,
            stage_started_at=planned.created,
            accepted_at=planned.created + timedelta(hours=planned.accept_h) if planned.accept_h else None,
            delivered_at=planned.created + timedelta(hours=planned.deliver_h) if planned.deliver_h else None,
            rating=planned.rating,
        )
        Order.objects.filter(pk=order.pk).update(created_at=planned.created)
    table = {}
    for grid, name, status, reported in PROBLEMS:
        if name not in table:
            table[name] = RewardCategory.objects.create(name=name, kind="incident", points=10)
        case = Case.objects.create(
            kind="incident",
            category=table[name],
            grid=grids[grid],
            title=name,
            description="…",
            status=status,
            reported_by=world.gw,
        )
        Case.objects.filter(pk=case.pk).update(created_at=reported)
    return {"legal": legal}


def planned_in(grids, plan=PLAN, start=date(2025, 4, 1)):
    return [p for p in plan if p.grid in grids and shanghai_month(p.created) >= start]


def insight(client, **query):
    response = client.get(reverse("services:insight"), query)
    assert response.status_code == 200, response.content.decode()[:500]
    return response.context["report"]


def row(table, label):
    return next(r for r in table.rows if r[0] == label)


# --- the figures -------------------------------------------------------------------------------------------
def test_orders_by_month_count_in_shanghai_months(world, data, client_for):
    report = insight(client_for(world.staff_s1))
    expected = Counter(shanghai_month(p.created) for p in planned_in({"g1", "g2"}))
    table = report.by_key["orders_by_month"]
    assert report.period.months[0] == date(2025, 4, 1) and report.period.months[-1] == date(2026, 3, 1)
    assert len(table.rows) == 12 and "2026" in table.rows[-1][0]
    got = {month: r[1] for month, r in zip(report.period.months, table.rows, strict=True)}
    assert got == {month: expected[month] for month in report.period.months}
    assert (got[date(2026, 1, 1)], got[date(2026, 2, 1)], got[date(2026, 3, 1)]) == (1, 3, 3)
    assert table.total[1] == sum(expected.values()) == 7


def test_orders_completion_response_times_and_ratings_by_category(world, data, client_for):
    report = insight(client_for(world.staff_s1))
    planned = planned_in({"g1", "g2"})
    for name, key in (("老年助餐", "lunch"), ("法律援助", "legal")):
        mine = [p for p in planned if p.service == key]
        done = [p for p in mine if p.status in (S.COMPLETED, S.CLOSED)]
        finished = done + [p for p in mine if p.status == S.CANCELLED]
        rated = [p.rating for p in mine if p.rating]
        accepts = [p.accept_h for p in mine if p.accept_h]
        delivers = [p.deliver_h for p in mine if p.deliver_h]
        got = row(report.by_key["orders_by_category"], name)
        assert got[1:4] == [len(mine), len(done), len([p for p in mine if p.status == S.CANCELLED])]
        assert got[4] == round(len(done) * 100 / len(finished), 1)
        assert got[5] == len(rated)
        assert got[6] == (round(mean(rated), 2) if rated else None)
        assert got[7] == round(mean(accepts), 1)
        assert got[8] == (round(mean(delivers), 1) if delivers else None)


def test_orders_by_community_and_the_headline(world, data, client_for):
    report = insight(client_for(world.staff_s1))
    planned = planned_in({"g1", "g2"})
    by_community = {r[0]: r for r in report.by_key["orders_by_community"].rows}
    assert set(by_community) == {world.c1.name, world.c2.name}
    assert by_community[world.c1.name][1] == len([p for p in planned if p.grid == "g1"]) == 5
    assert by_community[world.c2.name][1] == len([p for p in planned if p.grid == "g2"]) == 2
    done = [p for p in planned if p.status in (S.COMPLETED, S.CLOSED)]
    finished = done + [p for p in planned if p.status == S.CANCELLED]
    headline = {figure.label: figure.value for figure in report.headline}
    assert list(headline.values())[0] == len(planned)
    assert list(headline.values())[1] == round(len(done) * 100 / len(finished), 1)
    assert list(headline.values())[2] == round(mean(p.rating for p in planned if p.rating), 2)


def test_rating_distribution_and_ratings_by_organisation(world, data, client_for):
    report = insight(client_for(world.staff_s1))
    planned = planned_in({"g1", "g2"})
    stars = Counter(p.rating for p in planned if p.rating)
    distribution = report.by_key["rating_distribution"]
    assert [r[1] for r in distribution.rows] == [stars[n] for n in range(5, 0, -1)]
    organisations = {r[0]: r for r in report.by_key["ratings_by_organisation"].rows}
    lunch_ratings = [p.rating for p in planned if p.service == "lunch" and p.rating]
    assert organisations[world.org_a.name][5] == round(mean(lunch_ratings), 2)
    assert organisations[world.org_a.name][6:] == [lunch_ratings.count(n) for n in range(5, 0, -1)]
    assert organisations[world.org_b.name][4] == 1  # rated


def test_the_two_rankings(world, data, client_for):
    report = insight(client_for(world.staff_s1))
    planned = planned_in({"g1", "g2"})
    needed = report.by_key["needed_categories"].rows
    assert [(r[0], r[1]) for r in needed] == [("老年助餐", 4), ("法律援助", 3)]
    assert needed[0][2] == round(4 * 100 / len(planned), 1)
    assert [r[0] for r in report.by_key["needed_services"].rows] == [world.lunch.title, "法律援助咨询"]
    problems = report.by_key["problems"].rows
    expected = Counter(
        name
        for grid, name, status, _at in PROBLEMS
        if grid in {"g1", "g2"} and status != Case.Status.REJECTED
    )
    assert (
        [(r[0], r[1]) for r in problems]
        == expected.most_common()
        == [("安全隐患排查上报", 3), ("矛盾纠纷调解", 1)]
    )
    assert problems[0][2] == 1  # resolved


# --- scope and filters -------------------------------------------------------------------------------------
def test_community_staff_see_only_their_community(world, data, client_for):
    c1 = insight(client_for(world.staff_c1))
    assert [r[0] for r in c1.by_key["orders_by_community"].rows] == [world.c1.name]
    assert c1.by_key["orders_by_month"].total[1] == len(planned_in({"g1"})) == 5
    c3 = insight(client_for(world.staff_c3))
    assert c3.by_key["orders_by_month"].total[1] == len(planned_in({"g3"})) == 2
    assert [(r[0], r[1]) for r in c3.by_key["problems"].rows] == [("矛盾纠纷调解", 1)]
    assert world.c1.name not in str(c3.tables)


def test_asking_for_a_community_outside_ones_area_is_a_400(world, data, client_for):
    response = client_for(world.staff_c1).get(reverse("services:insight"), {"community": world.c3.code})
    assert response.status_code == 400
    assert response.context["report"] is None
    xlsx = client_for(world.staff_c1).get(reverse("services:insight_xlsx"), {"community": world.c3.code})
    assert xlsx.status_code == 400


def test_street_staff_can_narrow_to_one_community_and_a_period(world, data, client_for):
    report = insight(client_for(world.staff_s1), community=world.c2.code, start="2025-01", end="2026-02")
    assert report.by_key["orders_by_month"].total[1] == 1  # the February 2025 order
    assert len(report.by_key["orders_by_month"].rows) == 14


@pytest.mark.parametrize("who", ["r1", "a_admin", "gw"])
def test_people_without_a_staff_post_are_refused(world, client_for, who):
    assert client_for(getattr(world, who)).get(reverse("services:insight")).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(world, client_for):
    assert client_for().get(reverse("services:insight")).status_code == 302


def test_the_page_draws_charts_from_the_same_figures(world, data, client_for):
    response = client_for(world.staff_s1).get(reverse("services:insight"))
    html = response.content.decode()
    assert 'id="dashboard-charts"' in html and "vendor/chartjs/chart.umd.min.js" in html
    charts = {chart["id"]: chart for chart in response.context["charts"]}
    needed = charts["needed_categories"]
    assert needed["labels"] == ["老年助餐", "法律援助"] and needed["datasets"][0]["data"] == [4, 3]


def test_the_xlsx_has_the_same_numbers(world, data, client_for):
    client = client_for(world.staff_s1)
    report = insight(client)
    response = client.get(reverse("services:insight_xlsx"))
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    assert len(book.worksheets) == len(report.tables)
    problems = next(
        sheet for sheet in book.worksheets if sheet["A1"].value == report.by_key["problems"].title
    )
    values = [[cell.value for cell in r] for r in problems.iter_rows(min_row=5, max_col=3)]
    assert values[:2] == [["安全隐患排查上报", 3, 1], ["矛盾纠纷调解", 1, 1]]


def test_the_page_takes_the_same_number_of_queries_for_more_orders(world, data, client_for):
    client = client_for(world.staff_s1)
    client.get(reverse("services:insight"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("services:insight"))
    for n in range(6):
        person = UserFactory(home_grid=world.g2)
        order = Order.objects.create(
            service=data["legal"],
            resident=person,
            placed_by=person,
            grid=world.g2,
            organisation=world.org_b,
            status=S.COMPLETED,
            stage_started_at=NOW,
            accepted_at=NOW,
            delivered_at=NOW,
            rating=1 + n % 5,
        )
        Order.objects.filter(pk=order.pk).update(created_at=NOW - timedelta(days=40 * n))
    with CaptureQueriesContext(connection) as many:
        report = insight(client)
    assert report.by_key["orders_by_month"].total[1] == 13
    assert len(many) == len(few)
