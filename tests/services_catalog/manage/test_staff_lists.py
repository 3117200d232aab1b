"""Staff on the workbench: orders waiting for dispatch in their area against the deadline (overdue ones
marked), points held for review, and their tiles; nothing from outside their area."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from services_catalog import services
from services_catalog.models import Order, OrderRules
from tests.services_catalog.manage.conftest import codes, street2_service
from tests.services_catalog.world import delivered_order, order_for

pytestmark = pytest.mark.django_db

DISPATCH = reverse("services:manage_dispatch")
AWARDS = reverse("services:manage_awards")


def age(order, hours):
    Order.objects.filter(pk=order.pk).update(stage_started_at=timezone.now() - timedelta(hours=hours))


def test_dispatch_list_puts_the_longest_waiting_first_and_marks_overdue(world, client_for):
    rules = OrderRules.load()
    rules.dispatch_hours = 24
    rules.save()
    fresh = order_for(world, world.r1)
    late = order_for(world, world.r4)
    age(late, 30)
    dispatched = order_for(world, world.r2)
    services.do_dispatch_order(actor=world.staff_s1, order_id=dispatched.pk, organisation_id=world.org_b.pk)
    elsewhere = order_for(world, world.r3, service=street2_service(world))

    response = client_for(world.staff_s1).get(DISPATCH)

    assert response.status_code == 200
    assert codes(response) == [late.code, fresh.code]
    html = response.content.decode()
    late_row = html[html.index(f'data-code="{late.code}"') : html.index(f'data-code="{fresh.code}"')]
    assert 'data-testid="overdue"' in late_row
    assert 'data-testid="overdue"' not in html[html.index(f'data-code="{fresh.code}"') :]
    assert f'href="{reverse("services:order", args=[late.code])}" data-testid="dispatch"' in late_row
    assert elsewhere.code not in html and dispatched.code not in html


def test_community_staff_see_only_their_community(world, client_for):
    in_c1 = order_for(world, world.r1)
    in_c2 = order_for(world, world.r4)

    assert codes(client_for(world.staff_c1).get(DISPATCH)) == [in_c1.code]
    assert codes(client_for(world.staff_s1).get(DISPATCH)) == [in_c1.code, in_c2.code]
    assert codes(client_for(world.staff_c3).get(DISPATCH)) == []


def test_held_points_are_listed_for_the_area_staff(world, client_for):
    order = delivered_order(world, world.r1)
    services.do_confirm_order(actor=world.r1, order_id=order.pk, rating=1, comment="饭菜凉了")
    order.refresh_from_db()
    assert order.award == Order.Award.HELD

    assert codes(client_for(world.staff_c1).get(AWARDS)) == [order.code]
    assert codes(client_for(world.staff_c3).get(AWARDS)) == []
    home = client_for(world.staff_c1).get(reverse("services:manage")).content.decode()
    assert 'data-testid="tile-awards"' in home


def test_staff_tiles_count_what_waits(world, client_for):
    age(order_for(world, world.r1), 100)
    order_for(world, world.r4)

    response = client_for(world.staff_s1).get(reverse("services:manage"))

    html = response.content.decode()
    tile = html[html.index('data-testid="tile-dispatch"') :].split("</a>", 1)[0]
    assert ">2<" in tile and "1" in tile.split("wb-tile-alert", 1)[1]


def test_staff_pages_refuse_organisations_and_grid_workers(world, client_for):
    for person in (world.a_admin, world.gw, world.r1):
        client = client_for(person)
        for url in (DISPATCH, AWARDS, reverse("services:manage_review")):
            assert client.get(url).status_code == 403
