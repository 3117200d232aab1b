"""/api/v1/rewards: items, redeem (Idempotency-Key header or body key), my redemptions, cancel, merchant
hand-over and statement; every refusal a 4xx with its stable code and the ledger unchanged."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from points.models import Entry
from points.redemption import qr, services
from points.redemption.models import Redemption, RewardItem
from tests.api.support import AppClient, assert_error, session_token_for
from tests.factories import UserFactory
from tests.points.redemption.support import (
    MerchantFactory,
    RewardItemFactory,
    balance,
    give_points,
    merchant_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    person = UserFactory(name="王小明", notify_sms=False)
    give_points(person, 250)
    return person


@pytest.fixture
def app(person):
    return AppClient(session_token_for(person))


@pytest.fixture
def item():
    return RewardItemFactory(name="洗衣液", price=100, stock=3)


def redeem_path(item):
    return f"/api/v1/rewards/items/{item.public_code}/redeem"


def entries() -> int:
    return Entry.objects.count()


def test_items_are_public_and_paginated(item):
    RewardItemFactory(active=False)
    response = AppClient().get("/api/v1/rewards/items")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["items"][0] == {
        "code": item.public_code,
        "name": "洗衣液",
        "description": item.description,
        "price": 100,
        "stock": 3,
        "per_person_limit": None,
        "merchant": {
            "code": item.merchant.public_code,
            "name": item.merchant.name,
            "kind": "centre",
            "address": item.merchant.address,
            "opening_hours": "",
        },
    }


def test_items_query_count_does_not_grow():
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert AppClient().get("/api/v1/rewards/items").status_code == 200
        return len(ctx.captured_queries)

    RewardItemFactory.create_batch(2)
    few = count()
    RewardItemFactory.create_batch(15)
    assert count() == few


def test_redeem_with_the_header_then_replay_returns_the_same(app, person, item):
    headers = {"Idempotency-Key": "api-key-000001"}
    first = app.post(redeem_path(item), headers=headers)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["created"] is True and body["balance"] == 150
    r = body["redemption"]
    assert r["status"] == "reserved" and r["points"] == 100 and r["item"] == "洗衣液"
    assert len(r["short_code"]) == 8 and "/rewards/r/" in r["qr_url"]
    again = app.post(redeem_path(item), headers=headers)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["redemption"]["code"] == r["code"]
    assert Entry.objects.filter(kind=Entry.Kind.REDEMPTION).count() == 1


def test_the_ledger_reason_is_in_the_site_language_whatever_the_request_asked_for(person, item):
    english = AppClient(session_token_for(person), language="en")
    response = english.post(redeem_path(item), {"key": "api-english-key-1"})
    assert response.status_code == 201, response.content
    entry = Entry.objects.get(kind=Entry.Kind.REDEMPTION)
    assert entry.reason == "已兑换：洗衣液"
    code = response.json()["redemption"]["code"]
    assert english.post(f"/api/v1/rewards/mine/{code}/cancel").status_code == 200
    assert Entry.objects.get(kind=Entry.Kind.REFUND).reason == "兑换已取消：洗衣液"


def test_redeem_with_the_body_key(app, item):
    response = app.post(redeem_path(item), {"key": "api-body-key-01"})
    assert response.status_code == 201
    assert app.post(redeem_path(item), {"key": "api-body-key-01"}).status_code == 200


def test_the_same_key_for_another_item_is_409(app, item):
    app.post(redeem_path(item), {"key": "api-key-reuse-1"})
    before = entries()
    other = RewardItemFactory(price=1)
    assert_error(app.post(redeem_path(other), {"key": "api-key-reuse-1"}), 409, "idempotency_key_reused")
    assert entries() == before


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (None, None, 422, "invalid_key"),
        ({"key": "short"}, None, 422, "invalid_key"),
        ({"key": "abcdefgh1"}, {"Idempotency-Key": "abcdefgh2"}, 422, "invalid_key"),
        ({"key": 12345678}, None, 422, "invalid"),
        ({"nope": 1}, None, 422, "invalid"),
    ],
)
def test_bad_keys_are_refused(app, item, body, headers, status, code):
    before = entries()
    assert_error(app.post(redeem_path(item), body, headers=headers), status, code)
    assert entries() == before


def test_redeem_refusals_carry_their_codes(app, person):
    cases = [
        (RewardItemFactory(stock=0), "out_of_stock", 409),
        (RewardItemFactory(active=False), "item_inactive", 409),
        (RewardItemFactory(price=1000), "insufficient_points", 409),
    ]
    before = entries()
    for n, (item, code, status) in enumerate(cases):
        assert_error(app.post(redeem_path(item), {"key": f"refusal-key-{n}"}), status, code)
    assert_error(
        app.post("/api/v1/rewards/items/nope/redeem", {"key": "refusal-key-x"}), 404, "item_not_found"
    )
    assert entries() == before and balance(person) == 250


def test_redeem_needs_sign_in(item):
    assert_error(AppClient().post(redeem_path(item), {"key": "anon-key-0001"}), 401, "not_authenticated")


def test_my_redemptions_and_cancel(app, person, item):
    created = app.post(redeem_path(item), {"key": "mine-api-key-1"}).json()["redemption"]
    listed = app.get("/api/v1/rewards/mine").json()
    assert listed["count"] == 1 and listed["items"][0]["code"] == created["code"]
    response = app.post(f"/api/v1/rewards/mine/{created['code']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert response.json()["short_code"] is None and response.json()["qr_url"] is None
    assert balance(person) == 250 and RewardItem.objects.get(pk=item.pk).stock == 3
    assert_error(app.post(f"/api/v1/rewards/mine/{created['code']}/cancel"), 409, "not_cancellable")
    stranger = AppClient(session_token_for(UserFactory(notify_sms=False)))
    assert_error(stranger.post(f"/api/v1/rewards/mine/{created['code']}/cancel"), 404, "redemption_not_found")


# --- hand-over -----------------------------------------------------------------------------------------
@pytest.fixture
def reserved(person, item):
    return services.do_redeem(item_code=item.public_code, actor=person, key="api-hand-0001").redemption


def handover_path(merchant):
    return f"/api/v1/rewards/merchants/{merchant.public_code}/handover"


def test_hand_over_with_the_qr_url(reserved, item):
    staff = AppClient(session_token_for(merchant_staff(item.merchant)))
    url = "http://testserver" + qr.path_for(reserved.token_code)
    response = staff.post(handover_path(item.merchant), {"code": url})
    assert response.status_code == 200, response.content
    assert response.json()["item"] == "洗衣液" and response.json()["person"] == "王*明"
    assert_error(staff.post(handover_path(item.merchant), {"code": url}), 409, "already_handed_over")


def test_hand_over_refusals(reserved, item, person):
    staff = AppClient(session_token_for(merchant_staff(item.merchant)))
    assert_error(staff.post(handover_path(item.merchant), {"code": "forged:abc:def"}), 400, "invalid_code")
    assert_error(staff.post(handover_path(item.merchant), {"code": 5}), 422, "invalid")
    other = MerchantFactory()
    other_staff = AppClient(session_token_for(merchant_staff(other)))
    assert_error(other_staff.post(handover_path(other), {"code": reserved.short_code}), 409, "other_merchant")
    assert_error(
        other_staff.post(handover_path(item.merchant), {"code": reserved.short_code}),
        403,
        "not_merchant_staff",
    )
    assert_error(
        AppClient(session_token_for(person)).post(handover_path(item.merchant), {"code": "x"}),
        403,
        "not_merchant_staff",
    )
    assert_error(
        staff.post("/api/v1/rewards/merchants/nope/handover", {"code": "x"}), 404, "merchant_not_found"
    )
    Redemption.objects.filter(pk=reserved.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert_error(staff.post(handover_path(item.merchant), {"code": reserved.short_code}), 409, "code_expired")
    assert balance(person) == 250


def test_statement_over_the_api(reserved, item):
    staff_person = merchant_staff(item.merchant)
    services.do_hand_over(
        merchant_code=item.merchant.public_code, code=reserved.short_code, actor=staff_person
    )
    staff = AppClient(session_token_for(staff_person))
    path = f"/api/v1/rewards/merchants/{item.merchant.public_code}/statement"
    body = staff.get(path).json()
    assert (
        body["count"] == 1
        and body["points"] == 100
        and body["lines"] == [{"name": "洗衣液", "count": 1, "points": 100}]
    )
    assert_error(staff.get(path, {"month": "2020-00"}), 422, "invalid_month")
    outsider = AppClient(session_token_for(UserFactory(notify_sms=False)))
    assert_error(outsider.get(path), 403, "forbidden")
