"""The pages QR codes open and the kiosk: GET never changes anything, POST checks in once per nonce,
forged or stale codes get a clear 4xx; the kiosk page and the API endpoints it sends its scans and
offline batches to, signed in by its session; the personal-QR landing page; the iCalendar feed."""

import json
from datetime import timedelta
from urllib.parse import unquote

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from tests.factories import GridFactory, UserFactory
from tests.gridtasks.factories import GridTaskFactory
from tests.gridtasks.views_support import confirmed, grid_worker, hidden, running_task
from volunteers.gridtasks import qr, services
from volunteers.gridtasks.models import Attendance, GridTask, Scan, SignUp

pytestmark = pytest.mark.django_db


@pytest.fixture
def volunteer(client):
    person = UserFactory(name="赵志愿")
    client.force_login(person)
    return person


@pytest.fixture
def task():
    return running_task()


def personal_url(person) -> str:
    return qr.absolute(qr.personal_qr_path(services.personal_code_for(person)))


# --- the task QR landing page ---------------------------------------------------------------------
def test_get_shows_a_check_in_button_and_changes_nothing(client, volunteer, task):
    confirmed(task, volunteer)
    response = client.get(qr.task_qr_path(task.public_code))
    assert response.status_code == 200
    assert 'data-testid="checkin-button"' in response.content.decode()
    assert hidden(response, "kind") == "in"
    assert not Scan.objects.exists() and not Attendance.objects.exists()


def test_post_checks_in_and_a_replayed_nonce_gets_the_same_answer(client, volunteer, task):
    confirmed(task, volunteer)
    path = qr.task_qr_path(task.public_code)
    page = client.get(path)
    form = {"nonce": hidden(page, "nonce"), "seen": hidden(page, "seen"), "kind": "in"}
    response = client.post(path, form)
    assert response.status_code == 200
    assert 'data-code="checked_in"' in response.content.decode()
    first_at = Attendance.objects.get(signup__person=volunteer).checked_in_at

    # The same form sent again much later (a reload, a double tap) returns the stored result.
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        again = client.post(path, form)
    assert again.status_code == 200 and 'data-code="checked_in"' in again.content.decode()
    assert Scan.objects.count() == 1
    assert Attendance.objects.get(signup__person=volunteer).checked_in_at == first_at


def test_the_next_scan_offers_check_out(client, volunteer, task):
    confirmed(task, volunteer)
    path = qr.task_qr_path(task.public_code)
    page = client.get(path)
    client.post(path, {"nonce": hidden(page, "nonce"), "seen": hidden(page, "seen"), "kind": "in"})
    page = client.get(path)
    assert hidden(page, "kind") == "out"
    response = client.post(
        path, {"nonce": hidden(page, "nonce"), "seen": hidden(page, "seen"), "kind": "out"}
    )
    assert 'data-code="checked_out"' in response.content.decode()
    assert Attendance.objects.get(signup__person=volunteer).checked_out_at is not None
    done = client.get(path)  # a third scan only shows the times: nothing left to do
    assert 'data-code="already_checked_out"' in done.content.decode()
    assert 'data-testid="checkin-button"' not in done.content.decode()


def test_check_out_before_check_in_is_refused_with_a_reason(client, volunteer, task):
    confirmed(task, volunteer)
    path = qr.task_qr_path(task.public_code)
    page = client.get(path)
    response = client.post(
        path, {"nonce": hidden(page, "nonce"), "seen": hidden(page, "seen"), "kind": "out"}
    )
    assert response.status_code == 409
    assert 'data-code="check_out_before_check_in"' in response.content.decode()


@pytest.mark.parametrize("mangle", ["flip", "truncate", "other_task", "garbage"])
def test_forged_payload_is_a_400_with_a_message(client, volunteer, task, mangle):
    confirmed(task, volunteer)
    payload = qr.task_qr_payload(task.public_code)
    if mangle == "flip":
        payload = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    elif mangle == "truncate":
        payload = payload[:-3]
    elif mangle == "other_task":
        payload = qr.task_qr_payload(GridTaskFactory().public_code)
    else:
        payload = "12345-notamacatall"
    path = reverse("gridtasks:scan_task_qr", args=[task.public_code, payload])
    response = client.get(path)
    assert response.status_code == 400 and 'data-code="invalid_qr"' in response.content.decode()
    response = client.post(path, {"nonce": "n" * 32, "kind": "in"})
    assert response.status_code == 400
    assert not Scan.objects.exists() and not Attendance.objects.exists()


def test_stale_payload_is_refused_on_get_and_post(client, volunteer, task):
    confirmed(task, volunteer)
    old = qr.task_qr_path(task.public_code, now=timezone.now().timestamp() - 120)
    response = client.get(old)
    assert response.status_code == 400 and 'data-code="stale_qr"' in response.content.decode()
    response = client.post(old, {"nonce": "n" * 32, "kind": "in"})
    assert response.status_code == 400 and 'data-code="stale_qr"' in response.content.decode()
    assert not Attendance.objects.exists()


def test_a_forged_seen_ticket_does_not_revive_a_stale_code(client, volunteer, task):
    confirmed(task, volunteer)
    old = qr.task_qr_path(task.public_code, now=timezone.now().timestamp() - 120)
    response = client.post(old, {"nonce": "n" * 32, "kind": "in", "seen": "eyJjIjoieCJ9:forged:sig"})
    assert response.status_code == 400
    assert not Attendance.objects.exists()


def test_signed_out_volunteer_signs_in_and_can_still_check_in_after_the_code_rotated(client, task):
    person = UserFactory()
    confirmed(task, person)
    path = qr.task_qr_path(task.public_code)
    response = client.get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    back = unquote(response["Location"].split("next=", 1)[1])
    assert back.startswith(path + "?seen=")

    with time_machine.travel(timezone.now() + timedelta(minutes=2)):  # SMS sign-in took a while
        client.force_login(person)
        page = client.get(back)
        assert page.status_code == 200
        response = client.post(
            path, {"nonce": hidden(page, "nonce"), "seen": hidden(page, "seen"), "kind": "in"}
        )
        assert response.status_code == 200 and 'data-code="checked_in"' in response.content.decode()

    with time_machine.travel(timezone.now() + timedelta(minutes=10)):  # but not forever
        assert client.get(back).status_code == 400


def test_volunteer_without_a_place_is_told_and_cannot_check_in(client, volunteer, task):
    path = qr.task_qr_path(task.public_code)
    response = client.get(path)
    assert response.status_code == 200 and 'data-code="not_signed_up"' in response.content.decode()
    response = client.post(path, {"nonce": "n" * 32, "kind": "in"})
    assert response.status_code == 403
    assert not Attendance.objects.exists()


def test_scan_outside_the_tasks_time_is_refused(client, volunteer):
    task = GridTaskFactory(starts_at=timezone.now() + timedelta(hours=5))
    confirmed(task, volunteer)
    path = qr.task_qr_path(task.public_code)
    page = client.get(path)
    response = client.post(path, {"nonce": hidden(page, "nonce"), "seen": hidden(page, "seen"), "kind": "in"})
    assert response.status_code == 409 and 'data-code="outside_window"' in response.content.decode()


def test_geofence_keeps_only_pass_and_distance(client, volunteer):
    task = running_task(latitude="32.060255", longitude="118.796877", geofence_radius_m=200)
    confirmed(task, volunteer)
    path = qr.task_qr_path(task.public_code)
    page = client.get(path)
    assert 'name="share_location"' in page.content.decode()
    far = {
        "nonce": hidden(page, "nonce"),
        "seen": hidden(page, "seen"),
        "kind": "in",
        "share_location": "1",
        "lat": "32.080000",
        "lng": "118.796877",
    }
    response = client.post(path, far)
    assert response.status_code == 403 and 'data-code="outside_geofence"' in response.content.decode()
    assert not Attendance.objects.exists()

    page = client.get(path)
    near = {**far, "nonce": hidden(page, "nonce"), "lat": "32.060900", "lng": "118.797000"}
    assert client.post(path, near).status_code == 200
    attendance = Attendance.objects.get()
    assert attendance.check_in_geofence_ok is True and 0 < attendance.check_in_distance_m <= 200
    stored = {f.name for f in Attendance._meta.fields}
    assert not stored & {"latitude", "longitude", "lat", "lng"}


def test_cancelled_task_qr_is_refused(client, volunteer, task):
    confirmed(task, volunteer)
    path = qr.task_qr_path(task.public_code)
    GridTask.objects.filter(pk=task.pk).update(status=GridTask.Status.CANCELLED)
    assert client.get(path).status_code == 409


# --- the kiosk: its page, and the API it sends scans to with the session cookie --------------------------
@pytest.fixture
def organiser(client, task):
    person = grid_worker(task.grid)
    client.force_login(person)
    return person


def kiosk_post(client, task, body, name="scan_personal_qr"):
    """What kiosk.js sends: the page's session cookie, JSON, to the task's endpoint of the API."""
    return client.post(
        reverse(f"api-v1:{name}", args=[task.public_code]),
        json.dumps(body),
        content_type="application/json",
    )


def test_kiosk_page_loads_the_scanner(client, organiser, task):
    response = client.get(reverse("gridtasks:kiosk", args=[task.public_code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "js/camera.js" in html and "kiosk.js" in html and "csrfmiddlewaretoken" in html
    assert f'data-scan-url="/api/v1/tasks/{task.public_code}/scan"' in html
    assert f'data-upload-url="/api/v1/tasks/{task.public_code}/offline-scans"' in html


def test_kiosk_checks_in_by_personal_qr_and_answers_a_replay_with_the_first_result(client, organiser, task):
    volunteer = UserFactory(name="钱多多")
    confirmed(task, volunteer)
    body = {"token": personal_url(volunteer), "kind": "in", "nonce": "6f1c2a4e-0d0e-4c54-9b7a-1f2e3d4c5b6a"}
    first = kiosk_post(client, task, body)
    assert first.status_code == 200
    data = first.json()
    assert data["ok"] and data["code"] == "checked_in" and data["person_name"] == volunteer.masked_name
    assert volunteer.name not in first.content.decode()
    again = kiosk_post(client, task, body).json()
    assert again["replay"] and again["at"] == data["at"]
    assert Scan.objects.count() == 1


def test_kiosk_session_needs_the_pages_csrf_token(task):
    """The kiosk page is signed in by its session cookie: a scan without the page's CSRF token is refused
    (another site cannot scan people in), and one with it, as kiosk.js sends it, is taken."""
    volunteer = UserFactory()
    confirmed(task, volunteer)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(grid_worker(task.grid))
    page = browser.get(reverse("gridtasks:kiosk", args=[task.public_code]))
    token = page.context["csrf_token"]
    url = reverse("api-v1:scan_personal_qr", args=[task.public_code])
    body = json.dumps({"token": personal_url(volunteer), "kind": "in", "nonce": "csrf-check-0001"})
    refused = browser.post(url, body, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    assert not Scan.objects.exists()
    taken = browser.post(url, body, content_type="application/json", headers={"X-CSRFToken": str(token)})
    assert taken.status_code == 200 and taken.json()["code"] == "checked_in"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"token": "https://example.com/v/forged:abc:def/", "kind": "in", "nonce": "a" * 20},
            400,
            "invalid_qr",
        ),
        ({"token": "x", "kind": "in"}, 422, "invalid"),
        ({"token": "x", "kind": "in", "nonce": "<script>alert(1)</script>"}, 422, "invalid"),
    ],
)
def test_kiosk_refusals_are_json_4xx(client, organiser, task, body, status, code):
    response = kiosk_post(client, task, body)
    assert response.status_code == status and response.json()["error"]["code"] == code
    if code == "invalid":
        assert list(response.json()["error"]["fields"]) == ["nonce"]


def test_kiosk_refuses_a_volunteer_without_a_place(client, organiser, task):
    stranger = UserFactory()
    body = {"token": personal_url(stranger), "kind": "in", "nonce": "b" * 20}
    response = kiosk_post(client, task, body)
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_signed_up"


def test_kiosk_refusal_names_whose_code_it_was(client, organiser, task):
    volunteer = UserFactory(name="孙小美")
    confirmed(task, volunteer)
    body = {"token": personal_url(volunteer), "kind": "out", "nonce": "c" * 20}
    response = kiosk_post(client, task, body)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "check_out_before_check_in" and error["person_name"] == volunteer.masked_name
    assert "孙小美" not in response.content.decode()


def test_kiosk_endpoint_answers_json_for_bad_requests(client, organiser, task):
    url = reverse("api-v1:scan_personal_qr", args=[task.public_code])
    wrong_method = client.get(url)
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert wrong_method["Allow"] == "POST"
    assert client.post(url, "{not json", content_type="application/json").status_code == 400
    assert client.post(url, "[1, 2]", content_type="application/json").status_code == 422
    client.logout()
    response = client.post(url, "{}", content_type="application/json")
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


def test_offline_batch_is_applied_once_and_conflicts_are_flagged(client, organiser, task):
    a, b = UserFactory(), UserFactory()
    confirmed(task, a)
    confirmed(task, b)
    now = timezone.now()
    scans = [
        {"token": personal_url(a), "kind": "in", "nonce": "offline-a-in-0001", "scanned_at": now.isoformat()},
        {
            "token": personal_url(b),
            "kind": "out",
            "nonce": "offline-b-out-001",
            "scanned_at": now.isoformat(),
        },
        {"token": "garbage", "kind": "in", "nonce": "offline-bad-0001", "scanned_at": now.isoformat()},
    ]
    body = {"scans": scans, "sent_at": timezone.now().isoformat()}
    first = kiosk_post(client, task, body, "upload_offline_scans")
    assert first.status_code == 200
    results = {r["nonce"]: r for r in first.json()["results"]}
    assert results["offline-a-in-0001"]["ok"]
    assert not results["offline-b-out-001"]["ok"] and not results["offline-bad-0001"]["ok"]
    second = kiosk_post(client, task, {"scans": list(reversed(scans))}, "upload_offline_scans")
    assert second.status_code == 200
    assert Scan.objects.count() == 3
    assert set(Scan.objects.filter(conflict=True).values_list("nonce", flat=True)) == {
        "offline-b-out-001",
        "offline-bad-0001",
    }
    assert Attendance.objects.get(signup__person=a).checked_in_at is not None
    assert not Attendance.objects.filter(signup__person=b).exists()


def test_offline_scan_times_are_corrected_for_a_phone_with_a_wrong_clock(client, organiser, task):
    volunteer = UserFactory()
    confirmed(task, volunteer)
    token = personal_url(volunteer)  # issued now, by the server's clock
    phone_now = timezone.now() - timedelta(hours=2)  # the kiosk phone's clock is two hours slow
    body = {
        "scans": [
            {"token": token, "kind": "in", "nonce": "skewed-clock-001", "scanned_at": phone_now.isoformat()}
        ],
        "sent_at": phone_now.isoformat(),
    }
    result = kiosk_post(client, task, body, "upload_offline_scans").json()["results"][0]
    assert result["ok"], result
    checked_in = Attendance.objects.get().checked_in_at
    assert abs(checked_in - timezone.now()) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"scans": "not a list"}, 422, "invalid"),
        ({"scans": [{}] * (services.MAX_BATCH + 1)}, 422, "invalid"),
        ({}, 422, "invalid"),
        ({"scans": [], "sent_at": "yesterday"}, 422, "invalid"),
    ],
)
def test_malformed_or_huge_batch_is_refused_whole(client, organiser, task, body, status, code):
    response = kiosk_post(client, task, body, "upload_offline_scans")
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert not Scan.objects.exists()


def test_batch_items_without_a_time_or_nonce_are_answered_not_crashed(client, organiser, task):
    """The batch is refused whole, naming each scan it cannot read (the kiosk drops those from its queue
    and sends the rest again); nothing is stored."""
    body = {"scans": [{"token": "x", "kind": "in", "nonce": "no-time-000001"}, "junk", {"nonce": 5}]}
    response = kiosk_post(client, task, body, "upload_offline_scans")
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert {name.split(".")[1] for name in fields} == {"0", "1", "2"}
    assert "scans.0.scanned_at" in fields and "scans.2.nonce" in fields
    assert not Scan.objects.exists()


# --- the personal QR landing page -----------------------------------------------------------------
def test_personal_qr_opened_by_a_stranger_reveals_nothing(client, task):
    volunteer = UserFactory(name="孙悟空")
    confirmed(task, volunteer)
    for viewer in (None, UserFactory(), grid_worker(GridFactory())):
        client.logout()
        if viewer:
            client.force_login(viewer)
        response = client.get(qr.personal_qr_path(services.personal_code_for(volunteer)))
        assert response.status_code == 200
        html = response.content.decode()
        assert "孙悟空" not in html and "孙*" not in html and volunteer.phone not in html
        assert 'data-testid="personal-qr-info"' in html


def test_personal_qr_opened_by_the_tasks_organiser_names_the_person_and_checks_in(client, organiser, task):
    volunteer = UserFactory(name="孙悟空")
    confirmed(task, volunteer)
    path = qr.personal_qr_path(services.personal_code_for(volunteer))
    response = client.get(path)
    assert "孙悟空" in response.content.decode()
    nonce = hidden(response, "nonce")
    response = client.post(path, {"task": task.public_code, "nonce": nonce, "kind": "in"})
    assert response.status_code == 200 and 'data-code="checked_in"' in response.content.decode()
    assert Attendance.objects.get().signup.person == volunteer


def test_personal_qr_post_for_a_task_not_managed_is_refused(client, task):
    volunteer = UserFactory()
    confirmed(task, volunteer)
    client.force_login(grid_worker(GridFactory()))
    path = qr.personal_qr_path(services.personal_code_for(volunteer))
    response = client.post(path, {"task": task.public_code, "nonce": "c" * 20, "kind": "in"})
    assert response.status_code == 403
    assert not Attendance.objects.exists()


def test_stale_or_forged_personal_qr_gets_a_clear_4xx(client):
    volunteer = UserFactory()
    code = services.personal_code_for(volunteer)
    with time_machine.travel(timezone.now() - timedelta(seconds=qr.PERSONAL_QR_MAX_AGE + 60)):
        old = qr.personal_qr_path(code)
    response = client.get(old)
    assert response.status_code == 400 and 'data-code="stale_qr"' in response.content.decode()
    response = client.get(reverse("gridtasks:personal_qr", args=["forged:token:here"]))
    assert response.status_code == 400 and 'data-code="invalid_qr"' in response.content.decode()


# --- the iCalendar feed ---------------------------------------------------------------------------
def feed_path(client):
    response = client.get(reverse("gridtasks:mine"))
    url = response.context["feed_url"]
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_calendar_feed_lists_my_tasks_as_valid_events(client, volunteer):
    task = GridTaskFactory(
        title="夜间巡防, 第一班; 注意安全",
        description="集合地点：岗亭\n带手电",
        latitude="32.06",
        longitude="118.79",
    )
    services.do_sign_up(task_id=task.pk, person=volunteer)
    GridTaskFactory(title="别人的任务")
    path = feed_path(client)
    # The link names the person by their random personal code only (no id, no phone, no name).
    assert path.split("/")[3].split(":")[0] == services.personal_code_for(volunteer)
    client.logout()  # a calendar app has no session: the link itself is the credential
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content
    assert all(len(line) <= 75 for line in body.split(b"\r\n")), "lines must be folded at 75 octets"
    cal = Calendar.from_ical(body)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["summary"]) == task.title
    assert event.decoded("dtstart") == task.starts_at.replace(microsecond=0)
    assert event.decoded("dtend") == task.ends_at.replace(microsecond=0)
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["uid"]).startswith(task.public_code)
    text = body.decode()
    assert volunteer.name not in text and volunteer.phone not in text


def test_calendar_feed_marks_a_cancelled_task(client, volunteer):
    task = GridTaskFactory()
    services.do_sign_up(task_id=task.pk, person=volunteer)
    services.do_cancel_task(actor=task.created_by, task_id=task.pk, reason="天气原因")
    cal = Calendar.from_ical(client.get(feed_path(client)).content)
    assert [str(e["status"]) for e in cal.walk("VEVENT")] == ["CANCELLED"]


def test_tampered_calendar_token_is_refused(client, volunteer):
    path = feed_path(client)
    token = path.split("/")[3]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(path.replace(token, forged)).status_code == 404
    other = UserFactory()
    other_code = services.personal_code_for(other)
    spliced = other_code + token[token.index(":") :]
    assert client.get(path.replace(token, spliced)).status_code == 404


def test_calendar_feed_of_a_waitlisted_task_is_tentative(client, volunteer):
    task = GridTaskFactory(capacity=1)
    services.do_sign_up(task_id=task.pk, person=UserFactory())
    services.do_sign_up(task_id=task.pk, person=volunteer)
    assert SignUp.objects.get(person=volunteer).status == SignUp.Status.WAITLISTED
    cal = Calendar.from_ical(client.get(feed_path(client)).content)
    assert [str(e["status"]) for e in cal.walk("VEVENT")] == ["TENTATIVE"]
