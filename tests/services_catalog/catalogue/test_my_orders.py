"""My orders /services/orders/: the signed-in person's own orders, newest first, with status chips,
paginated, in a number of queries that does not depend on how many orders there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from services_catalog import services
from services_catalog.models import Order
from tests.services_catalog.catalogue.support import session
from tests.services_catalog.world import delivered_order, order_for

pytestmark = pytest.mark.django_db

URL = "/services/orders/"


def _codes(response) -> list[str]:
    return [o.code for o in response.context["page"].object_list]


def test_route_name_is_my_orders():
    assert reverse("services:my_orders") == URL


def test_signed_out_goes_to_sign_in(client_for):
    response = client_for().get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_only_ones_own_orders_newest_first(world, client_for):
    first = order_for(world, world.r1, service=world.lunch, session=session(world.lunch, days=2))
    second = order_for(world, world.r1)
    order_for(world, world.r2)  # a neighbour's
    response = client_for(world.r1).get(URL)
    assert response.status_code == 200
    assert _codes(response) == [second.code, first.code]


def test_an_order_placed_by_the_grid_worker_is_in_the_residents_list_and_says_so(world, client_for):
    order = services.do_place_order(actor=world.gw, service_id=world.centre_service.pk, resident=world.r1)
    response = client_for(world.r1).get(URL)
    assert _codes(response) == [order.code]
    assert "proxy" in order.channel
    assert _codes(client_for(world.gw).get(URL)) == []


def test_status_chips_filter_and_count(world, client_for):
    waiting = order_for(world, world.r1, service=world.lunch, session=session(world.lunch))
    delivered = delivered_order(world, world.r1)
    cancelled = order_for(world, world.r1, service=world.lunch, session=session(world.lunch, days=3))
    services.do_cancel_order(actor=world.r1, order_id=cancelled.pk)
    client = client_for(world.r1)
    response = client.get(URL)
    counts = {chip["key"]: chip["count"] for chip in response.context["chips"]}
    assert counts == {"all": 3, "active": 1, "to_rate": 1, "done": 0, "cancelled": 1}
    assert 'data-testid="to-rate"' in response.content.decode()
    assert _codes(client.get(URL, {"status": "active"})) == [waiting.code]
    assert _codes(client.get(URL, {"status": "to_rate"})) == [delivered.code]
    assert _codes(client.get(URL, {"status": "cancelled"})) == [cancelled.code]
    assert _codes(client.get(URL, {"status": "done"})) == []


def test_an_unknown_status_filter_is_a_400_with_the_whole_list(world, client_for):
    order = order_for(world, world.r1)
    response = client_for(world.r1).get(URL, {"status": "<script>"})
    assert response.status_code == 400 and 'data-testid="error"' in response.content.decode()
    assert _codes(response) == [order.code]
    assert client_for(world.r1).get(URL, {"page": "zz"}).status_code == 200  # a bad page is the first


def _orders(world, resident, n):
    for i in range(n):
        lunch = session(world.lunch, days=1 + i / 24)
        order_for(world, resident, service=world.lunch, session=lunch)


def test_my_orders_query_count_does_not_grow_with_the_orders(world, client_for):
    client = client_for(world.r1)
    _orders(world, world.r1, 2)
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    _orders(world, world.r1, 15)
    delivered_order(world, world.r1)
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)
    assert len(response.context["page"].object_list) == 18
    assert len(many) == len(few), [q["sql"][:120] for q in many]


def test_the_list_is_paginated(world, client_for):
    _orders(world, world.r1, 21)
    client = client_for(world.r1)
    assert len(_codes(client.get(URL))) == 20
    assert len(_codes(client.get(URL, {"page": 2}))) == 1
    assert Order.objects.filter(resident=world.r1).count() == 21
