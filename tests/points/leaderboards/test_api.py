"""/api/v1/points: balance, history, leaderboards and the opt-out."""

import json

import pytest

from points.leaderboards.models import OptOut
from points.models import Account, Entry

from .conftest import post, reverse

pytestmark = pytest.mark.django_db


def test_balance_needs_sign_in(client):
    response = client.get("/api/v1/points/balance")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_balance_gives_points_hours_and_this_months_ranks(client, places, person_in):
    person, rival = person_in(places["a1x"]), person_in(places["a1y"])
    post(person, 40)
    post(person, -15, kind=Entry.Kind.REDEMPTION)
    post(person, 90, unit=Account.Unit.MINUTES)
    post(rival, 60)
    client.force_login(person)

    body = client.get("/api/v1/points/balance").json()

    assert (body["points"], body["minutes"], body["hours"]) == (25, 90, 1.5)
    assert [(r["level"], r["rank"], r["of"], r["points"]) for r in body["ranks"]] == [
        ("grid", 1, 1, 40),
        ("community", 2, 2, 40),
    ]
    assert body["hidden_from_boards"] is False


def test_history_is_paginated_newest_first_with_reversals_marked(client, places, person_in):
    person = person_in(places["a1x"])
    first = post(person, 5)
    for amount in range(6, 30):
        post(person, amount)
    reverse(first)
    client.force_login(person)

    page1 = client.get("/api/v1/points/history").json()
    page2 = client.get("/api/v1/points/history?page=2").json()

    assert page1["count"] == 26
    assert [i["amount"] for i in page1["items"][:3]] == [-5, 29, 28]
    assert page1["items"][0]["kind"] == "reversal"
    assert [i["reversed"] for i in page2["items"]][-1] is True
    assert client.get("/api/v1/points/history?page=0").status_code == 422


def test_history_is_only_ever_ones_own(client, places, person_in):
    mine, theirs = person_in(places["a1x"]), person_in(places["a1x"])
    post(theirs, 50)
    client.force_login(mine)
    assert client.get("/api/v1/points/history").json()["count"] == 0


def test_a_public_board_over_the_api_is_masked_and_ranked(client, places, person_in):
    for name, amount in (("张三丰", 30), ("李四光", 30), ("王五", 10)):
        post(person_in(places["a1x"], name=name), amount)

    response = client.get(f"/api/v1/points/leaderboards/community/{places['a1'].code}?period=all")

    assert response.status_code == 200
    body = response.json()
    assert [(r["rank"], r["name"], r["points"]) for r in body["rows"]] == [
        (1, "张*丰", 30),
        (1, "李*光", 30),
        (3, "王*", 10),
    ]
    assert "1、1、3" in body["rules"]
    assert "张三丰" not in response.content.decode()


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/v1/points/leaderboards/planet/x", 404, "invalid_level"),
        ("/api/v1/points/leaderboards/grid/nowhere", 404, "place_not_found"),
        ("/api/v1/points/leaderboards/grid/{grid}?period=week", 400, "invalid_period"),
        ("/api/v1/points/leaderboards/grid/{grid}?period=month&when=2026-1", 400, "invalid_period"),
    ],
)
def test_bad_board_requests_get_a_clear_4xx(client, places, url, status, code):
    response = client.get(url.format(grid=places["a1x"].code))
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_opt_out_over_the_api(client, places, person_in):
    person = person_in(places["a1x"], name="赵六六")
    post(person, 10)
    client.force_login(person)
    board = f"/api/v1/points/leaderboards/grid/{places['a1x'].code}"
    assert client.get(board).json()["rows"][0]["is_me"] is True

    response = client.put(
        "/api/v1/points/leaderboard-visibility", json.dumps({"hidden": True}), content_type="application/json"
    )

    assert response.status_code == 200 and response.json() == {"hidden": True}
    assert client.get("/api/v1/points/leaderboard-visibility").json() == {"hidden": True}
    assert client.get(board).json()["rows"] == []
    assert client.get("/api/v1/points/balance").json()["points"] == 10


@pytest.mark.parametrize("body", [{"hidden": "yes"}, {"hidden": 1}, {}, {"hidden": True, "person": 1}])
def test_opt_out_refuses_bad_input(client, places, person_in, body):
    client.force_login(person_in(places["a1x"]))
    response = client.put(
        "/api/v1/points/leaderboard-visibility", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 422
    assert not OptOut.objects.exists()


def test_opt_out_needs_sign_in(client):
    response = client.put(
        "/api/v1/points/leaderboard-visibility", json.dumps({"hidden": True}), content_type="application/json"
    )
    assert response.status_code == 401
