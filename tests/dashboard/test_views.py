"""The dashboard page in the admin: who may open it, which communities each staff member sees, and what bad
filters get."""

import json
import re

import pytest
from django.urls import reverse

from tests.factories import UserFactory

from . import expected
from .world import with_totp

pytestmark = pytest.mark.django_db

URL = "/admin/statistics/"


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_dashboard_lives_in_the_admin():
    assert reverse("dashboard:index") == URL
    assert reverse("dashboard:export") == URL + "export.xlsx"


def test_district_admin_sees_every_community_of_the_district(as_staff, world):
    response = as_staff("district").get(URL)

    assert response.status_code == 200
    report = response.context["report"]
    assert report.communities == [world.a, world.b, world.c]
    comms = [world.a, world.b, world.c]
    for key, compute in expected.TABLES.items():
        assert report.tables[key].rows == compute(world, comms), key
    text = page_text(response)
    for name in ("星兴社区", "星云社区", "汤泉社区"):
        assert name in text


def test_the_page_draws_its_charts_from_embedded_json_with_the_tables_numbers(as_staff, world):
    response = as_staff("district").get(URL)
    html = response.content.decode()

    charts = json.loads(
        re.search(r'<script id="dashboard-charts" type="application/json">(.*?)</script>', html).group(1)
    )
    by_id = {chart["id"]: chart for chart in charts}
    table = response.context["report"].tables["tasks_by_month"]
    assert by_id["tasks_by_month"]["labels"] == [row[0] for row in table.rows]
    hours = next(d for d in by_id["tasks_by_month"]["datasets"] if d["kind"] == "line")
    assert hours["data"] == [row[6] for row in table.rows]
    for chart_id in by_id:
        assert f'data-chart="{chart_id}"' in html
    # The charting library is served by the site itself, from the npm package.
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert "/static/dashboard/dashboard.js" in html
    assert "cdn" not in html.lower()


def test_community_staff_of_a_see_a_only(as_staff, world):
    response = as_staff("community_a").get(URL)

    assert response.status_code == 200
    report = response.context["report"]
    assert report.communities == [world.a]
    for key, compute in expected.TABLES.items():
        assert report.tables[key].rows == compute(world, [world.a]), key
    text = page_text(response)
    assert "星兴社区" in text
    assert "星云社区" not in text and "汤泉社区" not in text
    # B's figures differ from A's: A's page does not show B's new registrations in March.
    march = report.tables["people_by_month"].rows[-1]
    assert march[1] == 1


def test_community_staff_of_a_cannot_ask_for_b(as_staff, world):
    client = as_staff("community_a")

    response = client.get(URL, {"community": world.b.code}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.context["report"] is None
    assert "Choose one of the communities of your area." in page_text(response)
    assert client.get(reverse("dashboard:export"), {"community": world.b.code}).status_code == 400


def test_street_staff_see_their_streets_communities_and_can_narrow_to_one(as_staff, world):
    client = as_staff("street")

    everything = client.get(URL).context["report"]
    only_b = client.get(URL, {"community": world.b.code}).context["report"]

    assert everything.communities == [world.a, world.b]
    assert only_b.communities == [world.b]
    assert only_b.tables["points_by_month"].rows == expected.points_by_month(world, [world.b])
    assert client.get(URL, {"community": world.c.code}).status_code == 400


def test_a_signed_in_person_without_a_staff_post_gets_403(client, world, frozen):
    resident = world.people[1][0]
    client.force_login(resident)

    assert client.get(URL).status_code == 403
    assert client.get(reverse("dashboard:export")).status_code == 403


def test_a_person_flagged_is_staff_without_a_staff_post_gets_403(client, world, frozen):
    # Django's is_staff flag alone (with TOTP, so the MFA check lets them through) is not a staff post.
    person = with_totp(UserFactory(is_staff=True))
    client.force_login(person)

    assert client.get(URL).status_code == 403


def test_an_anonymous_visitor_is_sent_to_sign_in(client, world):
    response = client.get(URL)

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_staff_without_an_authenticator_are_sent_to_set_one_up(client, world, frozen):
    staff = world.staff["community_a"]
    staff.authenticator_set.all().delete()
    client.force_login(staff)

    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


@pytest.mark.parametrize(
    "params, message",
    [
        ({"start": "2026-13"}, "YYYY-MM"),
        ({"start": "March"}, "YYYY-MM"),
        ({"end": "1999-12"}, "YYYY-MM"),
        ({"start": "2026-03", "end": "2026-01"}, "first month"),
        ({"end": "2026-04"}, "current month"),
        ({"start": "2022-01", "end": "2026-03"}, "36"),
        ({"community": "no-such-place"}, "communities of your area"),
    ],
)
def test_bad_filters_get_a_400_with_a_message_and_no_figures(as_staff, world, params, message):
    client = as_staff("district")

    response = client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.context["report"] is None
    assert message in page_text(response)
    export = client.get(reverse("dashboard:export"), params, HTTP_ACCEPT_LANGUAGE="en")
    assert export.status_code == 400
    assert export["Content-Type"].startswith("text/plain")


def test_a_chosen_period_is_shown_month_by_month(as_staff, world):
    response = as_staff("district").get(URL, {"start": "2026-01", "end": "2026-03"})

    assert response.status_code == 200
    assert [row[0] for row in response.context["report"].tables["orders_by_month"].rows] == [
        expected.label(m) for m in expected.MONTHS[-3:]
    ]


def test_the_admin_menu_and_home_page_offer_the_statistics_to_staff(as_staff, world):
    client = as_staff("community_a")

    home = client.get("/admin/")

    assert home.status_code == 200
    html = home.content.decode()
    assert URL in html
    assert 'data-testid="stats-home"' in html
    # This month (March) in A: one registration (pa4), one task held, 1.5 verified hours.
    panel = html[html.index('data-testid="stats-home"') :]
    panel = panel[: panel.index("</ul>")]
    assert [re.sub(r"<[^>]+>", "", strong) for strong in re.findall(r"<strong>(.*?)</strong>", panel)] == [
        "1",
        "1",
        "1.5",
        "27",
        "0",
        "2",
    ]


def test_a_period_without_activity_shows_tables_of_zeros_and_no_blank_charts(as_staff, world):
    response = as_staff("community_a").get(URL, {"start": "2025-04", "end": "2025-06"})

    assert response.status_code == 200
    report = response.context["report"]
    assert all(row[1:] == [0, 0] for row in report.tables["people_by_month"].rows)
    # Only the "now" figures have something to draw; one community gets no per-community charts.
    assert [chart["id"] for chart in response.context["charts"]] == ["identities_by_kind"]
    html = response.content.decode()
    assert 'data-chart="people_by_month"' not in html
    assert 'data-chart="orders_by_category"' not in html
    assert 'data-testid="table-orders_by_category"' in html


def test_the_dashboard_only_answers_get(as_staff, world):
    assert as_staff("district").post(URL).status_code == 405
