"""The organisation's inbox (what to accept, deliver, wait for, what finished) and the pool of orders it
may claim; only its members see them, only its administrators claim."""

import pytest
from django.urls import reverse

from services_catalog import services
from services_catalog.models import Order
from tests.services_catalog.manage.conftest import codes, street2_service, text
from tests.services_catalog.world import delivered_order, order_for, session_of

pytestmark = pytest.mark.django_db

HOME = reverse("services:manage")
POOL = reverse("services:manage_pool")


def test_inbox_sorts_orders_by_what_the_organisation_does_next(world, client_for):
    waiting = order_for(world, world.r1, service=world.lunch, session=session_of(world.lunch))
    to_deliver = order_for(world, world.r2)
    services.do_dispatch_order(actor=world.staff_s1, order_id=to_deliver.pk, organisation_id=world.org_a.pk)
    services.do_accept_order(actor=world.a_admin, order_id=to_deliver.pk)
    delivered = delivered_order(world, world.r1)
    elsewhere = order_for(world, world.r3, service=street2_service(world))  # not org A's

    response = client_for(world.a_admin).get(HOME)

    assert response.status_code == 200
    html = response.content.decode()
    sections = {
        name: html[html.find(f'data-testid="{name}"') :].split("</section>", 1)[0]
        for name in ("to-accept", "to-deliver", "to-confirm")
    }
    assert waiting.code in sections["to-accept"]
    assert to_deliver.code in sections["to-deliver"]
    assert "尚未派人" in sections["to-deliver"]  # volunteers still to be assigned
    assert delivered.code in sections["to-confirm"]
    assert elsewhere.code not in html
    # Residents' names are masked in lists.
    assert "张三丰" not in html and "张*丰" in text(response)


def test_member_sees_inbox_but_no_claim_button(world, client_for):
    order = order_for(world, world.r1)  # centre service in c1: in org A's area, waiting for dispatch
    client = client_for(world.a_member)

    response = client.get(POOL)

    assert response.status_code == 200
    assert codes(response) == [order.code]
    assert 'data-testid="claim"' not in response.content.decode()


def test_admin_claims_from_the_pool_and_the_order_leaves_it(world, client_for):
    order = order_for(world, world.r1)
    client = client_for(world.a_admin)
    response = client.get(POOL)
    assert codes(response) == [order.code]
    assert reverse("services:order_action", args=[order.code, "claim"]) in response.content.decode()

    claimed = client.post(
        reverse("services:order_action", args=[order.code, "claim"]), {"organisation": world.org_a.pk}
    )

    assert claimed.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.ACCEPTED and order.organisation_id == world.org_a.pk
    assert codes(client.get(POOL)) == []
    assert order.code in client.get(HOME).content.decode()


def test_pool_leaves_out_other_areas_and_orders_the_organisation_declined(world, client_for):
    in_c2 = order_for(world, world.r4)  # c2: org B (whole street s1) serves it, org A (c1) does not
    in_s2 = order_for(world, world.r3, service=street2_service(world))
    declined = order_for(world, world.r2)
    services.do_dispatch_order(actor=world.staff_s1, order_id=declined.pk, organisation_id=world.org_b.pk)
    services.do_decline_order(actor=world.b_admin, order_id=declined.pk, reason="人手不足")

    assert codes(client_for(world.a_admin).get(POOL)) == [declined.code]
    assert codes(client_for(world.b_admin).get(POOL)) == [in_c2.code]
    assert codes(client_for(world.c_admin).get(POOL)) == [in_s2.code]


def test_another_organisations_inbox_is_not_found(world, client_for):
    order_for(world, world.r1, service=world.lunch, session=session_of(world.lunch))
    client = client_for(world.b_admin)

    assert client.get(HOME, {"org": world.org_a.pk}).status_code == 404
    assert client.get(POOL, {"org": world.org_a.pk}).status_code == 404
    assert client.get(HOME, {"org": "x"}).status_code == 404


def test_workbench_refuses_people_without_a_role(world, client_for):
    assert client_for(world.r1).get(HOME).status_code == 403
    assert client_for(world.r1).get(POOL).status_code == 403
    signed_out = client_for().get(HOME)
    assert signed_out.status_code == 302 and "/login" in signed_out["Location"]


def test_person_in_two_organisations_switches_between_inboxes(world, client_for):
    from tests.factories import MembershipFactory

    MembershipFactory(organisation=world.org_b, person=world.a_admin)
    lunch = order_for(world, world.r1, service=world.lunch, session=session_of(world.lunch))
    client = client_for(world.a_admin)

    first = client.get(HOME, {"org": world.org_a.pk})
    second = client.get(HOME, {"org": world.org_b.pk})

    assert 'data-testid="org-chips"' in first.content.decode()
    assert lunch.code in first.content.decode() and lunch.code not in second.content.decode()
