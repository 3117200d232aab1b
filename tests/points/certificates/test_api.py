"""/api/v1/certificates: mine, issue for a period (same period → same certificate), the PDF, and the public
check of a number; every refusal a 4xx in the API's error shape."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from points.certificates import services
from points.certificates.models import Certificate
from tests.api.support import AppClient, assert_error, session_token_for
from tests.points.certificates.support import make_world, pdf_text, plain_certificate, serve

pytestmark = pytest.mark.django_db

BASE = "/api/v1/certificates/"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def world():
    world = make_world()
    serve(world.volunteer, day=dt.date(2026, 3, 1), minutes=150)
    return world


@pytest.fixture
def app(world):
    return AppClient(session_token_for(world.volunteer), language="zh-hans")


def test_my_certificates_need_sign_in():
    assert_error(AppClient().get(BASE), 401, "not_authenticated")
    assert_error(AppClient().post(BASE, {"period": "this_year"}), 401, "not_authenticated")


def test_issue_for_a_period_and_again_gives_the_same_certificate(app):
    first = app.post(BASE, {"start": "2026-01-01", "end": "2026-06-30"})
    again = app.post(BASE, {"period": "custom", "start": "2026-01-01", "end": "2026-06-30"})

    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["created"] is True and again.json()["created"] is False
    body = first.json()["certificate"]
    assert again.json()["certificate"]["number"] == body["number"]
    assert (
        body["name"] == "张三丰" and body["hours"] == "2.5" and body["minutes"] == 150 and body["tasks"] == 1
    )
    assert body["issuer"] == "星甸街道网格化服务管理中心"
    assert (body["period_start"], body["period_end"]) == ("2026-01-01", "2026-06-30")
    assert body["revoked"] is False and body["revoked_at"] is None
    assert body["verify_url"] == f"{settings.SITE_URL}/certificates/verify/{body['number']}/"
    assert body["pdf_url"] == f"{settings.SITE_URL}{BASE}{body['number']}/pdf"
    assert Certificate.objects.count() == 1


def test_named_periods(app):
    response = app.post(BASE, {"period": "this_year"})
    assert response.status_code == 201
    assert response.json()["certificate"]["period_end"] == "2026-07-01"
    assert_error(app.post(BASE, {"period": "last_year"}), 422, "no_verified_hours")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"start": "2026-06-30", "end": "2026-01-01"}, 422, "invalid_period"),
        ({"start": "2026-01-01", "end": "2026-07-02"}, 422, "invalid_period"),
        ({"start": "2026-01-01"}, 422, "invalid_period"),
        ({}, 422, "invalid_period"),
        ({"period": "custom"}, 422, "invalid_period"),
        ({"start": "yesterday", "end": "2026-01-01"}, 422, "invalid"),
        ({"period": "next_year"}, 422, "invalid"),
        ({"period": "this_year", "person": 1}, 422, "invalid"),
        ({"start": "2025-01-01", "end": "2025-12-31"}, 422, "no_verified_hours"),
    ],
)
def test_refusals_are_4xx_in_the_error_shape_and_issue_nothing(app, body, status, code):
    error = assert_error(app.post(BASE, body), status, code)
    if code == "no_verified_hours":
        assert "没有经核验的志愿服务时长" in error["message"]
    assert not Certificate.objects.exists()


def test_a_body_that_is_not_json_is_refused(app):
    assert_error(app.post(BASE, "period=this_year", content_type="text/plain"), 415, "unsupported_media_type")


def test_my_list_shows_mine_only_and_costs_the_same_queries_for_few_or_many(world, app):
    serve(world.other, day=dt.date(2026, 3, 1))
    services.do_issue_certificate(actor=world.other, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = app.get(BASE)
        assert response.status_code == 200
        return len(ctx.captured_queries), response.json()

    plain_certificate(world.volunteer, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31), street=world.s1)
    few, body = count()
    assert body["count"] == 1 and body["items"][0]["name"] == "张三丰"
    for day in range(2, 12):
        plain_certificate(
            world.volunteer, start=dt.date(2026, 1, day), end=dt.date(2026, 1, 31), street=world.s1
        )
    many, body = count()
    assert many == few and body["count"] == 11


def test_the_pdf_of_my_certificate(app):
    number = app.post(BASE, {"period": "this_year"}).json()["certificate"]["number"]

    response = app.get(f"{BASE}{number}/pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert number in pdf_text(response.content) and "张三丰" in pdf_text(response.content)


def test_the_pdf_of_someone_elses_or_an_unknown_or_a_revoked_certificate_is_refused(world, app):
    serve(world.other, day=dt.date(2026, 3, 1))
    theirs = services.do_issue_certificate(
        actor=world.other, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)
    ).certificate
    assert_error(app.get(f"{BASE}{theirs.number}/pdf"), 404, "certificate_not_found")
    assert_error(app.get(f"{BASE}GZ-2026-ABCD2345/pdf"), 404, "certificate_not_found")

    mine = services.do_issue_certificate(
        actor=world.volunteer, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)
    ).certificate
    services.do_revoke_certificate(certificate_id=mine.pk, actor=world.staff_s1, reason="有误")
    assert_error(app.get(f"{BASE}{mine.number}/pdf"), 409, "already_revoked")
    listed = app.get(BASE).json()["items"][0]
    assert listed["revoked"] is True and listed["revoke_reason"] == "有误" and listed["pdf_url"] is None


def test_anyone_can_check_a_number_and_sees_masked_data_only(world):
    certificate = services.do_issue_certificate(
        actor=world.volunteer, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)
    ).certificate

    response = AppClient().get(f"{BASE}{certificate.number}/verify")

    assert response.status_code == 200
    assert response.json() == {
        "number": certificate.number,
        "genuine": True,
        "revoked": False,
        "name": "张*丰",
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "hours": "2.5",
        "minutes": 150,
        "tasks": 1,
        "issuer": "星甸街道网格化服务管理中心",
        "issued_on": "2026-07-01",
        "revoked_on": None,
    }


def test_a_revoked_number_checks_as_not_genuine_and_an_unknown_one_is_404(world):
    certificate = services.do_issue_certificate(
        actor=world.volunteer, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)
    ).certificate
    services.do_revoke_certificate(certificate_id=certificate.pk, actor=world.staff_s1, reason="有误")

    body = AppClient().get(f"{BASE}{certificate.number}/verify").json()
    assert body["genuine"] is False and body["revoked"] is True and body["revoked_on"] == "2026-07-01"
    error = assert_error(
        AppClient(language="zh-hans").get(f"{BASE}GZ-2026-ABCD2345/verify"), 404, "certificate_not_found"
    )
    assert "查无此编号的证明" in error["message"]


def test_the_openapi_document_lists_the_certificate_endpoints():
    paths = AppClient().get("/api/v1/openapi.json").json()["paths"]
    assert {BASE, f"{BASE}{{number}}/pdf", f"{BASE}{{number}}/verify"} <= set(paths)
