"""Bad input gets a 4xx and the JSON error shape with a stable code, never a 500 or an HTML page."""

import json

import pytest
from django.utils import translation

from tests.api.support import AppClient, assert_error, session_token_for
from tests.factories import GridFactory

WRITES = ["/api/v1/me", "/api/v1/me/identities", "/api/v1/inbox/read"]


def _send(app, path, body, content_type="application/json"):
    method = app.patch if path == "/api/v1/me" else app.post
    return method(path, body, content_type=content_type)


@pytest.mark.django_db
@pytest.mark.parametrize("path", WRITES)
@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 400, "invalid_json"),
        (b"\xff\xfe\x00garbage", "application/json", 400, "invalid_json"),
        ('{"name": "x"}', "text/plain", 415, "unsupported_media_type"),
        ("name=x&kind=volunteer", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("[1, 2, 3]", "application/json", 422, "invalid"),
        ('"just a string"', "application/json", 422, "invalid"),
        ("42", "application/json", 422, "invalid"),
    ],
)
def test_malformed_bodies(app, path, body, content_type, status, code):
    assert_error(_send(app, path, body, content_type), status, code)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 5}, "name"),
        ({"name": ["张三"]}, "name"),
        ({"name": ""}, "name"),
        ({"name": "张" * 10_000}, "name"),
        ({"email": "x" * 300 + "@example.org"}, "email"),
        ({"home_grid": "3"}, "home_grid"),  # a string where an id is expected
        ({"home_grid": 1.5}, "home_grid"),
        ({"home_grid": True}, "home_grid"),
        ({"skills": "1,2"}, "skills"),
        ({"skills": ["1"]}, "skills.0"),
        ({"skills": list(range(1, 200))}, "skills"),
        ({"notify_sms": "yes"}, "notify_sms"),
        ({"notify_email": None}, "notify_email"),
        ({"phone": "+8613800000000"}, "phone"),  # not changeable here
        ({"is_staff": True}, "is_staff"),
    ],
)
def test_wrong_types_and_sizes_in_the_profile(app, person, body, field):
    error = assert_error(app.patch("/api/v1/me", body), 422, "invalid")
    assert field in error["fields"], error
    person.refresh_from_db()
    assert (person.name, person.phone, person.is_staff) == ("李四", "+8613912345678", False)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "kind"),
        ({"kind": 3}, "kind"),
        ({"kind": "volunteer", "grid": "1"}, "grid"),
        ({"kind": "volunteer", "detail": "x" * 121}, "detail"),
        ({"kind": "volunteer", "status": "verified"}, "status"),  # nobody verifies their own claim
    ],
)
def test_wrong_types_in_an_identity_claim(app, body, field):
    error = assert_error(app.post("/api/v1/me/identities", body), 422, "invalid")
    assert field in error["fields"], error


@pytest.mark.django_db
def test_a_body_over_the_upload_limit_is_refused(app, settings):
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    assert_error(app.patch("/api/v1/me", body), 413, "too_large")


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{"page": "abc"}, {"page": 0}, {"page": -1}, {"page_size": "x"}])
def test_bad_paging_parameters(app, query):
    assert_error(app.get("/api/v1/inbox", query), 422, "invalid")


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{"id": "1"}, {"id": 1.0}, {"id": [1]}, {"all": True}])
def test_bad_mark_read_bodies(app, body):
    assert_error(app.post("/api/v1/inbox/read", body), 422, "invalid")


@pytest.mark.django_db
def test_an_unknown_path_answers_in_the_api_shape(app):
    assert_error(app.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_error(app.post("/api/v1/me/no/such/thing", {}), 404, "not_found")


@pytest.mark.django_db
def test_messages_follow_the_request_language(person):
    token = session_token_for(person)
    chinese = AppClient(token).post("/api/v1/me/identities", {})  # zh-hans is the default
    english = AppClient(token, language="en").post("/api/v1/me/identities", {})
    assert assert_error(english, 422, "invalid")["fields"]["kind"] == ["This field is required."]
    with translation.override("zh-hans"):
        expected = translation.gettext("This field is required.")
    assert expected != "This field is required."
    assert assert_error(chinese, 422, "invalid")["fields"]["kind"] == [expected]


@pytest.mark.django_db
def test_business_rule_errors_carry_their_code(app):
    # From services: a grid-bound identity without a grid, and an identity that does not exist.
    assert_error(app.post("/api/v1/me/identities", {"kind": "party_member"}), 400, "grid_required")
    assert_error(app.post("/api/v1/me/identities", {"kind": "astronaut"}), 400, "unknown_identity")
    # From the API's own lookup through the scope rule.
    assert_error(
        app.post("/api/v1/me/identities", {"kind": "volunteer", "grid": 987654}), 400, "grid_not_found"
    )
    grid = GridFactory()
    assert app.post("/api/v1/me/identities", {"kind": "party_member", "grid": grid.pk}).status_code == 201
    assert_error(
        app.post("/api/v1/me/identities", {"kind": "party_member", "grid": grid.pk}), 409, "duplicate_claim"
    )


@pytest.mark.django_db
def test_an_unexpected_failure_is_logged_and_still_answers_in_the_api_shape(
    anonymous_app, monkeypatch, caplog
):
    from volunteers import selectors

    def broken():
        raise RuntimeError("database on fire")

    monkeypatch.setattr(selectors, "place_tree", broken)
    assert_error(anonymous_app.get("/api/v1/places"), 500, "server_error")
    assert "database on fire" in caplog.text
