"""The points page (/points/) and the public leaderboard pages."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from points.leaderboards.models import OptOut
from points.models import Account, Entry

from .conftest import post
from .conftest import reverse as reverse_entry

pytestmark = pytest.mark.django_db


def test_the_points_page_needs_sign_in(client):
    response = client.get("/points/")
    assert response.status_code == 302
    assert "/login" in response["Location"] or "/accounts/" in response["Location"]


def test_the_points_tab_links_to_the_points_page(client, places, person_in):
    assert reverse("points:mine") == "/points/"
    client.force_login(person_in(places["a1x"]))
    html = client.get("/points/").content.decode()
    assert 'href="/points/"' in html


def test_the_points_page_shows_balance_hours_history_and_rank(client, places, person_in):
    person = person_in(places["a1x"])
    rival = person_in(places["a1x"])
    post(rival, 50)
    award = post(person, 30)
    post(person, 12, kind=Entry.Kind.INCIDENT_REWARD)
    post(person, -5, kind=Entry.Kind.REDEMPTION)
    reverse_entry(award)
    post(person, 150, unit=Account.Unit.MINUTES)
    client.force_login(person)

    response = client.get("/points/")

    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["money"].points == 7
    assert response.context["money"].hours == 2.5
    history = [(e.kind, e.amount) for e in response.context["page"].object_list]
    assert history == [("reversal", -30), ("redemption", -5), ("incident", 12), ("attendance", 30)]
    assert "+12" in html and "-5" in html and "-30" in html
    assert "Per-incident reward" in html or "一事一奖" in html
    ranks = [(r["rank"].level, r["rank"].rank, r["rank"].of) for r in response.context["ranks"]]
    assert ranks == [("grid", 2, 2), ("community", 2, 2)]
    assert 'href="/rewards/' in html
    assert reverse("leaderboards:index") in html


def test_the_history_is_paginated_newest_first(client, places, person_in):
    person = person_in(places["a1x"])
    for amount in range(1, 26):
        post(person, amount)
    client.force_login(person)

    first = client.get("/points/").context["page"]
    second = client.get("/points/?page=2").context["page"]
    junk = client.get("/points/?page=abc")

    assert [e.amount for e in first.object_list][:3] == [25, 24, 23]
    assert len(first.object_list) == 20
    assert [e.amount for e in second.object_list] == [5, 4, 3, 2, 1]
    assert junk.status_code == 200


def _page_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_the_points_page_costs_the_same_queries_at_any_history_length(client, places, person_in):
    person = person_in(places["a1x"])

    def grow(size):
        for n in range(size):
            post(person, n + 1)
            post(person_in(places["a1y"]), n + 2)

    client.force_login(person)
    grow(3)
    client.get("/points/")  # warm-up: content types, translations
    small = _page_queries(client, "/points/")
    grow(60)
    large = _page_queries(client, "/points/?page=2")

    assert len(small) == len(large)
    assert len(large) <= 14, large


def test_a_person_can_hide_and_show_themself(client, places, person_in):
    person = person_in(places["a1x"])
    client.force_login(person)

    response = client.post(reverse("leaderboards:visibility"), {"hidden": "1"})
    assert response.status_code == 302
    assert OptOut.objects.get(person=person).opted_out
    assert "Show me" in client.get("/points/").content.decode() or client.get("/points/").context["hidden"]

    client.post(reverse("leaderboards:visibility"), {"hidden": "0"})
    assert not OptOut.objects.get(person=person).opted_out


def test_visibility_refuses_bad_input_and_anonymous_people(client, places, person_in):
    assert client.post(reverse("leaderboards:visibility"), {"hidden": "1"}).status_code == 302
    assert not OptOut.objects.exists()
    client.force_login(person_in(places["a1x"]))
    assert client.post(reverse("leaderboards:visibility"), {"hidden": "maybe"}).status_code == 400
    assert client.get(reverse("leaderboards:visibility")).status_code == 405
    assert not OptOut.objects.exists()


def board_url(level, place, **query):
    url = reverse("leaderboards:board", args=[level, place.code])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_public_boards_need_no_sign_in_and_show_masked_names_only(client, places, person_in):
    person = person_in(places["a1x"], name="欧阳娜娜", phone="+8613912345678")
    post(person, 40)
    for level, place in (("grid", "a1x"), ("community", "a1"), ("street", "street_a")):
        response = client.get(board_url(level, places[place]))
        assert response.status_code == 200, level
        html = response.content.decode()
        assert "欧**娜" in html
        assert "欧阳娜娜" not in html and "13912345678" not in html and "5678" not in html
        assert f"/{person.pk}/" not in html
    response = client.get(board_url("district", places["street_a"].district, period="all"))
    assert response.status_code == 200 and "欧**娜" in response.content.decode()


def test_the_board_page_states_its_ranking_rule(client, places):
    html = client.get(board_url("grid", places["a1x"])).content.decode()
    assert "（1、1、3）" in html
    assert "Redeeming rewards does not lower" in html or "兑换" in html


def test_an_opted_out_person_is_not_on_the_public_page(client, places, person_in):
    shown, hidden = person_in(places["a1x"], name="张三丰"), person_in(places["a1x"], name="李四光")
    post(shown, 10)
    post(hidden, 20)
    OptOut.objects.create(person=hidden, opted_out=True)
    html = client.get(board_url("grid", places["a1x"])).content.decode()
    assert "张*丰" in html and "李*光" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/points/leaderboards/planet/x/",
        "/points/leaderboards/grid/no-such-grid/",
        "/points/leaderboards/grid/{grid}/?period=week",
        "/points/leaderboards/grid/{grid}/?period=month&when=2026-13",
        "/points/leaderboards/grid/{grid}/?period=year&when=9999",
    ],
)
def test_bad_board_addresses_get_a_4xx_page(client, places, url):
    response = client.get(url.format(grid=places["a1x"].code))
    assert 400 <= response.status_code < 500


def test_a_board_page_costs_the_same_queries_at_any_size(client, places, person_in):
    client.force_login(person_in(places["a1x"]))
    url = board_url("community", places["a1"], period="all")

    def grow(size):
        for n in range(size):
            post(person_in(places["a1x"] if n % 2 else places["a1y"]), n + 1)

    grow(2)
    client.get(url)
    small = _page_queries(client, url)
    grow(60)
    large = _page_queries(client, url)

    assert len(small) == len(large)
    assert len(large) <= 8, large


def test_the_index_lists_streets_and_my_places(client, places, person_in):
    person = person_in(places["a2x"])
    client.force_login(person)
    html = client.get(reverse("leaderboards:index")).content.decode()
    assert places["street_a"].name in html and places["street_b"].name in html
    assert board_url("grid", places["a2x"]) in html and board_url("community", places["a2"]) in html
