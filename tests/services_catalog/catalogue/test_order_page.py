"""The order page /services/orders/<code>/ and its steps (/services/orders/<code>/<action>/): who sees
it (scope, assignment, the claim pool) and who is told it does not exist; what the resident's timeline
names (roles and organisations, not staff's names); each party's step through services.py; and every
refusal shown on the page with its 4xx, the typed input kept, nothing changed."""

import re

import pytest
from django.urls import reverse

from core.models import Notification
from points.models import Entry
from services_catalog import services
from services_catalog.models import Order, OrderEvent
from tests.factories import MembershipFactory, UserFactory
from tests.services_catalog.catalogue.support import session, text
from tests.services_catalog.world import delivered_order, order_for
from volunteers.models import Membership

pytestmark = pytest.mark.django_db


def url(order, action=None) -> str:
    if action:
        return reverse("services:order_action", args=[order.code, action])
    return reverse("services:order", args=[order.code])


def fresh(order) -> Order:
    return Order.objects.get(pk=order.pk)


def _refused(response, status, code):
    assert response.status_code == status, (response.status_code, text(response)[:300])
    assert f'data-code="{code}"' in response.content.decode(), text(response)[:500]
    return response.content.decode()


@pytest.fixture
def dispatched(world):
    """r1's booking of org A's lunch: dispatched straight to org A."""
    return order_for(world, world.r1, service=world.lunch, session=session(world.lunch))


@pytest.fixture
def pool(world):
    """r1's request for the centre's service, waiting for dispatch (or a claim)."""
    return order_for(world, world.r1)


# --- who sees the page ----------------------------------------------------------------------------------
def test_the_route_services_py_reverses_is_the_order_page(dispatched):
    assert services._order_url(dispatched) == f"/services/orders/{dispatched.code}/"


def test_signed_out_goes_to_sign_in(dispatched, client_for):
    response = client_for().get(url(dispatched))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_the_people_of_the_order_see_it_and_nobody_else(world, dispatched, client_for):
    services.do_accept_order(actor=world.a_admin, order_id=dispatched.pk)
    volunteer = UserFactory(name="外援志愿者")
    MembershipFactory(organisation=world.org_b, person=volunteer)
    services.do_assign_volunteers(actor=world.a_admin, order_id=dispatched.pk, person_ids=[world.a_member.pk])
    allowed = [world.r1, world.a_admin, world.a_member, world.gw, world.staff_c1, world.staff_s1]
    refused = [world.r2, world.r3, world.b_admin, world.c_admin, world.staff_c3, volunteer]
    for person in allowed:
        assert client_for(person).get(url(dispatched)).status_code == 200, person
    for person in refused:
        assert client_for(person).get(url(dispatched)).status_code == 404, person
    assert client_for(world.r1).get("/services/orders/AAAAAAAAAAAA/").status_code == 404


def test_an_assigned_volunteer_outside_the_scope_sees_the_order(world, pool, client_for):
    services.do_dispatch_order(actor=world.staff_c1, order_id=pool.pk, organisation_id=world.org_a.pk)
    services.do_accept_order(actor=world.a_admin, order_id=pool.pk)
    services.do_assign_volunteers(actor=world.a_admin, order_id=pool.pk, person_ids=[world.a_member.pk])
    # Their membership ends; the assignment still lets them open the order they were sent to.
    Membership.objects.filter(person=world.a_member).update(status=Membership.Status.REMOVED)
    assert client_for(world.a_member).get(url(pool)).status_code == 200


def test_a_waiting_order_is_open_to_organisations_that_could_claim_it(world, pool, client_for):
    # r1 lives in c1 of s1: org A (c1) and org B (all of s1) serve it, org C (s2) does not.
    for person, status in ((world.a_admin, 200), (world.b_admin, 200), (world.c_admin, 404)):
        response = client_for(person).get(url(pool))
        assert response.status_code == status, person
    page = client_for(world.b_admin).get(url(pool))
    assert 'data-testid="claim-box"' in page.content.decode()
    # Only a masked name to an organisation that has not taken the order yet.
    assert world.r1.masked_name in text(page) and world.r1.name not in text(page)


# --- the resident's timeline --------------------------------------------------------------------------------
def test_the_resident_sees_roles_and_organisations_staff_see_names(world, pool, client_for):
    services.do_dispatch_order(actor=world.staff_c1, order_id=pool.pk, organisation_id=world.org_a.pk)
    services.do_accept_order(actor=world.a_admin, order_id=pool.pk)
    services.do_assign_volunteers(actor=world.a_admin, order_id=pool.pk, person_ids=[world.a_member.pk])
    services.do_deliver_order(actor=world.gw, order_id=pool.pk, note="放在门口")
    resident_page = text(client_for(world.r1).get(url(pool)))
    for private in (world.staff_c1.name, world.a_admin.name, world.gw.name, world.a_member.name):
        assert private not in resident_page
    assert world.org_a.name in resident_page
    assert world.a_member.masked_name in resident_page  # the volunteer sent, masked
    staff_page = text(client_for(world.staff_c1).get(url(pool)))
    for name in (world.staff_c1.name, world.a_admin.name, world.gw.name, world.a_member.name):
        assert name in staff_page


# --- the resident: cancel, confirm and rate -----------------------------------------------------------------
def test_the_resident_cancels_before_acceptance(world, dispatched, client_for):
    response = client_for(world.r1).post(url(dispatched, "cancel"), {"reason": "改天再来"})
    assert response.status_code == 302 and response["Location"] == url(dispatched)
    assert fresh(dispatched).status == Order.Status.CANCELLED
    assert fresh(dispatched).session.booked == 0


def test_cancelling_after_acceptance_is_a_409_and_no_longer_offered(world, dispatched, client_for):
    services.do_accept_order(actor=world.a_admin, order_id=dispatched.pk)
    html = _refused(
        client_for(world.r1).post(url(dispatched, "cancel"), {"reason": "临时有事"}), 409, "wrong_stage"
    )
    assert 'data-testid="cancel-box"' not in html  # the message says whom to contact instead
    assert fresh(dispatched).status == Order.Status.ACCEPTED


def test_the_resident_confirms_and_rates_and_points_are_posted_once(world, client_for):
    order = delivered_order(world)
    client = client_for(world.r1)
    page = client.get(url(order)).content.decode()
    assert 'data-testid="rate-box"' in page and page.count('name="rating"') == 5
    response = client.post(url(order, "confirm"), {"rating": "5", "comment": "很准时，谢谢"})
    assert response.status_code == 302
    order = fresh(order)
    assert order.status == Order.Status.COMPLETED and order.rating == 5 and order.comment == "很准时，谢谢"
    assert Entry.objects.filter(key__startswith=f"order:{order.pk}:").count() == 1
    # Rating twice: 409, still one entry, the first rating stands.
    again = client.post(url(order, "confirm"), {"rating": "1", "comment": "改主意"})
    _refused(again, 409, "already_rated")
    assert fresh(order).rating == 5
    assert Entry.objects.filter(key__startswith=f"order:{order.pk}:").count() == 1


@pytest.mark.parametrize("rating", ["", "0", "6", "abc", "4.5"])
def test_a_bad_rating_is_a_400_that_keeps_the_comment(world, client_for, rating):
    order = delivered_order(world)
    data = {"comment": "菜有点咸"} | ({"rating": rating} if rating else {})
    html = _refused(client_for(world.r1).post(url(order, "confirm"), data), 400, "bad_input")
    assert "菜有点咸" in html
    assert fresh(order).status == Order.Status.DELIVERED


def test_rating_before_delivery_is_a_409(world, dispatched, client_for):
    _refused(client_for(world.r1).post(url(dispatched, "confirm"), {"rating": "4"}), 409, "not_delivered")
    assert fresh(dispatched).rating is None


def test_only_the_resident_confirms_online(world, client_for):
    order = delivered_order(world)
    _refused(client_for(world.staff_c1).post(url(order, "confirm"), {"rating": "5"}), 403, "not_resident")


# --- the organisation: accept, decline, assign, claim -------------------------------------------------------
def test_the_organisation_admin_accepts_and_assigns_a_volunteer(world, dispatched, client_for):
    client = client_for(world.a_admin)
    page = client.get(url(dispatched))
    assert 'data-testid="accept-box"' in page.content.decode()
    assert client.post(url(dispatched, "accept")).status_code == 302
    assert fresh(dispatched).status == Order.Status.ACCEPTED
    page = client.get(url(dispatched)).content.decode()
    assert 'data-testid="assign-box"' in page and world.a_member.name in page
    assert client.post(url(dispatched, "assign"), {"people": [world.a_member.pk]}).status_code == 302
    assert list(fresh(dispatched).assignments.values_list("person_id", flat=True)) == [world.a_member.pk]


def test_a_member_who_is_not_admin_cannot_accept(world, dispatched, client_for):
    _refused(client_for(world.a_member).post(url(dispatched, "accept")), 403, "not_org_admin")
    assert fresh(dispatched).status == Order.Status.DISPATCHED


def test_another_organisation_cannot_even_find_the_order(world, dispatched, client_for):
    assert client_for(world.c_admin).post(url(dispatched, "accept")).status_code == 404
    assert fresh(dispatched).status == Order.Status.DISPATCHED


def test_declining_needs_a_reason(world, dispatched, client_for):
    client = client_for(world.a_admin)
    _refused(client.post(url(dispatched, "decline"), {"reason": "  "}), 400, "bad_input")
    assert fresh(dispatched).status == Order.Status.DISPATCHED
    assert client.post(url(dispatched, "decline"), {"reason": "本周人手不足"}).status_code == 302
    order = fresh(dispatched)
    assert order.status == Order.Status.ORDERED and order.organisation is None


def test_assigning_someone_who_is_not_a_member_is_a_400(world, dispatched, client_for):
    services.do_accept_order(actor=world.a_admin, order_id=dispatched.pk)
    for people in ([world.r2.pk], ["x"], []):
        _refused(
            client_for(world.a_admin).post(url(dispatched, "assign"), {"people": people}), 400, "bad_input"
        )
    assert not fresh(dispatched).assignments.exists()


def test_an_organisation_claims_a_waiting_order(world, pool, client_for):
    response = client_for(world.b_admin).post(url(pool, "claim"), {"organisation": world.org_b.pk})
    assert response.status_code == 302
    order = fresh(pool)
    assert order.status == Order.Status.ACCEPTED and order.organisation == world.org_b


def test_claiming_an_order_another_organisation_took_first_is_a_409(world, pool, client_for):
    services.do_claim_order(actor=world.a_admin, order_id=pool.pk, organisation_id=world.org_a.pk)
    response = client_for(world.b_admin).post(url(pool, "claim"), {"organisation": world.org_b.pk})
    _refused(response, 409, "taken_by_another")
    assert world.r1.name not in text(response)  # not theirs: the refusal shows no order details
    assert fresh(pool).organisation == world.org_a


def test_claiming_for_an_organisation_one_does_not_run_is_a_400(world, pool, client_for):
    response = client_for(world.b_admin).post(url(pool, "claim"), {"organisation": world.org_a.pk})
    _refused(response, 400, "bad_input")
    assert fresh(pool).status == Order.Status.ORDERED


# --- staff: dispatch, held points ---------------------------------------------------------------------------
def test_staff_dispatch_to_an_organisation_serving_the_area(world, pool, client_for):
    client = client_for(world.staff_c1)
    page = client.get(url(pool))
    choices = [value for value, _label in page.context["forms"]["dispatch"].fields["organisation"].choices]
    assert set(choices) == {world.org_a.pk, world.org_b.pk}  # not org C of the other street
    _refused(client.post(url(pool, "dispatch"), {"organisation": world.org_c.pk}), 400, "bad_input")
    assert client.post(url(pool, "dispatch"), {"organisation": world.org_a.pk}).status_code == 302
    assert fresh(pool).status == Order.Status.DISPATCHED and fresh(pool).organisation == world.org_a


def test_a_resident_cannot_dispatch(world, pool, client_for):
    _refused(
        client_for(world.r1).post(url(pool, "dispatch"), {"organisation": world.org_a.pk}),
        403,
        "out_of_scope",
    )
    assert fresh(pool).status == Order.Status.ORDERED


def test_staff_release_or_withhold_points_held_after_a_poor_rating(world, client_for):
    order = delivered_order(world)
    services.do_confirm_order(actor=world.r1, order_id=order.pk, rating=1, comment="没来")
    assert fresh(order).award == Order.Award.HELD
    client = client_for(world.staff_c1)
    assert 'data-testid="award-box"' in client.get(url(order)).content.decode()
    _refused(client.post(url(order, "withhold"), {"reason": ""}), 400, "bad_input")
    assert client.post(url(order, "withhold"), {"reason": "核实未上门"}).status_code == 302
    assert fresh(order).award == Order.Award.WITHHELD
    _refused(client.post(url(order, "release")), 409, "wrong_stage")
    assert not Entry.objects.filter(key__startswith=f"order:{order.pk}:").exists()


# --- deliverers: delivered, confirm on the deliverer's phone ------------------------------------------------
def test_the_grid_worker_marks_delivered_and_the_resident_does_not_see_their_name(
    world, dispatched, client_for
):
    services.do_accept_order(actor=world.a_admin, order_id=dispatched.pk)
    client = client_for(world.gw)
    assert 'data-testid="deliver-box"' in client.get(url(dispatched)).content.decode()
    assert client.post(url(dispatched, "deliver"), {"note": "已送到家"}).status_code == 302
    order = fresh(dispatched)
    assert order.status == Order.Status.DELIVERED and order.delivered_by == world.gw
    page = text(client_for(world.r1).get(url(order)))
    assert world.gw.name not in page and "已送到家" in page


def test_a_resident_cannot_mark_their_own_order_delivered(world, dispatched, client_for):
    services.do_accept_order(actor=world.a_admin, order_id=dispatched.pk)
    _refused(client_for(world.r1).post(url(dispatched, "deliver")), 403, "out_of_scope")
    assert fresh(dispatched).status == Order.Status.ACCEPTED


def _sms_code(order, resident) -> str:
    body = Notification.objects.get(key=f"order-delivered:{order.pk}:{resident.pk}").body
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_the_deliverer_confirms_with_the_residents_sms_code(world, client_for):
    order = delivered_order(world)
    code = _sms_code(order, world.r1)
    wrong = "000000" if code != "000000" else "111111"
    client = client_for(world.a_member)
    html = _refused(
        client.post(url(order, "confirm-sms"), {"code": wrong, "rating": "4", "comment": "老人满意"}),
        400,
        "wrong_code",
    )
    assert "老人满意" in html and 'value="4"' in html
    assert fresh(order).sms_code_attempts == 1 and fresh(order).status == Order.Status.DELIVERED
    _refused(client.post(url(order, "confirm-sms"), {"code": "12ab", "rating": "4"}), 400, "bad_input")
    response = client.post(url(order, "confirm-sms"), {"code": code, "rating": "4", "comment": "老人满意"})
    assert response.status_code == 302
    order = fresh(order)
    assert order.status == Order.Status.COMPLETED and order.confirmed_via == Order.ConfirmedVia.SMS


def test_the_door_check_in_time_is_shown(world, client_for):
    order = order_for(world, world.r1)
    services.do_dispatch_order(actor=world.staff_c1, order_id=order.pk, organisation_id=world.org_a.pk)
    services.do_accept_order(actor=world.a_admin, order_id=order.pk)
    card = services.card_token(services.beneficiary_for(world.r1))
    services.do_check_in_at_door(actor=world.gw, order_id=order.pk, token=card)
    assert 'data-testid="checked-in"' in client_for(world.r1).get(url(order)).content.decode()


# --- anything else ----------------------------------------------------------------------------------------
def test_an_unknown_action_is_a_404_and_a_get_goes_back_to_the_page(world, dispatched, client_for):
    client = client_for(world.r1)
    assert client.post(url(dispatched, "explode")).status_code == 404
    response = client.get(url(dispatched, "cancel"))
    assert response.status_code == 302 and response["Location"] == url(dispatched)
    assert fresh(dispatched).status == Order.Status.DISPATCHED


def test_signed_out_steps_go_to_sign_in(world, dispatched, client_for):
    response = client_for().post(url(dispatched, "cancel"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert fresh(dispatched).status == Order.Status.DISPATCHED
    assert OrderEvent.objects.filter(order=dispatched, kind=OrderEvent.Kind.CANCELLED).count() == 0
