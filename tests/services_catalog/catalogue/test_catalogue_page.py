"""The catalogue page /services/: published services only, browsing by category, community and "serves
my grid", search in Chinese, each card's rating and places left, and a query count that does not grow
with the number of services."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from services_catalog.models import Service
from tests.factories import UserFactory
from tests.services_catalog.catalogue.support import rated, session, text
from tests.services_catalog.factories import ServiceFactory, SessionServiceFactory, category

pytestmark = pytest.mark.django_db

URL = "/services/"


def _codes(response) -> list[str]:
    return [s.code for s in response.context["page"].object_list]


def test_route_name_is_catalogue():
    assert reverse("services:catalogue") == URL


def test_anyone_sees_published_services_and_never_unpublished_ones(world, client_for):
    hidden = {
        status: ServiceFactory(
            title=f"隐藏服务{status}", street=world.s1, area_streets=[world.s1], status=status
        )
        for status in (Service.Status.DRAFT, Service.Status.PENDING, Service.Status.SUSPENDED)
    }
    for person in (None, world.r1, world.a_admin, world.staff_s1):
        response = client_for(person).get(URL)
        assert response.status_code == 200
        codes = _codes(response)
        assert world.lunch.code in codes and world.centre_service.code in codes
        assert not set(codes) & {s.code for s in hidden.values()}
        assert "隐藏服务" not in text(response)


def test_a_signed_in_residents_grid_comes_first_and_can_be_the_only_one(world, client_for):
    elsewhere = ServiceFactory(title="邻街法律援助", street=world.s2, area_grids=[world.g3])
    client = client_for(world.r1)  # home grid g1 (community c1, street s1)
    codes = _codes(client.get(URL))
    assert codes.index(elsewhere.code) > max(
        codes.index(world.lunch.code), codes.index(world.centre_service.code)
    )
    mine = client.get(URL, {"mine": "1"})
    assert set(_codes(mine)) == {world.lunch.code, world.centre_service.code}
    assert 'data-testid="serves-home"' in mine.content.decode()
    # Someone of grid g3 sees it the other way round.
    assert _codes(client_for(world.r3).get(URL, {"mine": "1"})) == [elsewhere.code]


def test_anyone_can_pick_a_community(world, client_for):
    grid_only = ServiceFactory(title="四点半课堂", street=world.s1, area_grids=[world.g2])
    c2 = set(_codes(client_for().get(URL, {"community": world.c2.pk})))
    # c2 is served by the street-wide service and by the one listing a grid of it, not by c1's lunch.
    assert c2 == {world.centre_service.code, grid_only.code}
    assert set(_codes(client_for().get(URL, {"community": world.c3.pk}))) == set()


def test_browsing_by_category_chip(world, client_for):
    legal = category("legal_aid")
    aid = ServiceFactory(title="法律咨询", category=legal, street=world.s1, area_streets=[world.s1])
    response = client_for().get(URL, {"category": "legal_aid"})
    assert _codes(response) == [aid.code]
    chips = response.context["chips"]
    assert [c["active"] for c in chips].count(True) == 1
    assert next(c for c in chips if c["active"])["label"] == legal.label


@pytest.mark.parametrize(
    ("query", "found"),
    [("午餐", "lunch"), ("助洁", "centre_service"), ("星兴 午餐", "lunch"), ("星兴助餐队", "lunch")],
)
def test_search_in_chinese_over_title_description_place_category_and_organisation(
    world, client_for, query, found
):
    expected = getattr(world, found)
    codes = _codes(client_for().get(URL, {"q": query}))
    assert codes == [expected.code]


def test_search_without_a_match_says_so(world, client_for):
    response = client_for().get(URL, {"q": "不存在的服务"})
    assert response.status_code == 200
    assert _codes(response) == []
    assert 'data-testid="no-services"' in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [{"community": "abc"}, {"community": "999999"}, {"category": "no-such"}, {"q": "字" * 51}],
)
def test_bad_filters_get_a_400_with_a_message_and_still_a_list(world, client_for, params):
    response = client_for(world.r1).get(URL, params)
    assert response.status_code == 400
    assert 'data-testid="error"' in response.content.decode()
    assert world.lunch.code in _codes(response) or "q" in params


def test_each_card_shows_the_rating_of_the_rated_orders(world, client_for):
    for stars in (5, 4, 4):
        rated(world.lunch, UserFactory(), world.g1, stars)
    html = client_for().get(URL).content.decode()
    card = html[html.index(f'data-code="{world.lunch.code}"') :]
    card = card[: card.index("</li>")]
    assert 'data-avg="4.3"' in card and 'data-count="3"' in card
    assert "★★★★☆" in card
    other = html[html.index(f'data-code="{world.centre_service.code}"') :]
    assert 'data-count="0"' in other[: other.index("</li>")]


def test_each_session_card_shows_places_left_of_the_next_session(world, client_for):
    session(world.lunch, days=2, capacity=20, booked=0)
    session(world.lunch, days=1, capacity=12, booked=9)
    session(world.lunch, days=0.5, capacity=12, booked=0, cancelled=True)  # skipped
    response = client_for().get(URL)
    lunch = next(s for s in response.context["page"].object_list if s.pk == world.lunch.pk)
    assert lunch.next_places_left == 3
    html = response.content.decode()
    card = html[html.index(f'data-code="{world.lunch.code}"') :]
    assert 'data-left="3"' in card[: card.index("</li>")]


def _many_services(world, n):
    for i in range(n):
        service = SessionServiceFactory(
            title=f"助餐点{i}",
            street=world.s1,
            organisation=world.org_a,
            area_communities=[world.c1],
            area_grids=[world.g1],
        )
        session(service, days=1)
        rated(service, UserFactory(), world.g1, 5, "好吃")


def test_the_catalogues_query_count_does_not_grow_with_its_services(world, client_for):
    client = client_for(world.r1)
    _many_services(world, 2)
    client.get(URL)  # warm the session and per-process caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL, {"mine": "1"}).status_code == 200
    _many_services(world, 10)
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL, {"mine": "1"})
    assert len(response.context["page"].object_list) == 14
    assert len(many) == len(few), [q["sql"][:120] for q in many]
