"""/api/v1/tasks: lists, sign-up, offers, check-in/out both ways, offline batches; every refusal a 4xx
with the stable code of the exception behind it."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.support import AppClient, assert_error, session_token_for
from tests.factories import GridFactory, IdentityClaimFactory, UserFactory
from tests.gridtasks.factories import GridTaskFactory
from volunteers.gridtasks import qr, services
from volunteers.gridtasks.models import Attendance, GridTask, Scan, SignUp
from volunteers.models import DutyCategory, IdentityClaim

pytestmark = pytest.mark.django_db


@pytest.fixture
def volunteer():
    return UserFactory(name="王小明")


@pytest.fixture
def app(volunteer):
    return AppClient(session_token_for(volunteer))


def _client_for(person) -> AppClient:
    return AppClient(session_token_for(person))


def _running_task(**fields) -> GridTask:
    start = timezone.now() - timedelta(minutes=10)
    return GridTaskFactory(starts_at=start, ends_at=start + timedelta(hours=2), **fields)


def _hold_place(task, person) -> SignUp:
    signup = SignUp.objects.create(task=task, person=person, status=SignUp.Status.CONFIRMED)
    GridTask.objects.filter(pk=task.pk).update(
        taken=task.signups.filter(status=SignUp.Status.CONFIRMED).count()
    )
    return signup


def _token(person, at=None) -> str:
    if at is None:
        return qr.personal_qr_token(services.personal_code_for(person))
    with time_machine.travel(at, tick=False):
        return qr.personal_qr_token(services.personal_code_for(person))


# --- list and detail -----------------------------------------------------------------------------------
def test_list_is_public_paginated_and_filtered(client):
    grid = GridFactory()
    now = timezone.now()
    tomorrow = GridTaskFactory(grid=grid, starts_at=now + timedelta(days=1), capacity=1)
    later = GridTaskFactory(
        grid=grid, starts_at=now + timedelta(days=3), category=DutyCategory.objects.get(code="information")
    )
    elsewhere = GridTaskFactory(starts_at=now + timedelta(days=2))
    GridTaskFactory(status=GridTask.Status.DRAFT)
    GridTaskFactory(starts_at=now - timedelta(days=2))  # over
    services.do_sign_up(task_id=tomorrow.pk, person=UserFactory())  # now full

    def codes(**params):
        response = client.get("/api/v1/tasks", params)
        assert response.status_code == 200, response.content
        return [item["code"] for item in response.json()["items"]]

    assert codes() == [tomorrow.public_code, elsewhere.public_code, later.public_code]
    assert codes(grid=grid.pk) == [tomorrow.public_code, later.public_code]
    assert codes(community=elsewhere.grid.community_id) == [elsewhere.public_code]
    assert codes(category="information") == [later.public_code]
    assert codes(open="true") == [elsewhere.public_code, later.public_code]
    local_day = timezone.localtime(later.starts_at).date()
    assert codes(date=local_day.isoformat()) == [later.public_code]
    assert codes(grid=987654) == []

    page = client.get("/api/v1/tasks", {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["items"]) == 2
    item = page["items"][0]
    assert item["places_left"] == 0 and item["my_status"] is None and item["category"]["code"] == "patrol"
    assert item["url"] == f"/tasks/{tomorrow.public_code}/"
    assert "id" not in item and "created_by" not in item  # no database ids, nobody's name

    assert_error(client.get("/api/v1/tasks", {"category": "nope"}), 422, "invalid")
    assert_error(client.get("/api/v1/tasks", {"date": "tomorrow"}), 422, "invalid")
    assert_error(client.get("/api/v1/tasks", {"page": 0}), 422, "invalid")


def test_list_shows_the_callers_status(app, volunteer):
    task = GridTaskFactory()
    services.do_sign_up(task_id=task.pk, person=volunteer)
    assert app.get("/api/v1/tasks").json()["items"][0]["my_status"] == "confirmed"


def _count_queries(fetch) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = fetch()
    assert response.status_code == 200, response.content
    return len(queries)


def test_list_query_count_does_not_grow_with_tasks_or_sign_ups(app, volunteer):
    def add_tasks(n):
        for _ in range(n):
            task = GridTaskFactory(capacity=10)
            for person in (volunteer, UserFactory(), UserFactory()):
                SignUp.objects.create(task=task, person=person, status=SignUp.Status.CONFIRMED)
            GridTask.objects.filter(pk=task.pk).update(taken=3)

    add_tasks(2)
    few = _count_queries(lambda: app.get("/api/v1/tasks", {"page_size": 100}))
    add_tasks(25)
    many = _count_queries(lambda: app.get("/api/v1/tasks", {"page_size": 100}))
    assert len(app.get("/api/v1/tasks", {"page_size": 100}).json()["items"]) == 27
    assert few == many


def test_detail_query_count_does_not_grow_with_sign_ups(app, volunteer):
    task = GridTaskFactory(capacity=100)
    services.do_sign_up(task_id=task.pk, person=volunteer)
    few = _count_queries(lambda: app.get(f"/api/v1/tasks/{task.public_code}"))
    for _ in range(30):
        services.do_sign_up(task_id=task.pk, person=UserFactory())
    many = _count_queries(lambda: app.get(f"/api/v1/tasks/{task.public_code}"))
    assert few == many
    body = app.get(f"/api/v1/tasks/{task.public_code}").json()
    assert (
        body["confirmed"] == 31 and body["my_signup"]["status"] == "confirmed" and body["can_manage"] is False
    )


def test_my_tasks_query_count_does_not_grow(app, volunteer):
    def add(n, offset):
        for i in range(n):
            task = GridTaskFactory(starts_at=timezone.now() + timedelta(days=offset + i))
            services.do_sign_up(task_id=task.pk, person=volunteer)

    add(2, 1)
    few = _count_queries(lambda: app.get("/api/v1/tasks/mine"))
    add(15, 10)
    many = _count_queries(lambda: app.get("/api/v1/tasks/mine"))
    assert few == many
    assert len(app.get("/api/v1/tasks/mine").json()["upcoming"]) == 17


def test_detail_hides_drafts_and_shows_managers_their_task(client):
    draft = GridTaskFactory(status=GridTask.Status.DRAFT, notice="请带手电")
    assert_error(client.get(f"/api/v1/tasks/{draft.public_code}"), 404, "task_not_found")
    assert_error(client.get("/api/v1/tasks/no-such-code"), 404, "task_not_found")
    body = _client_for(draft.created_by).get(f"/api/v1/tasks/{draft.public_code}").json()
    assert body["status"] == "draft" and body["can_manage"] is True and body["notice"] == "请带手电"
    assert body["has_notice"] is True and body["my_signup"] is None


# --- sign-up, cancel, offers ---------------------------------------------------------------------------
def test_sign_up_then_again_returns_the_same_place(app, volunteer):
    task = GridTaskFactory()
    first = app.post(f"/api/v1/tasks/{task.public_code}/signup", {})
    assert first.status_code == 201, first.content
    assert first.json()["created"] is True and first.json()["signup"]["status"] == "confirmed"
    again = app.post(f"/api/v1/tasks/{task.public_code}/signup")
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["signup"]["id"] == first.json()["signup"]["id"]
    assert SignUp.objects.filter(task=task, person=volunteer).count() == 1


def test_sign_up_refusals_carry_their_codes(app, volunteer):
    with_notice = GridTaskFactory(notice="注意安全")
    assert_error(
        app.post(f"/api/v1/tasks/{with_notice.public_code}/signup", {}), 400, "notice_not_acknowledged"
    )
    response = app.post(f"/api/v1/tasks/{with_notice.public_code}/signup", {"acknowledged_notice": True})
    assert response.status_code == 201 and response.json()["signup"]["notice_acknowledged_at"]

    overlapping = GridTaskFactory(starts_at=with_notice.starts_at + timedelta(hours=1))
    assert_error(app.post(f"/api/v1/tasks/{overlapping.public_code}/signup"), 409, "overlapping_task")

    for_party = GridTaskFactory(
        starts_at=timezone.now() + timedelta(days=5), eligible_identities=["party_member"]
    )
    assert_error(app.post(f"/api/v1/tasks/{for_party.public_code}/signup"), 403, "not_eligible")

    closed = GridTaskFactory(
        starts_at=timezone.now() + timedelta(days=6), signup_closes_at=timezone.now() - timedelta(hours=1)
    )
    assert_error(app.post(f"/api/v1/tasks/{closed.public_code}/signup"), 409, "signup_not_open")
    assert_error(app.post("/api/v1/tasks/nothing-here/signup"), 404, "task_not_found")

    bad = app.post(f"/api/v1/tasks/{closed.public_code}/signup", {"acknowledged_notice": "yes"})
    assert assert_error(bad, 422, "invalid")["fields"] == {"acknowledged_notice": ["请输入true或false。"]}
    assert_error(app.post(f"/api/v1/tasks/{closed.public_code}/signup", {"extra": 1}), 422, "invalid")
    assert_error(
        app.post(f"/api/v1/tasks/{closed.public_code}/signup", "a=1", content_type="text/plain"),
        415,
        "unsupported_media_type",
    )
    assert_error(AppClient().post(f"/api/v1/tasks/{closed.public_code}/signup", {}), 401, "not_authenticated")
    assert SignUp.objects.filter(person=volunteer).count() == 1


def test_full_task_waitlists_and_the_offer_is_confirmed(app, volunteer):
    task = GridTaskFactory(capacity=1)
    holder = UserFactory()
    held, _ = services.do_sign_up(task_id=task.pk, person=holder)
    response = app.post(f"/api/v1/tasks/{task.public_code}/signup")
    assert response.json()["signup"]["status"] == "waitlisted" and response.json()["signup"]["ahead"] == 0
    assert_error(app.post(f"/api/v1/tasks/{task.public_code}/confirm"), 409, "offer_not_open")

    holder_app = _client_for(holder)
    cancelled = holder_app.post(f"/api/v1/tasks/{task.public_code}/cancel", {"reason": "临时有事"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert_error(holder_app.post(f"/api/v1/tasks/{task.public_code}/cancel"), 403, "not_signed_up")

    mine = app.get("/api/v1/tasks/mine").json()
    assert [item["task"]["code"] for item in mine["offers"]] == [task.public_code]
    assert mine["offers"][0]["offered_until"]
    confirmed = app.post(f"/api/v1/tasks/{task.public_code}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert app.get("/api/v1/tasks/mine").json()["upcoming"][0]["task"]["code"] == task.public_code


def test_cancel_after_the_cut_off_is_refused(app, volunteer):
    task = GridTaskFactory(starts_at=timezone.now() + timedelta(hours=1), cancel_cutoff_minutes=120)
    task.ends_at = task.starts_at + timedelta(hours=1)
    task.save()
    services.do_sign_up(task_id=task.pk, person=volunteer)
    assert_error(app.post(f"/api/v1/tasks/{task.public_code}/cancel", {}), 409, "cancel_too_late")
    assert_error(app.post(f"/api/v1/tasks/{task.public_code}/cancel", {"reason": "x" * 201}), 422, "invalid")
    assert SignUp.objects.get(person=volunteer).status == SignUp.Status.CONFIRMED


# --- check-in with the task's QR -----------------------------------------------------------------------
def test_task_qr_check_in_replay_and_check_out(app, volunteer):
    task = _running_task()
    _hold_place(task, volunteer)
    url = qr.absolute(qr.task_qr_path(task.public_code))
    body = {"payload": url, "kind": "in", "nonce": "device-a-0001"}
    first = app.post(f"/api/v1/tasks/{task.public_code}/check", body)
    assert first.status_code == 200, first.content
    assert first.json()["code"] == "checked_in" and first.json()["replay"] is False
    assert first.json()["person_name"] and first.json()["person_name"] != volunteer.name

    replay = app.post(f"/api/v1/tasks/{task.public_code}/check", body)
    assert replay.json() | {"replay": False} == first.json() and replay.json()["replay"] is True

    payload = qr.task_qr_payload(task.public_code)
    out = app.post(
        f"/api/v1/tasks/{task.public_code}/check", {"payload": payload, "kind": "out", "nonce": "out-0001"}
    )
    assert out.json()["code"] == "checked_out"
    assert Attendance.objects.get().checked_out_at is not None


def test_task_qr_refusals(app, volunteer):
    task, other = _running_task(), _running_task()
    _hold_place(task, volunteer)
    path = f"/api/v1/tasks/{task.public_code}/check"

    def check(payload, nonce, kind="in", **extra):
        return app.post(path, {"payload": payload, "kind": kind, "nonce": nonce, **extra})

    assert_error(check(qr.absolute(qr.task_qr_path(other.public_code)), "wrong-0001"), 400, "wrong_task")
    assert_error(check(qr.task_qr_payload(other.public_code), "wrong-0002"), 400, "invalid_qr")
    stale = qr.task_qr_payload(task.public_code, now=timezone.now().timestamp() - 120)
    assert_error(check(stale, "stale-0001"), 400, "stale_qr")
    assert_error(check("https://example.org/evil/path", "junk-0001"), 400, "invalid_qr")
    fresh = qr.task_qr_payload(task.public_code)
    assert_error(check(fresh, "early-out-1", kind="out"), 409, "check_out_before_check_in")
    # The refusal was stored: its replay is refused the same way, even after a check-in.
    assert check(fresh, "then-in-001").status_code == 200
    assert_error(check(fresh, "early-out-1", kind="out"), 409, "check_out_before_check_in")
    assert_error(check(fresh, "bad nonce!"), 422, "invalid")
    assert_error(check(fresh, "kind-00001", kind="maybe"), 422, "invalid")
    assert_error(check(fresh, "lat-000001", latitude=32.0), 422, "invalid")
    assert_error(check(fresh, "lat-000002", latitude=91, longitude=0), 422, "invalid")

    stranger = _client_for(UserFactory())
    refused = stranger.post(path, {"payload": fresh, "kind": "in", "nonce": "stranger-01"})
    assert_error(refused, 403, "not_signed_up")


def test_geofence_over_the_api(app, volunteer):
    task = _running_task(latitude=Decimal("32.0617"), longitude=Decimal("118.63"), geofence_radius_m=150)
    _hold_place(task, volunteer)
    fresh = qr.task_qr_payload(task.public_code)
    path = f"/api/v1/tasks/{task.public_code}/check"
    far = {"payload": fresh, "kind": "in", "nonce": "geo-far-001", "latitude": 32.0717, "longitude": 118.63}
    assert_error(app.post(path, far), 403, "outside_geofence")
    near = {
        "payload": fresh,
        "kind": "in",
        "nonce": "geo-near-01",
        "latitude": 32.0620,
        "longitude": 118.6301,
    }
    assert app.post(path, near).status_code == 200
    attendance = Attendance.objects.get()
    assert attendance.check_in_geofence_ok is True and attendance.check_in_distance_m < 150


# --- the organiser scans personal QRs ------------------------------------------------------------------
@pytest.fixture
def organiser_task():
    task = _running_task()
    worker = UserFactory()
    IdentityClaimFactory(
        person=worker, kind="grid_worker_part", grid=task.grid, status=IdentityClaim.Status.VERIFIED
    )
    return task, _client_for(worker)


def test_organiser_scans_a_volunteer_in_and_out(organiser_task, volunteer):
    task, organiser = organiser_task
    _hold_place(task, volunteer)
    path = f"/api/v1/tasks/{task.public_code}/scan"
    url = qr.absolute(qr.personal_qr_path(services.personal_code_for(volunteer)))
    response = organiser.post(path, {"token": url, "kind": "in", "nonce": "kiosk-00001"})
    assert response.status_code == 200, response.content
    assert response.json()["code"] == "checked_in" and response.json()["person_name"] == "王*明"
    again = organiser.post(path, {"token": _token(volunteer), "kind": "in", "nonce": "kiosk-00002"})
    assert again.json()["code"] == "already_checked_in" and again.json()["at"] == response.json()["at"]
    out = organiser.post(path, {"token": _token(volunteer), "kind": "out", "nonce": "kiosk-00003"})
    assert out.json()["code"] == "checked_out"


def test_organiser_scan_refusals(organiser_task, volunteer, app):
    task, organiser = organiser_task
    path = f"/api/v1/tasks/{task.public_code}/scan"
    assert_error(
        organiser.post(path, {"token": _token(volunteer), "kind": "in", "nonce": "n-000001"}),
        403,
        "not_signed_up",
    )
    _hold_place(task, volunteer)
    stale = _token(volunteer, timezone.now() - timedelta(minutes=11))
    assert_error(organiser.post(path, {"token": stale, "kind": "in", "nonce": "n-000002"}), 400, "stale_qr")
    assert_error(
        organiser.post(path, {"token": _token(volunteer)[:-3], "kind": "in", "nonce": "n-000003"}),
        400,
        "invalid_qr",
    )
    assert_error(
        organiser.post(path, {"token": _token(volunteer), "kind": "out", "nonce": "n-000004"}),
        409,
        "check_out_before_check_in",
    )
    # The volunteer cannot scan themselves in: only an organiser of the task may.
    assert_error(
        app.post(path, {"token": _token(volunteer), "kind": "in", "nonce": "n-000005"}), 403, "out_of_scope"
    )
    assert_error(
        organiser.post("/api/v1/tasks/none/scan", {"token": "x", "kind": "in", "nonce": "n-000006"}),
        404,
        "task_not_found",
    )
    assert_error(organiser.post(path, {"token": "", "kind": "in", "nonce": "n-000007"}), 422, "invalid")
    assert not Attendance.objects.exists()


def test_a_replayed_scan_gets_the_first_answer_and_changes_nothing(organiser_task, volunteer):
    task, organiser = organiser_task
    _hold_place(task, volunteer)
    path = f"/api/v1/tasks/{task.public_code}/scan"
    body = {"token": _token(volunteer), "kind": "in", "nonce": "replayed-01"}
    first = organiser.post(path, body).json()
    organiser.post(path, {"token": _token(volunteer), "kind": "out", "nonce": "replayed-02"})
    replay = organiser.post(path, body)
    assert replay.status_code == 200
    assert replay.json() | {"replay": False} == first and replay.json()["replay"] is True
    attendance = Attendance.objects.get()
    assert attendance.checked_out_at is not None and Scan.objects.count() == 2


def test_a_right_to_scan_remembered_for_one_task_does_not_open_another(organiser_task, volunteer):
    task, organiser = organiser_task
    other = _running_task()  # in a grid the organiser does not look after
    _hold_place(task, volunteer)
    _hold_place(other, volunteer)
    body = {"token": _token(volunteer), "kind": "in"}
    own = organiser.post(f"/api/v1/tasks/{task.public_code}/scan", body | {"nonce": "own-task-01"})
    assert own.status_code == 200  # the organiser's right to scan this task is now remembered
    refused = organiser.post(f"/api/v1/tasks/{other.public_code}/scan", body | {"nonce": "other-task-01"})
    assert_error(refused, 403, "out_of_scope")
    assert not Attendance.objects.filter(signup__task=other).exists()


# --- offline batches -----------------------------------------------------------------------------------
def test_offline_batch_upload_and_re_upload(organiser_task):
    task, organiser = organiser_task
    people = [UserFactory() for _ in range(3)]
    for person in people:
        _hold_place(task, person)
    now = timezone.now()
    scans = []
    for n, person in enumerate(people):
        at = now - timedelta(minutes=5 - n)
        scans.append(
            {
                "nonce": f"off-in-{n:04d}",
                "token": _token(person, at),
                "kind": "in",
                "scanned_at": at.isoformat(),
            }
        )
    outsider = UserFactory()
    scans.append(
        {"nonce": "off-out-9999", "token": _token(outsider, now), "kind": "in", "scanned_at": now.isoformat()}
    )
    path = f"/api/v1/tasks/{task.public_code}/offline-scans"

    first = organiser.post(path, {"scans": scans})
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["accepted"], body["refused"], body["replays"]) == (3, 1, 0)
    assert body["results"][3]["code"] == "not_signed_up"
    second = organiser.post(path, {"scans": scans[::-1]}).json()
    assert (second["accepted"], second["refused"], second["replays"]) == (3, 1, 4)
    assert Scan.objects.count() == 4 and Scan.objects.get(nonce="off-out-9999").conflict


def test_offline_batch_refusals(organiser_task, app):
    task, organiser = organiser_task
    path = f"/api/v1/tasks/{task.public_code}/offline-scans"
    at = timezone.now().isoformat()
    good = {"nonce": "batch-00001", "token": "abc", "kind": "in", "scanned_at": at}
    too_many = [dict(good, nonce=f"batch-{n:06d}") for n in range(services.MAX_BATCH + 1)]
    assert_error(organiser.post(path, {"scans": too_many}), 400, "bad_batch")

    naive = dict(good, scanned_at=at[:19])
    error = assert_error(organiser.post(path, {"scans": [good, naive]}), 422, "invalid")
    assert list(error["fields"]) == ["scans.1.scanned_at"]
    for broken in (
        {"scans": [dict(good, nonce="short")]},
        {"scans": [dict(good, kind="sideways")]},
        {"scans": [{k: v for k, v in good.items() if k != "token"}]},
        {"scans": [dict(good, extra=1)]},
        {"scans": "all of them"},
        {"scan": []},
        [good],
    ):
        assert_error(organiser.post(path, broken), 422, "invalid")
    assert_error(organiser.post(path, "{not json", content_type="application/json"), 400, "invalid_json")
    assert_error(app.post(path, {"scans": [good]}), 403, "out_of_scope")
    assert not Scan.objects.exists()


def test_no_body_shape_makes_the_api_fail(organiser_task, app):
    """Whatever arrives, the answer is JSON and never a 500."""
    task, organiser = organiser_task
    bodies = [
        None,
        "",
        "null",
        "[]",
        "{}",
        '{"payload": null}',
        '{"kind": 5}',
        '"text"',
        "1e999",
        '{"scans": [null]}',
    ]
    for suffix in ("signup", "cancel", "confirm", "check", "scan", "offline-scans"):
        for body in bodies:
            for client in (app, organiser):
                response = client.client.generic(
                    "POST",
                    f"/api/v1/tasks/{task.public_code}/{suffix}",
                    (body or "").encode(),
                    content_type="application/json",
                    headers=client.headers,
                )
                assert 200 <= response.status_code < 500, (suffix, body, response.content)
                assert response["Content-Type"].startswith("application/json")
