"""Session rosters of a dining point: who booked (with dietary notes and 帮办), attendance by scanning
cards (idempotent) or by a button, cancelling a session; only for the service's organisation and the
staff of its area; a constant number of queries whatever the bookings."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from services_catalog import services
from services_catalog.models import Order, OrderEvent
from tests.factories import UserFactory
from tests.services_catalog.dining.support import MORNING, SHANGHAI, marked, text
from tests.services_catalog.world import beneficiary, session_of

pytestmark = pytest.mark.django_db

LUNCH_AT = MORNING + timedelta(hours=2)  # 11:00 today


@pytest.fixture
def lunch(world):
    return session_of(world.lunch, starts_in=timedelta(hours=2))


def book(world, session, resident, *, actor=None):
    return services.do_place_order(
        actor=actor or resident, service_id=world.lunch.pk, resident=resident, session_id=session.pk
    )


def roster_url(world, day=None):
    url = reverse("services:dining_roster", args=[world.lunch.code])
    return f"{url}?day={day}" if day else url


def scan_url(world, session):
    return reverse("services:dining_scan_json", args=[world.lunch.code, session.pk])


def scan(client, world, session, person_or_text):
    token = (
        person_or_text
        if isinstance(person_or_text, str)
        else "http://testserver" + services.card_path(services.beneficiary_for(person_or_text))
    )
    return client.post(
        scan_url(world, session),
        data=json.dumps({"token": token, "kind": "in", "nonce": "n" * 16}),
        content_type="application/json",
    )


# --- the roster -------------------------------------------------------------------------------------------
def test_the_roster_lists_names_masked_phones_dietary_notes_and_bookings_made_for_residents(
    world, lunch, client_for
):
    beneficiary(world.r1, dietary_notes="低盐，不吃辣")
    book(world, lunch, world.r1)
    book(world, lunch, world.r2, actor=world.gw)  # 帮办
    response = client_for(world.a_member).get(roster_url(world))
    assert response.status_code == 200
    page = text(response)
    assert "张三丰" in page and "李四海" in page
    assert world.r1.masked_phone in page and world.r1.phone not in response.content.decode()
    assert "低盐，不吃辣" in page
    rows = marked(response, "roster-row")
    assert len(rows) == 2
    assert response.content.decode().count('data-testid="proxy"') == 1
    assert "网格员王" in page


def test_cancelled_bookings_are_not_on_the_roster(world, lunch, client_for):
    kept = book(world, lunch, world.r1)
    gone = book(world, lunch, world.r2)
    services.do_cancel_order(actor=world.r2, order_id=gone.pk)
    response = client_for(world.a_member).get(roster_url(world))
    assert marked(response, "roster-row") == [kept.code]


def test_another_day_shows_that_days_sessions(world, lunch, client_for):
    tomorrow = session_of(world.lunch, starts_in=timedelta(days=1, hours=2))
    booked = book(world, tomorrow, world.r1)
    response = client_for(world.a_member).get(roster_url(world, (MORNING + timedelta(days=1)).date()))
    assert marked(response, "roster-row") == [booked.code]
    assert 'data-testid="mark-attended"' not in response.content.decode()  # not before the day


def test_a_bad_day_is_a_clear_400(world, client_for):
    response = client_for(world.a_member).get(roster_url(world, "2026-02-30"))
    assert response.status_code == 400
    assert "YYYY-MM-DD" in text(response)


@pytest.mark.parametrize(
    ("who", "status"),
    [("r1", 403), ("c_admin", 403), ("staff_c3", 403), ("gw", 403), ("a_member", 200), ("staff_s1", 200)],
)
def test_only_the_organisation_and_the_staff_of_the_area_see_the_roster(
    world, lunch, client_for, who, status
):
    book(world, lunch, world.r1)
    assert client_for(getattr(world, who)).get(roster_url(world)).status_code == status


def test_signed_out_visitors_are_sent_to_sign_in(world, client_for):
    response = client_for().get(roster_url(world))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_roster_takes_the_same_number_of_queries_for_two_or_eight_bookings(world, lunch, client_for):
    client = client_for(world.a_member)
    evening = session_of(world.lunch, starts_in=timedelta(hours=8))
    for person in (world.r1, world.r2):
        beneficiary(person, dietary_notes="软食")
        book(world, lunch, person)
    client.get(roster_url(world))  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(roster_url(world)).status_code == 200
    for n in range(6):
        person = UserFactory(name=f"居民{n}", home_grid=world.g1)
        beneficiary(person, dietary_notes=f"忌口{n}")
        book(world, lunch if n % 2 else evening, person, actor=world.gw)
    with CaptureQueriesContext(connection) as many:
        response = client.get(roster_url(world))
    assert len(marked(response, "roster-row")) == 8
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


# --- scanning cards ---------------------------------------------------------------------------------------
def test_a_repeat_scan_returns_the_first_result(world, lunch, client_for, clock):
    order = book(world, lunch, world.r1)
    client = client_for(world.a_member)
    clock.move_to(LUNCH_AT + timedelta(minutes=2))
    first = scan(client, world, lunch, world.r1)
    assert first.status_code == 200
    assert first.json() | {"at": "?"} == {
        "ok": True,
        "code": "attended",
        "message": first.json()["message"],
        "name": "张三丰",
        "at": "?",
        "replay": False,
    }
    assert first.json()["at"] == "11:02"

    clock.move_to(LUNCH_AT + timedelta(minutes=7))
    again = scan(client, world, lunch, world.r1)
    assert again.status_code == 200
    assert again.json()["code"] == "already_attended" and again.json()["replay"] is True
    assert again.json()["at"] == "11:02"
    order.refresh_from_db()
    assert order.attended_at.astimezone(SHANGHAI).strftime("%H:%M") == "11:02"
    assert order.events.filter(kind=OrderEvent.Kind.ATTENDED).count() == 1
    assert order.status == Order.Status.DELIVERED


def test_a_forged_card_or_an_unbooked_resident_is_refused_in_json(world, lunch, client_for):
    book(world, lunch, world.r1)
    client = client_for(world.a_member)
    forged = scan(client, world, lunch, "http://testserver/services/card/abc.1:forged/")
    assert forged.status_code == 400 and forged.json()["code"] == "invalid_card"
    unbooked = scan(client, world, lunch, world.r2)
    assert unbooked.status_code == 404 and unbooked.json()["code"] == "not_booked"
    assert "李*海" in unbooked.json()["message"]


def test_a_scan_by_someone_outside_the_organisation_is_refused(world, lunch, client_for):
    order = book(world, lunch, world.r1)
    for person in (world.c_admin, world.r2, world.gw):
        assert scan(client_for(person), world, lunch, world.r1).status_code == 403
    assert scan(client_for(), world, lunch, world.r1).status_code == 401
    order.refresh_from_db()
    assert order.attended_at is None


def test_a_scan_for_a_session_on_a_later_day_is_refused(world, client_for):
    tomorrow = session_of(world.lunch, starts_in=timedelta(days=1))
    order = book(world, tomorrow, world.r1)
    response = scan(client_for(world.a_member), world, tomorrow, world.r1)
    assert response.status_code == 409
    order.refresh_from_db()
    assert order.attended_at is None


def test_bad_json_is_a_400(world, lunch, client_for):
    response = client_for(world.a_member).post(
        scan_url(world, lunch), data="{", content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["ok"] is False


def test_the_scanner_page_uses_the_kiosk_scanner_without_its_offline_queue(world, lunch, client_for):
    response = client_for(world.a_member).get(
        reverse("services:dining_scan", args=[world.lunch.code, lunch.pk])
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "js/kiosk.js" in html and "js/camera.js" in html
    assert 'data-offline-queue="off"' in html
    assert scan_url(world, lunch) in html


# --- the manual button ------------------------------------------------------------------------------------
def test_the_attended_button_marks_a_resident_without_their_card_once(world, lunch, client_for, clock):
    order = book(world, lunch, world.r1)
    client = client_for(world.a_member)
    url = reverse("services:dining_attended", args=[world.lunch.code, lunch.pk])
    clock.move_to(LUNCH_AT)
    response = client.post(url, {"order": order.code})
    assert response.status_code == 302 and response["Location"].endswith(f"#o-{order.code}")
    clock.move_to(LUNCH_AT + timedelta(minutes=3))
    client.post(url, {"order": order.code})
    order.refresh_from_db()
    assert order.attended_at.astimezone(SHANGHAI).strftime("%H:%M") == "11:00"
    assert order.events.filter(kind=OrderEvent.Kind.ATTENDED).count() == 1
    page = client.get(roster_url(world))
    assert 'data-testid="attended-badge"' in page.content.decode()
    assert client.get(roster_url(world)).context["attended"] == 1


def test_the_attended_button_refuses_an_unknown_booking(world, lunch, client_for):
    url = reverse("services:dining_attended", args=[world.lunch.code, lunch.pk])
    assert client_for(world.a_member).post(url, {"order": "nope"}).status_code == 404


# --- cancelling a session ---------------------------------------------------------------------------------
def test_cancelling_a_session_needs_a_reason_and_then_cancels_its_bookings(world, lunch, client_for):
    order = book(world, lunch, world.r1)
    url = reverse("services:dining_cancel_session", args=[world.lunch.code, lunch.pk])
    client = client_for(world.a_admin)
    refused = client.post(url, {"reason": "   "})
    assert refused.status_code == 400
    lunch.refresh_from_db()
    assert not lunch.cancelled
    done = client.post(url, {"reason": "厨师生病"})
    assert done.status_code == 302
    lunch.refresh_from_db()
    order.refresh_from_db()
    assert lunch.cancelled and order.status == Order.Status.CANCELLED
    assert order.events.get(kind=OrderEvent.Kind.CANCELLED).note == "厨师生病"
    page = client.get(roster_url(world))
    assert 'data-testid="session-cancelled"' in page.content.decode()


def test_a_plain_member_cannot_cancel_a_session(world, lunch, client_for):
    url = reverse("services:dining_cancel_session", args=[world.lunch.code, lunch.pk])
    assert client_for(world.a_member).post(url, {"reason": "想休息"}).status_code == 403
    lunch.refresh_from_db()
    assert not lunch.cancelled


def test_a_session_that_is_over_cannot_be_cancelled(world, lunch, client_for, clock):
    order = book(world, lunch, world.r1)
    clock.move_to(LUNCH_AT + timedelta(hours=2))  # 13:00, lunch ended at 12:30
    url = reverse("services:dining_cancel_session", args=[world.lunch.code, lunch.pk])
    response = client_for(world.a_admin).post(url, {"reason": "补登"})
    assert response.status_code == 409
    assert "补登" in response.content.decode()  # the reason typed is shown again
    lunch.refresh_from_db()
    order.refresh_from_db()
    assert not lunch.cancelled and order.status != Order.Status.CANCELLED
