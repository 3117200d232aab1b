"""/api/v1/cases: what I may report, report, my cases, a case, appeal; every refusal a 4xx in the API's
error shape with the stable code of the exception behind it."""

import base64

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from points.cases import services
from points.cases.models import Case, CasePhoto, Reward
from points.models import Entry
from tests.api.support import AppClient, assert_error, session_token_for
from tests.factories import GridFactory, UserFactory
from tests.points.cases.support import (
    category,
    closed,
    grid_worker,
    pending_reward,
    png,
    report,
    street_staff,
)

pytestmark = pytest.mark.django_db


def app_for(person) -> AppClient:
    return AppClient(session_token_for(person))


def photo_b64(**kwargs) -> str:
    return base64.b64encode(png(**kwargs).read()).decode()


def body(grid, cat, **extra):
    data = {
        "kind": cat.kind,
        "category": cat.pk,
        "grid": grid.pk,
        "title": "路灯损坏",
        "description": "已报修。",
    }
    data.update(extra)
    return data


def test_every_endpoint_needs_sign_in():
    anonymous = AppClient()
    assert_error(anonymous.get("/api/v1/cases"), 401, "not_authenticated")
    assert_error(anonymous.get("/api/v1/cases/options"), 401, "not_authenticated")
    assert_error(anonymous.post("/api/v1/cases", {}), 401, "not_authenticated")
    assert_error(anonymous.get("/api/v1/cases/abcdefabcdef"), 401, "not_authenticated")


def test_options_list_categories_and_my_grids():
    grid = GridFactory()
    worker = grid_worker(grid)
    cat = category()
    data = app_for(worker).get("/api/v1/cases/options").json()
    assert data["can_report"] is True
    assert [c["id"] for c in data["categories"]] == [cat.pk]
    assert [g["id"] for g in data["grids"]] == [grid.pk]
    resident = app_for(UserFactory()).get("/api/v1/cases/options").json()
    assert resident["can_report"] is False and resident["grids"] == []


def test_report_with_a_photo_and_a_helper_then_read_it_back():
    grid = GridFactory()
    worker = grid_worker(grid)
    helper = UserFactory(phone="+8613922223333")
    cat = category()
    app = app_for(worker)
    response = app.post(
        "/api/v1/cases",
        body(
            grid,
            cat,
            photos=["data:image/png;base64," + photo_b64()],
            contributors=[{"phone": "13922223333", "role": "handler", "share": 2}],
        ),
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "reported" and data["reward_status"] is None
    assert {(c["name"], c["role"], c["share"]) for c in data["contributors"]} == {
        (worker.name, "reporter", 1),
        (helper.name, "handler", 2),
    }
    assert len(data["photos"]) == 1 and "13800" not in data["photos"][0]
    assert [e["status"] for e in data["history"]] == ["reported"]
    listed = app.get("/api/v1/cases").json()
    assert [item["code"] for item in listed["items"]] == [data["code"]]
    assert app.get(f"/api/v1/cases/{data['code']}").json()["title"] == "路灯损坏"


def test_report_refusals_carry_their_codes():
    grid = GridFactory()
    worker = grid_worker(grid)
    cat = category()
    app = app_for(worker)
    assert_error(app_for(UserFactory()).post("/api/v1/cases", body(grid, cat)), 403, "not_a_reporter")
    assert_error(app.post("/api/v1/cases", body(GridFactory(), cat)), 403, "grid_not_allowed")
    assert_error(app.post("/api/v1/cases", body(grid, cat, kind="incident")), 422, "category_kind_mismatch")
    assert_error(app.post("/api/v1/cases", body(grid, cat, category=999999)), 422, "unknown_category")
    assert_error(app.post("/api/v1/cases", body(grid, cat, photos=["bm90IGFuIGltYWdl"])), 422, "bad_photo")
    assert_error(app.post("/api/v1/cases", body(grid, cat, photos=["%%%"])), 422, "bad_photo")
    assert_error(app.post("/api/v1/cases", body(grid, cat, photos=[photo_b64()] * 7)), 422, "too_many_photos")
    error = assert_error(
        app.post("/api/v1/cases", body(grid, cat, contributors=[{"phone": "13700000000"}])), 422, "invalid"
    )
    assert "contributors.0.phone" in error["fields"]
    error = assert_error(app.post("/api/v1/cases", body(grid, cat, title="")), 422, "invalid")
    assert "title" in error["fields"]
    assert_error(app.post("/api/v1/cases", body(grid, cat, share=3)), 422, "invalid")  # unknown field
    assert_error(
        app.post("/api/v1/cases", "kind=case", content_type="text/plain"), 415, "unsupported_media_type"
    )
    assert Case.objects.count() == 0 and CasePhoto.objects.count() == 0


def test_a_case_is_404_to_people_outside_it():
    reward, reporter, staff, _ = pending_reward(street_budget=100)
    code = reward.case.public_code
    assert_error(app_for(UserFactory()).get(f"/api/v1/cases/{code}"), 404, "case_not_found")
    assert_error(
        app_for(street_staff(GridFactory().community.street)).get(f"/api/v1/cases/{code}"),
        404,
        "case_not_found",
    )
    data = app_for(reporter).get(f"/api/v1/cases/{code}").json()
    assert data["reward"]["status"] == "pending" and data["reward"]["points"] == 100
    assert data["reward"]["can_appeal"] is False


def test_appeal_once_after_a_rejection():
    reward, reporter, staff, _ = pending_reward(street_budget=100)
    code = reward.case.public_code
    app = app_for(reporter)
    assert_error(app.post(f"/api/v1/cases/{code}/appeal", {"text": "请复核"}), 409, "not_appealable")
    services.do_reject_reward(reward_id=reward.pk, actor=staff, reason="证据不足")
    assert app.get(f"/api/v1/cases/{code}").json()["reward"]["can_appeal"] is True
    assert_error(app.post(f"/api/v1/cases/{code}/appeal", {"text": ""}), 422, "invalid")
    assert_error(
        app_for(UserFactory()).post(f"/api/v1/cases/{code}/appeal", {"text": "x"}), 404, "case_not_found"
    )
    response = app.post(f"/api/v1/cases/{code}/appeal", {"text": "请复核"})
    assert response.status_code == 200
    assert response.json()["reward"]["status"] == "appealed"
    assert_error(app.post(f"/api/v1/cases/{code}/appeal", {"text": "再次"}), 409, "already_appealed")
    assert Reward.objects.get(pk=reward.pk).appeal_text == "请复核"
    assert Entry.objects.count() == 0


def test_my_cases_query_count_does_not_grow_with_rows():
    grid = GridFactory()
    worker = grid_worker(grid)
    staff = street_staff(grid.community.street)
    cat = category()
    app = app_for(worker)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert app.get("/api/v1/cases").status_code == 200
        return len(queries)

    closed(report(worker, grid, cat), staff)
    small = count()
    for _ in range(6):
        closed(report(worker, grid, cat), staff)
        report(worker, grid, cat)
    assert count() == small
