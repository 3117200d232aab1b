"""The organiser's pages: create, edit, recurring series, publish, cancel, attendance with corrections,
the rotating task QR, and scope (another grid's worker gets nothing)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Notification
from tests.factories import GridFactory, MembershipFactory, OrganisationFactory, UserFactory
from tests.gridtasks.factories import GridTaskFactory
from tests.gridtasks.views_support import confirmed, grid_worker, running_task
from volunteers.gridtasks import qr, services
from volunteers.gridtasks.models import Attendance, AttendanceCorrection, GridTask, Scan, SignUp, TaskSeries
from volunteers.models import DutyCategory

pytestmark = pytest.mark.django_db


@pytest.fixture
def grid():
    return GridFactory()


@pytest.fixture
def worker(client, grid):
    person = grid_worker(grid, name="网格员老张")
    client.force_login(person)
    return person


def url(name, task):
    return reverse(f"gridtasks:{name}", args=[task.public_code])


def local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def task_data(grid, **overrides):
    starts = timezone.now() + timedelta(days=2)
    data = {
        "title": "周末河道巡查",
        "category": DutyCategory.objects.get(code="patrol").pk,
        "grid": grid.pk,
        "organisation": "",
        "description": "沿河步道巡查",
        "place_name": "滨江公园北门",
        "latitude": "32.060255",
        "longitude": "118.796877",
        "geofence_radius_m": "300",
        "starts_at": local(starts),
        "ends_at": local(starts + timedelta(hours=3)),
        "capacity": "6",
        "cancel_cutoff_minutes": "120",
        "eligible_identities": ["party_member", "volunteer"],
        "points": "30",
        "notice": "",
        "checkin_grace_minutes": "30",
        "min_presence_percent": "60",
        "offer_minutes": "120",
        "signup_opens_at": "",
        "signup_closes_at": "",
        "publish": "on",
    }
    data.update(overrides)
    return data


# --- create and edit ------------------------------------------------------------------------------
def test_grid_worker_creates_and_publishes_a_task(client, worker, grid):
    response = client.get(reverse("gridtasks:create"))
    assert response.status_code == 200
    response = client.post(reverse("gridtasks:create"), task_data(grid))
    assert response.status_code == 302, response.content.decode()[:2000]
    task = GridTask.objects.get(title="周末河道巡查")
    assert task.status == GridTask.Status.PUBLISHED and task.created_by == worker
    assert task.eligible_identities == ["party_member", "volunteer"]
    assert task.geofence_radius_m == 300
    assert response["Location"] == url("detail", task)


def test_grid_choices_are_limited_to_the_grids_the_worker_manages(client, worker, grid):
    other = GridFactory()
    choices = list(client.get(reverse("gridtasks:create")).context["form"].fields["grid"].queryset)
    assert choices == [grid]
    response = client.post(reverse("gridtasks:create"), task_data(other))
    assert response.status_code == 400
    assert not GridTask.objects.exists()


def test_organisation_admin_creates_a_task_for_their_organisation(client):
    admin = UserFactory()
    org = OrganisationFactory()
    MembershipFactory(organisation=org, person=admin, role="admin")
    other_org = OrganisationFactory()
    client.force_login(admin)
    form = client.get(reverse("gridtasks:create")).context["form"]
    assert list(form.fields["organisation"].queryset) == [org]
    assert other_org not in form.fields["organisation"].queryset
    grid = GridFactory()
    response = client.post(reverse("gridtasks:create"), task_data(grid, organisation=org.pk))
    assert response.status_code == 302
    assert GridTask.objects.get().organisation == org


def test_bad_task_input_is_a_400_with_field_errors(client, worker, grid):
    data = task_data(grid, ends_at=task_data(grid)["starts_at"], capacity="0", latitude="32.06", longitude="")
    response = client.post(reverse("gridtasks:create"), data)
    assert response.status_code == 400
    assert response.context["form"].errors.keys() >= {"ends_at", "capacity", "longitude"}
    assert not GridTask.objects.exists()


def test_a_volunteer_cannot_open_the_create_page(client):
    client.force_login(UserFactory())
    assert client.get(reverse("gridtasks:create")).status_code == 403
    assert client.get(reverse("gridtasks:create_series")).status_code == 403


def test_edit_keeps_the_capacity_above_the_places_taken(client, worker, grid):
    task = GridTaskFactory(grid=grid, capacity=3)
    for _ in range(2):
        services.do_sign_up(task_id=task.pk, person=UserFactory())
    data = task_data(grid, capacity="1", starts_at=local(task.starts_at), ends_at=local(task.ends_at))
    del data["publish"]
    response = client.post(url("edit", task), data)
    assert response.status_code == 400 or response.status_code == 409
    assert 'data-testid="form-error"' in response.content.decode()
    task.refresh_from_db()
    assert task.capacity == 3
    data["capacity"] = "4"
    data["title"] = "改名后的巡查"
    response = client.post(url("edit", task), data)
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.capacity == 4 and task.title == "改名后的巡查"


def test_draft_is_published_from_its_page(client, worker, grid):
    task = GridTaskFactory(grid=grid, status=GridTask.Status.DRAFT)
    page = client.get(url("detail", task)).content.decode()
    assert url("publish", task) in page
    assert client.post(url("publish", task)).status_code == 302
    task.refresh_from_db()
    assert task.status == GridTask.Status.PUBLISHED
    response = client.post(url("publish", task))  # already published
    assert response.status_code == 400 and 'data-code="not_draft"' in response.content.decode()


def test_cancel_task_needs_a_reason_and_tells_everyone(client, worker, grid):
    task = GridTaskFactory(grid=grid, capacity=1)
    volunteers = [UserFactory(), UserFactory()]
    for v in volunteers:
        services.do_sign_up(task_id=task.pk, person=v)
    assert client.get(url("cancel", task)).status_code == 200
    response = client.post(url("cancel", task), {"reason": ""})
    assert response.status_code == 400
    task.refresh_from_db()
    assert task.status == GridTask.Status.PUBLISHED
    response = client.post(url("cancel", task), {"reason": "暴雨预警，活动取消"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == GridTask.Status.CANCELLED
    assert set(SignUp.objects.filter(task=task).values_list("status", flat=True)) == {SignUp.Status.CANCELLED}
    assert Notification.objects.filter(recipient__in=volunteers, body="暴雨预警，活动取消").count() == 2


def test_recurring_night_patrol_in_two_shifts(client, worker, grid):
    first = timezone.localdate() + timedelta(days=1)
    data = task_data(grid)
    for name in ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at"):
        data.pop(name)
    data.update(
        {
            "title": "夜间巡防",
            "first_date": first.isoformat(),
            "last_date": (first + timedelta(days=6)).isoformat(),
            "weekdays": [],
            "shifts": "19:00-23:00\n23:00-03:00",
        }
    )
    response = client.post(reverse("gridtasks:create_series"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    series = TaskSeries.objects.get()
    tasks = list(series.tasks.order_by("starts_at"))
    assert len(tasks) == 14
    late = timezone.localtime(tasks[1].starts_at), timezone.localtime(tasks[1].ends_at)
    assert late[0].hour == 23 and late[1].hour == 3 and late[1].date() == late[0].date() + timedelta(days=1)
    assert all(t.status == GridTask.Status.PUBLISHED for t in tasks)


def test_series_only_on_chosen_weekdays_and_bad_shifts_refused(client, worker, grid):
    data = task_data(grid)
    for name in ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at"):
        data.pop(name)
    monday = date(2031, 3, 3)
    data.update(
        {
            "first_date": monday.isoformat(),
            "last_date": (monday + timedelta(days=13)).isoformat(),
            "weekdays": ["5", "6"],
            "shifts": "8点到10点",
        }
    )
    response = client.post(reverse("gridtasks:create_series"), data)
    assert response.status_code == 400 and "shifts" in response.context["form"].errors
    data["shifts"] = "08:00-10:00"
    assert client.post(reverse("gridtasks:create_series"), data).status_code == 302
    days = [timezone.localtime(t.starts_at).weekday() for t in GridTask.objects.all()]
    assert sorted(days) == [5, 5, 6, 6]


# --- scope ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", ["edit", "cancel", "attendance", "task_qr", "kiosk"])
def test_another_grids_worker_cannot_manage_the_task(client, page):
    task = GridTaskFactory()
    client.force_login(grid_worker(GridFactory()))
    assert client.get(url(page, task)).status_code == 403
    detail = client.get(url("detail", task)).content.decode()
    assert 'data-testid="manage"' not in detail


def test_another_grids_worker_cannot_post_changes(client):
    task = GridTaskFactory()
    client.force_login(grid_worker(GridFactory()))
    assert client.post(url("cancel", task), {"reason": "x"}).status_code == 403
    draft = GridTaskFactory(status=GridTask.Status.DRAFT)
    assert client.post(url("publish", draft)).status_code == 404  # a draft elsewhere is not even visible
    task.refresh_from_db()
    draft.refresh_from_db()
    assert task.status == GridTask.Status.PUBLISHED and draft.status == GridTask.Status.DRAFT


def test_kiosk_json_refuses_another_grids_worker(client):
    task = running_task()
    client.force_login(grid_worker(GridFactory()))
    response = client.post(
        reverse("api-v1:scan_personal_qr", args=[task.public_code]),
        {"token": "x", "kind": "in", "nonce": "n" * 16},
        content_type="application/json",
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "out_of_scope"


def test_organiser_sees_management_links(client, worker, grid):
    task = GridTaskFactory(grid=grid)
    html = client.get(url("detail", task)).content.decode()
    assert 'data-testid="manage"' in html
    for name in ("task_qr", "kiosk", "attendance", "edit", "cancel"):
        assert url(name, task) in html


def test_manage_list_shows_drafts_of_my_grids_only(client, worker, grid):
    mine = GridTaskFactory(grid=grid, title="我的草稿", status=GridTask.Status.DRAFT)
    GridTaskFactory(title="别处的任务")
    response = client.get(reverse("gridtasks:manage"))
    assert response.status_code == 200
    html = response.content.decode()
    assert mine.title in html and "别处的任务" not in html


# --- attendance -----------------------------------------------------------------------------------
def test_attendance_sheet_shows_check_ins_waitlist_no_shows_and_conflicts(client, worker, grid):
    task = running_task(grid=grid, capacity=2)
    here, absent = UserFactory(name="到场者"), UserFactory(name="未到者")
    s_here = confirmed(task, here)
    confirmed(task, absent)
    SignUp.objects.create(task=task, person=UserFactory(name="候补者"), status=SignUp.Status.WAITLISTED)
    services.record_scan(
        task=task, signup=s_here, kind="in", method=Scan.Method.PERSONAL_QR, actor=worker, nonce=None
    )
    services.upload_offline_scans(
        task_id=task.pk,
        actor=worker,
        scans=[{"token": "forged", "kind": "in", "nonce": "offline-forged-1", "scanned_at": timezone.now()}],
    )
    response = client.get(url("attendance", task))
    assert response.status_code == 200
    html = response.content.decode()
    assert "到场者" in html and "未到者" in html
    assert "候补者" in html[html.index('data-testid="waiting"') :]
    assert html.count('data-testid="present-badge"') == 1
    assert 'data-testid="conflicts"' in html


def test_correction_needs_a_reason_and_is_logged(client, worker, grid):
    start = (timezone.now() - timedelta(hours=5)).replace(second=0, microsecond=0)
    task = GridTaskFactory(grid=grid, starts_at=start, ends_at=start + timedelta(hours=3))
    volunteer = UserFactory()
    signup = confirmed(task, volunteer)
    services.finalise_task_attendance(task_id=task.pk)
    signup.refresh_from_db()
    assert signup.status == SignUp.Status.NO_SHOW
    html = client.get(url("attendance", task)).content.decode()
    assert 'data-testid="no-shows"' in html

    data = {
        "signup": signup.pk,
        "checked_in_at": local(start),
        "checked_out_at": local(start + timedelta(hours=3)),
    }
    response = client.post(url("attendance", task), {**data, "reason": ""})
    assert response.status_code == 400
    assert not Attendance.objects.filter(signup=signup).exists()

    response = client.post(url("attendance", task), {**data, "reason": "手机没电，现场签到表为证"})
    assert response.status_code == 302
    attendance = Attendance.objects.get(signup=signup)
    assert attendance.verified_minutes == 180 and attendance.counts
    correction = AttendanceCorrection.objects.get(attendance=attendance)
    assert correction.actor == worker and correction.reason == "手机没电，现场签到表为证"


def test_correction_with_check_out_before_check_in_is_refused(client, worker, grid):
    task = running_task(grid=grid)
    signup = confirmed(task, UserFactory())
    now = timezone.now()
    response = client.post(
        url("attendance", task),
        {
            "signup": signup.pk,
            "checked_in_at": local(now),
            "checked_out_at": local(now - timedelta(hours=1)),
            "reason": "补录",
        },
    )
    assert response.status_code == 400
    assert not Attendance.objects.filter(signup=signup).exists()


def test_correction_for_a_sign_up_of_another_task_is_404(client, worker, grid):
    task = running_task(grid=grid)
    elsewhere = confirmed(running_task(), UserFactory())
    response = client.post(
        url("attendance", task),
        {"signup": elsewhere.pk, "checked_in_at": local(timezone.now()), "checked_out_at": "", "reason": "x"},
    )
    assert response.status_code == 404
    assert not Attendance.objects.exists()


# --- the rotating task QR -------------------------------------------------------------------------
def test_task_qr_page_shows_a_valid_code_and_the_json_endpoint_renews_it(client, worker, grid):
    task = running_task(grid=grid)
    response = client.get(url("task_qr", task))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and 'data-testid="task-qr"' in html
    data = client.get(url("task_qr_json", task)).json()
    path = data["url"].split("://", 1)[1].split("/", 1)[1]
    code, payload = path.strip("/").split("/")[1:3]
    assert code == task.public_code
    qr.verify_task_qr(code, payload)  # raises if not genuine and current
    assert 0 < data["refresh_in"] <= 25 and "<svg" in data["svg"]
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]


def test_task_qr_json_needs_a_published_task_and_a_signed_in_organiser(client, worker, grid):
    draft = GridTaskFactory(grid=grid, status=GridTask.Status.DRAFT)
    assert client.get(url("task_qr_json", draft)).status_code == 409
    client.logout()
    assert client.get(url("task_qr_json", running_task(grid=grid))).status_code == 401
