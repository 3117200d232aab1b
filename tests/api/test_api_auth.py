"""Who may call what: the phone app signs in by mobile number + SMS code through allauth's headless
API and sends X-Session-Token; same-site JavaScript uses the session cookie with CSRF."""

import re

import pytest
from django.test import Client

from tests.api.support import AppClient, assert_error, session_token_for
from tests.factories import GridFactory, UserFactory

AUTH = "/api/v1/auth/app/v1/auth"
PROTECTED = [
    ("get", "/api/v1/me"),
    ("patch", "/api/v1/me"),
    ("post", "/api/v1/me/identities"),
    ("get", "/api/v1/inbox"),
    ("post", "/api/v1/inbox/read"),
    ("get", "/api/v1/inbox/unread-count"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_signing_in_is_required(anonymous_app, method, path):
    response = getattr(anonymous_app, method)(path, {}) if method != "get" else anonymous_app.get(path)
    assert_error(response, 401, "not_authenticated")


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_an_unknown_token_is_refused(method, path):
    app = AppClient("not-a-session-token")
    response = getattr(app, method)(path, {}) if method != "get" else app.get(path)
    assert_error(response, 401, "not_authenticated")


@pytest.mark.django_db
def test_a_deactivated_person_is_signed_out(person, app):
    person.is_active = False
    person.save(update_fields=["is_active"])
    assert_error(app.get("/api/v1/me"), 401, "not_authenticated")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/places", "/api/v1/organisations"])
def test_public_reads_need_no_sign_in(anonymous_app, path):
    assert anonymous_app.get(path).status_code == 200


def _code_from(sms_outbox, phone) -> str:
    message = sms_outbox[-1]
    assert message.phone == phone
    return re.search(r"(?<!\d)(\d{6})(?!\d)", message.text).group(1)


@pytest.mark.django_db
def test_phone_and_sms_code_login_gives_a_token_for_the_api(sms_outbox):
    person = UserFactory(phone="+8613912345678", name="王五")
    app = AppClient()

    # People type their number as they know it; the adapter normalises it to +86….
    response = app.post(f"{AUTH}/code/request", {"phone": "139 1234 5678"})
    assert response.status_code == 401  # allauth: "not signed in yet, a code is pending"
    pending = response.json()
    assert any(flow["id"] == "login_by_code" and flow.get("is_pending") for flow in pending["data"]["flows"])
    code = _code_from(sms_outbox, person.phone)

    app.headers["X-Session-Token"] = pending["meta"]["session_token"]
    response = app.post(f"{AUTH}/code/confirm", {"code": code})
    assert response.status_code == 200, response.content
    assert response.json()["meta"]["is_authenticated"] is True
    token = response.json()["meta"]["session_token"]

    me = AppClient(token).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["phone"] == "+8613912345678"
    assert me.json()["name"] == "王五"

    # Signing out ends the token.
    assert (
        AppClient(token).client.delete(f"{AUTH}/session", headers={"X-Session-Token": token}).status_code
        == 401
    )
    assert_error(AppClient(token).get("/api/v1/me"), 401, "not_authenticated")


@pytest.mark.django_db
def test_a_wrong_sms_code_gives_no_token(sms_outbox):
    person = UserFactory(phone="+8613912345678")
    app = AppClient()
    response = app.post(f"{AUTH}/code/request", {"phone": "13912345678"})
    app.headers["X-Session-Token"] = response.json()["meta"]["session_token"]
    code = _code_from(sms_outbox, person.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = app.post(f"{AUTH}/code/confirm", {"code": wrong})
    assert response.status_code == 400
    assert [e["code"] for e in response.json()["errors"]] == ["incorrect_code"]
    assert_error(app.get("/api/v1/me"), 401, "not_authenticated")


@pytest.mark.django_db
def test_sms_codes_are_rate_limited_per_number(sms_outbox):
    UserFactory(phone="+8613912345678")
    assert AppClient().post(f"{AUTH}/code/request", {"phone": "13912345678"}).status_code == 401
    # A second code for the same number within the minute is refused (an SMS costs money).
    again = AppClient().post(f"{AUTH}/code/request", {"phone": "13912345678"})
    assert again.status_code == 400
    assert [e["code"] for e in again.json()["errors"]] == ["too_many_login_attempts"]
    assert len(sms_outbox) == 1


@pytest.mark.django_db
def test_browser_session_works_and_needs_csrf_for_changes(person):
    grid = GridFactory()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)
    assert browser.get("/api/v1/me").json()["phone"] == person.phone

    body = {"kind": "party_member", "grid": grid.pk}
    refused = browser.post("/api/v1/me/identities", body, content_type="application/json")
    assert_error(refused, 403, "csrf_failed")

    browser.get("/inbox/")  # a page with a form sets the CSRF cookie, as same-site JS would find it
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/v1/me/identities", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201, accepted.content


@pytest.mark.django_db
def test_the_token_wins_over_a_session_cookie_and_needs_no_csrf(person):
    other = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(other)
    token = session_token_for(person)
    response = client.post(
        "/api/v1/inbox/read", {}, content_type="application/json", headers={"X-Session-Token": token}
    )
    assert response.status_code == 200
    assert client.get("/api/v1/me", headers={"X-Session-Token": token}).json()["id"] == person.pk
