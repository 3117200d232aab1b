"""The notification settings page (/me/notifications/) and its API (/api/v1/me/notifications/preferences)."""

import re
from datetime import time

import pytest
from django.urls import reverse

from core import notifications
from core.models import CategoryPreference, NotificationSettings
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("core:notification_settings")
API = "/api/v1/me/notifications/preferences"


@pytest.fixture
def person(client):
    person = UserFactory(email="")
    client.force_login(person)
    return person


def _checked(page, name) -> bool:
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert tag, name
    return " checked" in tag.group(0)


def _form(**changes):
    data = {"notify_sms": "on", "quiet_hours": "on", "quiet_start": "22:00", "quiet_end": "07:00"}
    for code in notifications.CATEGORIES:
        data[f"{code}-sms"] = "on"
        data[f"{code}-email"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_page_needs_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_lists_every_category_with_the_defaults(client, person):
    response = client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    for code in notifications.CATEGORIES:
        assert _checked(page, f"{code}-sms") and _checked(page, f"{code}-email")
        assert not _checked(page, f"{code}-digest")


def test_saving_stores_choices_per_category_and_quiet_hours(client, person):
    response = client.post(
        URL, _form(**{"task-email": None, "points-sms": None, "points-digest": "on", "quiet_start": "21:30"})
    )
    assert response.status_code == 302
    choices = notifications.choices_of(person)
    assert choices["task"] == notifications.Choice(sms=True, email=False, digest=False)
    assert choices["points"] == notifications.Choice(sms=False, email=True, digest=True)
    row = NotificationSettings.objects.get(person=person)
    assert (row.quiet_hours, row.quiet_start, row.quiet_end) == (True, time(21, 30), time(7))
    # The page shows what was saved.
    page = client.get(URL).content.decode()
    assert _checked(page, "points-digest") and not _checked(page, "task-email")


def test_switching_quiet_hours_off_keeps_a_valid_window(client, person):
    assert client.post(URL, _form(quiet_hours=None, quiet_start="", quiet_end="")).status_code == 302
    row = NotificationSettings.objects.get(person=person)
    assert row.quiet_hours is False and row.quiet_start != row.quiet_end
    assert notifications.quiet_hours_of(person) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"quiet_start": "08:00", "quiet_end": "08:00"},  # an empty window
        {"quiet_start": "25:00"},
        {"quiet_end": ""},
        {"notify_email": "on"},  # email without an address
    ],
)
def test_bad_input_is_a_400_and_saves_nothing(client, person, changes):
    response = client.post(URL, _form(**{"task-sms": None, **changes}))
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not CategoryPreference.objects.exists()
    assert not NotificationSettings.objects.exists()


def test_the_profile_page_links_to_the_settings(client, person):
    page = client.get(reverse("volunteers:profile")).content.decode()
    assert URL in page


def test_api_reads_and_replaces_preferences(client, person):
    body = client.get(API).json()
    assert body["sms"] is True and body["email"] is False
    assert [c["code"] for c in body["categories"]] == list(notifications.CATEGORIES)
    assert body["quiet_hours"]["timezone"] == "Asia/Shanghai"

    payload = {
        "sms": True,
        "email": False,
        "categories": [{"code": "task", "sms": False, "email": False, "digest": True}],
        "quiet_hours": {"enabled": True, "start": "23:00", "end": "06:30"},
    }
    response = client.put(API, payload, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    task = next(c for c in body["categories"] if c["code"] == "task")
    points = next(c for c in body["categories"] if c["code"] == "points")
    assert (task["sms"], task["digest"]) == (False, True)
    assert (points["sms"], points["digest"]) == (True, False)  # not listed: unchanged
    assert body["quiet_hours"] == {
        "enabled": True,
        "start": "23:00",
        "end": "06:30",
        "timezone": "Asia/Shanghai",
    }
    assert notifications.quiet_hours_of(person) == notifications.QuietHours(time(23), time(6, 30))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"categories": [{"code": "nonsense", "sms": True, "email": True, "digest": False}]}, "categories"),
        ({"quiet_hours": {"enabled": True, "start": "7:00", "end": "08:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"enabled": True, "start": "08:00", "end": "08:00"}}, "quiet_hours.end"),
        ({"email": True}, "email"),
        ({"sms": "yes"}, "sms"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_api_refuses_bad_input_with_field_errors(client, person, change, field):
    payload = {
        "sms": True,
        "email": False,
        "categories": [],
        "quiet_hours": {"enabled": True, "start": "22:00", "end": "07:00"},
        **change,
    }
    response = client.put(API, payload, content_type="application/json")
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert not NotificationSettings.objects.exists()


def test_api_needs_sign_in(client):
    assert client.get(API).status_code == 401
    assert client.put(API, {}, content_type="application/json").status_code == 401
