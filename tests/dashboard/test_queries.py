"""The dashboard's query count does not depend on how many rows it counts: aggregate queries, not loops."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from points.models import Account, Entry
from services_catalog.models import Order
from volunteers.gridtasks.models import SignUp

from .world import World, at

pytestmark = pytest.mark.django_db


def grow(world: World, n: int) -> None:
    """n more of everything in A and B, spread over the period's months."""
    for i in range(n):
        for grid in (world.ga, world.gb):
            when = at(2025, 5 + i % 10, 1 + i)
            person = world.person(grid, when)
            world.claim(person, "volunteer", grid, when + timedelta(days=1))
            world.task(grid, when, SignUp.Status.ATTENDED, SignUp.Status.NO_SHOW)
            world.post(person, 60, Entry.Kind.ATTENDANCE, when, unit=Account.Unit.MINUTES)
            world.post(person, 40, Entry.Kind.ATTENDANCE, when)
            world.redeem(person, when + timedelta(days=1), handed_over_at=when + timedelta(days=2))
            world.order(
                person,
                world.categories[i % 3],
                when,
                Order.Status.COMPLETED,
                accept_h=1,
                deliver_h=3,
                rating=4,
            )


def count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["district", "community_a"])
def test_page_export_and_home_panel_queries_do_not_grow_with_rows(as_staff, world, role):
    client = as_staff(role)
    urls = [("/admin/statistics/", None), ("/admin/statistics/export.xlsx", None), ("/admin/", None)]
    for url, params in urls:
        count(client, url, params)  # warm caches (content types, site, permissions)
    before = [count(client, url, params) for url, params in urls]

    grow(world, 6)
    after = [count(client, url, params) for url, params in urls]

    assert after == before
    # The rows were counted, not missed: A gained six registrations.
    report = client.get("/admin/statistics/").context["report"]
    a_row = next(row for row in report.tables["people_by_community"].rows if row[0] == world.a.name)
    assert a_row[2] == 4 + 6


def test_the_page_needs_a_fixed_small_number_of_queries(as_staff, world):
    client = as_staff("district")
    count(client, "/admin/statistics/")

    # Session, user, scope, communities and 4 sections of aggregate queries; Wagtail's chrome adds a few.
    assert count(client, "/admin/statistics/") <= 45
