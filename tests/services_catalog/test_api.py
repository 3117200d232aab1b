"""/api/v1/services: the catalogue, ordering, my orders, and each step of the loop; every refusal a 4xx
in the one JSON error shape with the stable code of the exception behind it."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from points.models import Entry
from services_catalog import services
from services_catalog.models import Order, OrderEvent, Service, ServiceCategory, Session
from tests.api.support import AppClient, assert_error, session_token_for
from tests.factories import UserFactory
from tests.services_catalog.factories import ServiceFactory, SessionFactory
from tests.services_catalog.world import build_world, delivered_order, order_for, session_of

pytestmark = pytest.mark.django_db

BASE = "/api/v1/services"


@pytest.fixture
def world():
    return build_world()


def app_for(person) -> AppClient:
    return AppClient(session_token_for(person))


def _codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["code"] for item in response.json()["items"]]


# --- the catalogue -----------------------------------------------------------------------------------------
def test_the_catalogue_is_public_lists_published_services_only_and_filters(client, world):
    health = ServiceFactory(
        title="社区义诊",
        description="测血压、血糖",
        category=ServiceCategory.objects.get(slug="health"),
        street=world.s2,
        area_communities=[world.c3],
    )
    for status in (Service.Status.DRAFT, Service.Status.PENDING, Service.Status.SUSPENDED):
        ServiceFactory(title=f"未发布{status}", street=world.s1, area_streets=[world.s1], status=status)

    everything = _codes(client.get(BASE))
    assert sorted(everything) == sorted([world.centre_service.code, world.lunch.code, health.code])
    assert _codes(client.get(BASE, {"category": "health"})) == [health.code]
    assert _codes(client.get(BASE, {"community": world.c3.pk})) == [health.code]
    # Community c1 is served by the lunch (c1 itself) and the centre's service (all of street s1).
    assert sorted(_codes(client.get(BASE, {"community": world.c1.pk}))) == sorted(
        [world.centre_service.code, world.lunch.code]
    )
    assert _codes(client.get(BASE, {"community": world.c2.pk})) == [world.centre_service.code]
    assert _codes(client.get(BASE, {"community": 999_999})) == []
    assert _codes(client.get(BASE, {"q": "血压"})) == [health.code]
    assert _codes(client.get(BASE, {"q": "义诊 血糖"})) == [health.code]
    assert _codes(client.get(BASE, {"q": "义诊 午餐"})) == []
    assert _codes(client.get(BASE, {"q": "星兴助餐队"})) == [world.lunch.code]  # the organisation's name
    assert_error(client.get(BASE, {"category": "no-such"}), 422, "invalid")
    assert_error(client.get(BASE, {"community": "abc"}), 422, "invalid")
    assert_error(client.get(BASE, {"community": 2**70}), 422, "invalid")
    assert_error(client.get(BASE, {"q": "字" * 51}), 422, "invalid")


def test_for_me_lists_what_the_callers_grid_is_served_by(world):
    assert sorted(_codes(app_for(world.r1).get(BASE, {"for_me": "true"}))) == sorted(
        [world.centre_service.code, world.lunch.code]
    )
    assert _codes(app_for(world.r3).get(BASE, {"for_me": "true"})) == []
    assert_error(AppClient().get(BASE, {"for_me": "true"}), 401, "not_authenticated")
    assert_error(app_for(UserFactory(home_grid=None)).get(BASE, {"for_me": "true"}), 400, "no_home_grid")


def test_each_service_shows_its_rating(client, world):
    for resident, rating in ((world.r1, 5), (world.r2, 2)):
        order = delivered_order(world, resident)
        services.do_confirm_order(actor=resident, order_id=order.pk, rating=rating)
    items = {item["code"]: item for item in client.get(BASE).json()["items"]}
    assert items[world.centre_service.code]["rating"] == {"average": 3.5, "count": 2}
    assert items[world.lunch.code]["rating"] == {"average": None, "count": 0}


def test_the_catalogue_query_count_does_not_grow_with_its_rows(client, world):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(BASE)
        assert response.status_code == 200
        return len(queries), len(response.json()["items"])

    few, rows = count_queries()
    for _ in range(6):
        ServiceFactory(street=world.s1, area_streets=[world.s1], organisation=world.org_b)
    many, more_rows = count_queries()
    assert more_rows == rows + 6 and many == few


def test_a_service_page_has_its_area_upcoming_sessions_and_whether_i_may_order(client, world):
    soon = session_of(world.lunch, starts_in=dt.timedelta(hours=3), capacity=2)
    later = session_of(world.lunch, starts_in=dt.timedelta(days=2))
    session_of(world.lunch, starts_in=dt.timedelta(hours=-3))  # over
    gone = session_of(world.lunch, starts_in=dt.timedelta(days=1))
    services.do_cancel_session(actor=world.a_admin, session_id=gone.pk, reason="停水")
    order_for(world, world.r1, service=world.lunch, session=soon)

    body = client.get(f"{BASE}/{world.lunch.code}").json()
    assert [s["id"] for s in body["sessions"]] == [soon.pk, later.pk]
    assert body["sessions"][0]["places_left"] == 1
    assert body["area"]["communities"] == [{"id": world.c1.pk, "name": world.c1.name}]
    assert body["organisation"] == {"id": world.org_a.pk, "name": world.org_a.name}
    assert body["can_order"] is None  # not signed in

    mine = app_for(world.r2).get(f"{BASE}/{world.lunch.code}").json()["can_order"]
    assert mine == {"ok": True, "code": None, "message": None}
    theirs = app_for(world.r3).get(f"{BASE}/{world.lunch.code}").json()["can_order"]
    assert theirs["ok"] is False and theirs["code"] == "outside_area" and theirs["message"]

    assert_error(client.get(f"{BASE}/nope"), 404, "service_not_found")
    Service.objects.filter(pk=world.lunch.pk).update(status=Service.Status.SUSPENDED)
    assert_error(client.get(f"{BASE}/{world.lunch.code}"), 404, "service_not_found")


def test_categories_are_listed_in_the_requests_language(world):
    body = AppClient(language="en").get(f"{BASE}/categories").json()
    assert (body[0]["code"], body[0]["name"]) == ("elder_dining", "Elder dining")
    assert AppClient(language="zh-hans").get(f"{BASE}/categories").json()[0]["name"] == "老年助餐"


# --- ordering -----------------------------------------------------------------------------------------------
def test_ordering_through_the_api(world):
    session = session_of(world.lunch, capacity=1)
    response = app_for(world.r1).post(
        f"{BASE}/{world.lunch.code}/order", {"session": session.pk, "note": "少盐"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "dispatched" and body["channel"] == "api" and body["note"] == "少盐"
    assert body["session"]["id"] == session.pk and body["organisation"]["id"] == world.org_a.pk
    assert body["url"].endswith(f"/{body['code']}/")
    assert [event["kind"] for event in body["events"]] == ["ordered", "dispatched"]
    assert body["actions"] == ["cancel"]
    assert Session.objects.get(pk=session.pk).booked == 1

    assert_error(
        app_for(world.r2).post(f"{BASE}/{world.lunch.code}/order", {"session": session.pk}),
        409,
        "session_full",
    )
    assert_error(
        app_for(world.r1).post(f"{BASE}/{world.lunch.code}/order", {"session": session.pk}),
        409,
        "already_booked",
    )
    past = session_of(world.lunch, starts_in=dt.timedelta(minutes=-5))
    assert_error(
        app_for(world.r2).post(f"{BASE}/{world.lunch.code}/order", {"session": past.pk}),
        409,
        "session_not_bookable",
    )
    assert_error(app_for(world.r3).post(f"{BASE}/{world.centre_service.code}/order", {}), 403, "outside_area")
    assert_error(app_for(world.r1).post(f"{BASE}/nope/order", {}), 404, "service_not_found")
    assert_error(AppClient().post(f"{BASE}/{world.centre_service.code}/order", {}), 401, "not_authenticated")
    assert Order.objects.count() == 1


def test_an_on_demand_request_without_a_body_and_the_not_eligible_answer(world):
    response = app_for(world.r1).post(f"{BASE}/{world.centre_service.code}/order")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "ordered"
    Service.objects.filter(pk=world.centre_service.pk).update(min_age=60)
    error = assert_error(
        app_for(world.r2).post(f"{BASE}/{world.centre_service.code}/order", {}), 403, "not_eligible"
    )
    assert "出生日期" in error["message"] or "date of birth" in error["message"]


def test_a_grid_worker_orders_for_a_resident_by_id(world):
    gw = app_for(world.gw)
    response = gw.post(f"{BASE}/{world.centre_service.code}/order", {"resident": world.r2.pk, "note": "代办"})
    assert response.status_code == 201, response.content
    order = Order.objects.get(code=response.json()["code"])
    assert (order.resident, order.placed_by, order.channel) == (world.r2, world.gw, Order.Channel.PROXY)
    # Someone not theirs and someone who does not exist get the same answer: ids are not to be probed.
    assert_error(
        gw.post(f"{BASE}/{world.centre_service.code}/order", {"resident": world.r4.pk}), 403, "out_of_scope"
    )
    assert_error(
        gw.post(f"{BASE}/{world.centre_service.code}/order", {"resident": 10**9}), 403, "out_of_scope"
    )
    assert_error(
        app_for(world.r1).post(f"{BASE}/{world.centre_service.code}/order", {"resident": world.r2.pk}),
        403,
        "out_of_scope",
    )
    assert Order.objects.count() == 1


# --- bad bodies -------------------------------------------------------------------------------------------
WRITES = [
    ("order", "/{service}/order"),
    ("cancel", "/orders/{order}/cancel"),
    ("confirm", "/orders/{order}/confirm"),
    ("dispatch", "/orders/{order}/dispatch"),
    ("claim", "/orders/{order}/claim"),
    ("decline", "/orders/{order}/decline"),
    ("assign", "/orders/{order}/assign"),
    ("check-in", "/orders/{order}/check-in"),
    ("deliver", "/orders/{order}/deliver"),
    ("award", "/orders/{order}/award"),
]


@pytest.mark.parametrize(("name", "path"), WRITES)
@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 400, "invalid_json"),
        (b"\xff\xfe\x00", "application/json", 400, "invalid_json"),
        ('{"note": "x"}', "text/plain", 415, "unsupported_media_type"),
        ("note=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("[1, 2]", "application/json", 422, "invalid"),
        ('"text"', "application/json", 422, "invalid"),
        ('{"unexpected": 1}', "application/json", 422, "invalid"),
    ],
)
def test_malformed_bodies_get_a_4xx_and_change_nothing(world, name, path, body, content_type, status, code):
    order = order_for(world, world.r1)
    url = BASE + path.format(service=world.centre_service.code, order=order.code)
    response = app_for(world.staff_s1).post(url, body, content_type=content_type)
    assert_error(response, status, code)
    assert Order.objects.count() == 1 and OrderEvent.objects.filter(order=order).count() == 1


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/{service}/order", {"session": "1"}, "session"),
        ("/{service}/order", {"session": 2**64}, "session"),
        ("/{service}/order", {"session": 0}, "session"),
        ("/{service}/order", {"resident": 1.5}, "resident"),
        ("/{service}/order", {"note": "字" * 301}, "note"),
        ("/{service}/order", {"note": 5}, "note"),
        ("/orders/{order}/confirm", {}, "rating"),
        ("/orders/{order}/confirm", {"rating": 0}, "rating"),
        ("/orders/{order}/confirm", {"rating": 6}, "rating"),
        ("/orders/{order}/confirm", {"rating": "5"}, "rating"),
        ("/orders/{order}/confirm", {"rating": True}, "rating"),
        ("/orders/{order}/confirm", {"rating": 4.5}, "rating"),
        ("/orders/{order}/confirm", {"rating": 5, "comment": "字" * 301}, "comment"),
        ("/orders/{order}/confirm", {"rating": 5, "card": ""}, "card"),
        ("/orders/{order}/confirm", {"rating": 5, "sms_code": "1" * 13}, "sms_code"),
        ("/orders/{order}/confirm", {"rating": 5, "card": "x", "sms_code": "123456"}, "__all__"),
        ("/orders/{order}/dispatch", {}, "organisation"),
        ("/orders/{order}/dispatch", {"organisation": "A"}, "organisation"),
        ("/orders/{order}/dispatch", {"organisation": -1}, "organisation"),
        ("/orders/{order}/claim", {"organisation": 2**63}, "organisation"),
        ("/orders/{order}/decline", {}, "reason"),
        ("/orders/{order}/decline", {"reason": ""}, "reason"),
        ("/orders/{order}/decline", {"reason": "x" * 201}, "reason"),
        ("/orders/{order}/assign", {"volunteers": []}, "volunteers"),
        ("/orders/{order}/assign", {"volunteers": "1,2"}, "volunteers"),
        ("/orders/{order}/assign", {"volunteers": ["1"]}, "volunteers.0"),
        ("/orders/{order}/assign", {"volunteers": list(range(1, 30))}, "volunteers"),
        ("/orders/{order}/check-in", {}, "card"),
        ("/orders/{order}/check-in", {"card": "x" * 501}, "card"),
        ("/orders/{order}/award", {"release": "yes"}, "release"),
        ("/orders/{order}/award", {}, "release"),
    ],
)
def test_wrong_types_and_sizes_get_422_naming_the_field(world, path, body, field):
    order = order_for(world, world.r1)
    url = BASE + path.format(service=world.centre_service.code, order=order.code)
    error = assert_error(app_for(world.staff_s1).post(url, body), 422, "invalid")
    assert field in error["fields"], error
    assert Order.objects.count() == 1 and OrderEvent.objects.filter(order=order).count() == 1


def test_unknown_orders_and_paths_answer_404_in_the_api_shape(world):
    app = app_for(world.r1)
    assert_error(app.get(f"{BASE}/orders/nope"), 404, "order_not_found")
    assert_error(app.post(f"{BASE}/orders/nope/cancel", {}), 404, "order_not_found")
    assert_error(app.post(f"{BASE}/orders/nope/accept"), 404, "order_not_found")
    assert_error(app.get(f"{BASE}/orders/nope/what"), 404, "not_found")
    assert_error(app.get(f"{BASE}/orders", {"status": "lost"}), 422, "invalid")


# --- the loop through the API -------------------------------------------------------------------------------
def test_the_whole_loop_through_the_api(world):
    resident, staff, admin, member = (
        app_for(p) for p in (world.r1, world.staff_c1, world.a_admin, world.a_member)
    )
    code = resident.post(f"{BASE}/{world.centre_service.code}/order", {"note": "打扫厨房"}).json()["code"]
    order = Order.objects.get(code=code)

    detail = staff.get(f"{BASE}/orders/{code}").json()
    assert "dispatch" in detail["actions"] and detail["resident"]["name"] == world.r1.name
    assert staff.post(f"{BASE}/orders/{code}/dispatch", {"organisation": world.org_a.pk}).status_code == 200

    assert admin.get(f"{BASE}/orders/{code}").json()["actions"] == ["accept", "decline"]
    accepted = admin.post(f"{BASE}/orders/{code}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert {"id": world.a_member.pk, "name": world.a_member.masked_name} in accepted.json()["assignable"]
    assigned = admin.post(f"{BASE}/orders/{code}/assign", {"volunteers": [world.a_member.pk]})
    assert assigned.json()["volunteers"] == [{"id": world.a_member.pk, "name": world.a_member.masked_name}]

    card = services.card_token(services.beneficiary_for(world.r1))
    assert_error(member.post(f"{BASE}/orders/{code}/check-in", {"card": "forged"}), 400, "invalid_card")
    checked = member.post(f"{BASE}/orders/{code}/check-in", {"card": card})
    assert checked.status_code == 200 and checked.json()["checked_in_at"]
    delivered = member.post(f"{BASE}/orders/{code}/deliver", {"note": "已打扫"})
    assert delivered.json()["status"] == "delivered"
    assert "confirm_for_resident" in delivered.json()["actions"]

    mine = resident.get(f"{BASE}/orders/{code}").json()
    assert mine["actions"] == ["confirm"] and mine["due_at"]
    confirmed = resident.post(f"{BASE}/orders/{code}/confirm", {"rating": 5, "comment": "干净"})
    assert confirmed.status_code == 200, confirmed.content
    body = confirmed.json()
    assert (body["status"], body["rating"], body["confirmed_via"], body["award"]) == (
        "completed",
        5,
        "web",
        "released",
    )
    assert body["due_at"] is None and body["actions"] == []
    assert [e["kind"] for e in body["events"]][-2:] == ["confirmed", "award_released"]
    # Replayed: refused with a reason, nothing posted twice.
    assert_error(resident.post(f"{BASE}/orders/{code}/confirm", {"rating": 1}), 409, "already_rated")
    assert Entry.objects.filter(key=f"order:{order.pk}:person:{world.a_member.pk}").count() == 1
    assert Order.objects.get(pk=order.pk).rating == 5


def test_confirming_on_the_deliverers_phone_by_card_or_code(world):
    order = delivered_order(world)
    member = app_for(world.a_member)
    assert_error(member.post(f"{BASE}/orders/{order.code}/confirm", {"rating": 5}), 403, "not_resident")
    assert_error(
        member.post(f"{BASE}/orders/{order.code}/confirm", {"rating": 5, "card": "forged"}),
        400,
        "invalid_card",
    )
    assert_error(
        member.post(f"{BASE}/orders/{order.code}/confirm", {"rating": 5, "sms_code": "000000x"}),
        400,
        "wrong_code",
    )
    card = services.card_token(services.beneficiary_for(world.r1))
    response = member.post(f"{BASE}/orders/{order.code}/confirm", {"rating": 4, "card": card})
    assert response.status_code == 200, response.content
    assert response.json()["confirmed_via"] == "card"
    assert_error(
        member.post(f"{BASE}/orders/{order.code}/confirm", {"rating": 4, "card": card}), 409, "already_rated"
    )


def test_rating_before_delivery_and_accepting_someone_elses_order_are_409(world):
    order = order_for(world, world.r1)
    services.do_dispatch_order(actor=world.staff_c1, order_id=order.pk, organisation_id=world.org_a.pk)
    assert_error(
        app_for(world.r1).post(f"{BASE}/orders/{order.code}/confirm", {"rating": 5}), 409, "not_delivered"
    )
    assert_error(app_for(world.b_admin).post(f"{BASE}/orders/{order.code}/accept"), 409, "taken_by_another")
    assert_error(app_for(world.b_admin).post(f"{BASE}/orders/{order.code}/claim"), 409, "taken_by_another")
    assert_error(app_for(world.a_member).post(f"{BASE}/orders/{order.code}/accept"), 403, "not_org_admin")
    assert Order.objects.get(pk=order.pk).status == Order.Status.DISPATCHED


def test_claiming_from_the_pool_and_declining(world):
    waiting = order_for(world, world.r1)
    other = order_for(world, world.r4)  # grid g2: org B's area, not org A's
    a_pool = app_for(world.a_admin).get(f"{BASE}/orders/pool").json()
    assert [item["code"] for item in a_pool["items"]] == [waiting.code]
    assert a_pool["items"][0]["resident_name"] == world.r1.masked_name != world.r1.name
    assert sorted(_codes(app_for(world.b_admin).get(f"{BASE}/orders/pool"))) == sorted(
        [waiting.code, other.code]
    )
    assert _codes(app_for(world.c_admin).get(f"{BASE}/orders/pool")) == []
    assert _codes(app_for(world.r1).get(f"{BASE}/orders/pool")) == []

    assert_error(app_for(world.a_admin).post(f"{BASE}/orders/{other.code}/claim"), 403, "out_of_scope")
    assert_error(app_for(world.r1).post(f"{BASE}/orders/{waiting.code}/claim"), 403, "not_org_admin")
    claimed = app_for(world.a_admin).post(f"{BASE}/orders/{waiting.code}/claim")
    assert claimed.status_code == 200 and claimed.json()["organisation"]["id"] == world.org_a.pk

    services.do_dispatch_order(actor=world.staff_s1, order_id=other.pk, organisation_id=world.org_b.pk)
    declined = app_for(world.b_admin).post(f"{BASE}/orders/{other.code}/decline", {"reason": "本周人手不足"})
    assert declined.status_code == 200, declined.content
    assert declined.json()["status"] == "ordered" and declined.json()["organisation"] is None
    assert declined.json()["resident_name"] == world.r4.masked_name
    # The order left org B's view, and its pool: it declined it.
    assert_error(app_for(world.b_admin).get(f"{BASE}/orders/{other.code}"), 404, "order_not_found")
    assert other.code not in _codes(app_for(world.b_admin).get(f"{BASE}/orders/pool"))
    assert_error(app_for(world.b_admin).post(f"{BASE}/orders/{other.code}/claim"), 409, "wrong_stage")


def test_an_administrator_of_several_organisations_names_the_claiming_one(world):
    from tests.factories import MembershipFactory
    from volunteers.models import Membership

    MembershipFactory(organisation=world.org_b, person=world.a_admin, role=Membership.Role.ADMIN)
    order = order_for(world, world.r1)
    error = assert_error(app_for(world.a_admin).post(f"{BASE}/orders/{order.code}/claim"), 422, "invalid")
    assert "organisation" in error["fields"]
    response = app_for(world.a_admin).post(
        f"{BASE}/orders/{order.code}/claim", {"organisation": world.org_b.pk}
    )
    assert response.json()["organisation"]["id"] == world.org_b.pk


def test_cancelling_through_the_api_frees_the_place(world):
    session = session_of(world.lunch, capacity=1)
    order = order_for(world, world.r1, service=world.lunch, session=session)
    assert_error(app_for(world.r2).post(f"{BASE}/orders/{order.code}/cancel", {}), 403, "out_of_scope")
    response = app_for(world.r1).post(f"{BASE}/orders/{order.code}/cancel", {"reason": "有事"})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert Session.objects.get(pk=session.pk).booked == 0
    accepted = order_for(world, world.r2, service=world.lunch, session=session)
    services.do_accept_order(actor=world.a_admin, order_id=accepted.pk)
    assert_error(app_for(world.r2).post(f"{BASE}/orders/{accepted.code}/cancel"), 409, "wrong_stage")


def test_staff_review_held_points_through_the_api(world):
    order = delivered_order(world)
    services.do_confirm_order(actor=world.r1, order_id=order.pk, rating=1)
    url = f"{BASE}/orders/{order.code}/award"
    assert "review_award" in app_for(world.staff_c1).get(f"{BASE}/orders/{order.code}").json()["actions"]
    assert_error(app_for(world.staff_c1).post(url, {"release": False}), 400, "reason_required")
    assert_error(app_for(world.a_admin).post(url, {"release": True}), 403, "out_of_scope")
    response = app_for(world.staff_c1).post(url, {"release": True})
    assert response.status_code == 200 and response.json()["award"] == "released"
    assert_error(app_for(world.staff_c1).post(url, {"release": True}), 409, "wrong_stage")
    assert Entry.objects.filter(key__startswith=f"order:{order.pk}:").count() == 1


# --- my orders ---------------------------------------------------------------------------------------------
def test_my_orders_are_paginated_newest_first_and_filtered(world):
    sessions = [session_of(world.lunch, starts_in=dt.timedelta(days=n + 1)) for n in range(5)]
    codes = [order_for(world, world.r1, service=world.lunch, session=s).code for s in sessions]
    services.do_place_order(actor=world.gw, service_id=world.centre_service.pk, resident=world.r1)
    order_for(world, world.r2)
    app = app_for(world.r1)
    first = app.get(f"{BASE}/orders/mine", {"page_size": 4}).json()
    assert first["count"] == 6 and len(first["items"]) == 4
    second = app.get(f"{BASE}/orders/mine", {"page_size": 4, "page": 2}).json()
    listed = [item["code"] for item in first["items"] + second["items"]]
    assert listed[1:] == codes[::-1]  # the grid worker's order for them is the newest
    assert _codes(app.get(f"{BASE}/orders/mine", {"status": "ordered"})) == listed[:1]
    assert_error(AppClient().get(f"{BASE}/orders/mine"), 401, "not_authenticated")


def test_order_lists_query_count_does_not_grow_with_rows(world):
    app = app_for(world.staff_s1)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = app.get(f"{BASE}/orders")
        assert response.status_code == 200
        return len(queries), response.json()["count"]

    order_for(world, world.r1)
    few, rows = count_queries()
    for resident in (world.r2, world.r4, world.gw, UserFactory(home_grid=world.g2)):
        order_for(world, resident)
    session = SessionFactory(service=world.lunch, starts_at=timezone.now() + dt.timedelta(days=2))
    order_for(world, world.r1, service=world.lunch, session=session)
    many, more = count_queries()
    assert more == rows + 5 and many == few
