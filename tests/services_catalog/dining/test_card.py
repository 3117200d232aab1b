"""The page a resident's printed QR card opens (/services/card/<token>/): actions for the people who
serve the resident, nothing but the masked name for anyone else, 4xx for forged or void cards, and the
token kept out of the logs."""

import logging
from datetime import timedelta

import pytest
from django.urls import reverse

from services_catalog import services
from services_catalog.models import Order, OrderEvent
from tests.services_catalog.dining.support import MORNING, SHANGHAI, marked, text
from tests.services_catalog.world import order_for, session_of

pytestmark = pytest.mark.django_db


def card_url(person) -> str:
    return services.card_path(services.beneficiary_for(person))


def accepted_order(world, resident=None) -> Order:
    """A request of the centre's home-help service, dispatched to org A and accepted: due at the door."""
    order = order_for(world, resident or world.r1)
    services.do_dispatch_order(actor=world.staff_c1, order_id=order.pk, organisation_id=world.org_a.pk)
    services.do_accept_order(actor=world.a_admin, order_id=order.pk)
    order.refresh_from_db()
    return order


def todays_lunch_booking(world, resident=None) -> Order:
    """A booking of org A's lunch at 11:00 today (booked at 9:00)."""
    session = session_of(world.lunch, starts_in=timedelta(hours=2))
    return order_for(world, resident or world.r1, service=world.lunch, session=session)


# --- forged and void cards ------------------------------------------------------------------------------
def test_a_forged_card_gets_a_clear_4xx_page_in_chinese(world, client_for):
    url = card_url(world.r1)
    forged = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]
    response = client_for(world.a_member).get(forged)
    assert response.status_code == 400
    assert 'data-code="invalid_card"' in response.content.decode()
    assert "这张服务卡无效" in text(response)
    assert "张*丰" not in text(response) and "张三丰" not in text(response)


def test_a_card_voided_by_a_new_one_no_longer_opens(world, client_for):
    old_url = card_url(world.r1)
    services.do_reissue_card(actor=world.gw, person=world.r1)
    assert client_for().get(old_url).status_code == 400
    assert client_for().get(card_url(world.r1)).status_code == 200


def test_an_action_posted_with_a_void_card_changes_nothing(world, client_for):
    order = accepted_order(world)
    old_url = card_url(world.r1)
    services.do_reissue_card(actor=world.gw, person=world.r1)
    response = client_for(world.a_member).post(old_url, {"action": "deliver", "order": order.code})
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == Order.Status.ACCEPTED


# --- who sees what --------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["anonymous", "other_resident", "other_organisation", "staff_elsewhere"])
def test_anyone_not_serving_the_resident_sees_only_a_genuine_card_and_a_masked_name(world, client_for, who):
    order = accepted_order(world)
    booking = todays_lunch_booking(world)
    viewer = {
        "anonymous": None,
        "other_resident": world.r2,
        "other_organisation": world.c_admin,
        "staff_elsewhere": world.staff_c3,
    }[who]
    response = client_for(viewer).get(card_url(world.r1))
    assert response.status_code == 200
    page = text(response)
    assert "张*丰" in page
    assert 'data-testid="card-info"' in response.content.decode()
    for secret in ("张三丰", world.r1.masked_phone, order.code, booking.code, world.centre_service.title):
        assert secret not in response.content.decode()


def test_the_resident_opening_their_own_card_is_told_what_it_is_for(world, client_for):
    accepted_order(world)
    response = client_for(world.r1).get(card_url(world.r1))
    assert response.status_code == 200
    assert marked(response, "door-order") == []
    assert reverse("services:my_orders") in response.content.decode()


@pytest.mark.parametrize("who", ["a_member", "a_admin", "gw"])
def test_the_organisation_and_the_grid_worker_see_the_order_due_at_the_door(world, client_for, who):
    order = accepted_order(world)
    other = accepted_order(world, world.r2)  # another resident's order never shows on r1's card
    response = client_for(getattr(world, who)).get(card_url(world.r1))
    assert marked(response, "door-order") == [order.code]
    assert other.code not in response.content.decode()
    assert 'data-testid="check-in"' in response.content.decode()


def test_an_organisation_that_did_not_take_the_order_sees_none_of_it(world, client_for):
    accepted_order(world)
    response = client_for(world.b_admin).get(card_url(world.r1))
    assert marked(response, "door-order") == []
    assert 'data-testid="card-info"' in response.content.decode()


def test_the_page_sends_no_referrer_and_is_not_cached(world, client_for):
    response = client_for().get(card_url(world.r1))
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


# --- at the door: check in, deliver, the resident confirms and rates on the deliverer's phone ------------
def test_the_deliverer_checks_in_delivers_and_the_resident_rates_by_card(world, client_for):
    order = accepted_order(world)
    client = client_for(world.a_member)
    url = card_url(world.r1)

    response = client.post(url, {"action": "check_in", "order": order.code})
    assert response.status_code == 302 and response["Location"] == url
    order.refresh_from_db()
    assert order.checked_in_at is not None and order.status == Order.Status.ACCEPTED

    client.post(url, {"action": "deliver", "order": order.code})
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED and order.delivered_by == world.a_member

    page = client.get(url)
    assert marked(page, "confirm-order") == [order.code]
    assert marked(page, "door-order") == []

    client.post(url, {"action": "confirm", "order": order.code, "rating": "4", "comment": "  很准时  "})
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert (order.rating, order.comment, order.confirmed_via) == (4, "很准时", Order.ConfirmedVia.CARD)
    assert marked(client.get(url), "confirm-order") == []


def test_a_missing_rating_is_refused_and_the_comment_is_kept(world, client_for):
    order = accepted_order(world)
    services.do_deliver_order(actor=world.a_member, order_id=order.pk)
    response = client_for(world.a_member).post(
        card_url(world.r1), {"action": "confirm", "order": order.code, "comment": "饭菜可口"}
    )
    assert response.status_code == 400
    assert "饭菜可口" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED


def test_a_second_confirmation_is_refused(world, client_for):
    order = accepted_order(world)
    services.do_deliver_order(actor=world.a_member, order_id=order.pk)
    client = client_for(world.a_member)
    client.post(card_url(world.r1), {"action": "confirm", "order": order.code, "rating": "5"})
    response = client.post(card_url(world.r1), {"action": "confirm", "order": order.code, "rating": "1"})
    assert response.status_code == 409
    order.refresh_from_db()
    assert order.rating == 5


def test_someone_not_serving_the_resident_cannot_post_an_action(world, client_for):
    order = accepted_order(world)
    for viewer, status in ((None, 403), (world.r2, 403), (world.c_admin, 403)):
        response = client_for(viewer).post(card_url(world.r1), {"action": "deliver", "order": order.code})
        assert response.status_code == status
    order.refresh_from_db()
    assert order.status == Order.Status.ACCEPTED


def test_an_order_of_another_resident_cannot_be_acted_on_through_this_card(world, client_for):
    other = accepted_order(world, world.r2)
    accepted_order(world)
    response = client_for(world.a_member).post(card_url(world.r1), {"action": "deliver", "order": other.code})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == Order.Status.ACCEPTED


# --- at a session ---------------------------------------------------------------------------------------
def test_the_organisation_marks_todays_booking_attended_once(world, client_for, clock):
    booking = todays_lunch_booking(world)
    clock.move_to(MORNING + timedelta(hours=2, minutes=5))
    client = client_for(world.a_member)
    page = client.get(card_url(world.r1))
    assert booking.code in page.content.decode()
    assert 'data-testid="attend"' in page.content.decode()

    client.post(card_url(world.r1), {"action": "attend", "order": booking.code})
    booking.refresh_from_db()
    first = booking.attended_at
    assert first is not None and booking.status == Order.Status.DELIVERED

    clock.move_to(MORNING + timedelta(hours=2, minutes=9))
    response = client.post(card_url(world.r1), {"action": "attend", "order": booking.code}, follow=True)
    assert response.status_code == 200  # a repeat tap answers with the first time
    assert first.astimezone(SHANGHAI).strftime("%H:%M") == "11:05"
    assert "11:05" in text(response) and "11:09" not in text(response)
    booking.refresh_from_db()
    assert booking.attended_at == first
    assert booking.events.filter(kind=OrderEvent.Kind.ATTENDED).count() == 1


def test_the_grid_worker_does_not_get_the_attendance_button_of_a_dining_point(world, client_for):
    todays_lunch_booking(world)
    page = client_for(world.gw).get(card_url(world.r1))
    assert 'data-testid="attend"' not in page.content.decode()


# --- logs -------------------------------------------------------------------------------------------------
def test_the_card_token_never_reaches_the_request_log(world, client_for, caplog):
    token = services.card_token(services.beneficiary_for(world.r1))
    caplog.set_level(logging.INFO)
    client_for().get(reverse("services:card", args=[token[:-2] + "xx"]))  # forged: logged as a 400
    client_for().post(reverse("services:card", args=[token]), {"action": "deliver", "order": "x"})  # 403
    assert "Bad Request: /services/card/[card]/" in caplog.text
    assert "Forbidden: /services/card/[card]/" in caplog.text
    assert token[:12] not in caplog.text
