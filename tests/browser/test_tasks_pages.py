"""Every grid-task page at phone width (390 px) in Chromium: it renders, nothing is wider than the
screen, and a screenshot lands in test-results/ for a person to look at."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.test_tasks import launch, snap  # noqa: F401 (launch is a fixture)
from tests.factories import UserFactory
from tests.gridtasks.factories import GridTaskFactory
from tests.gridtasks.views_support import grid_worker
from volunteers.gridtasks import qr, services
from volunteers.gridtasks.models import Attendance, GridTask, Scan, SignUp
from volunteers.models import DutyCategory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    patrol, _ = DutyCategory.objects.get_or_create(
        code="patrol", defaults={"name": "社会治安巡查", "sort_order": 2}
    )
    DutyCategory.objects.get_or_create(code="policy", defaults={"name": "政策法律宣讲", "sort_order": 8})
    DutyCategory.objects.get_or_create(code="safety", defaults={"name": "安全隐患排查", "sort_order": 3})
    organiser = grid_worker(name="网格员李红")
    grid = organiser.home_grid
    volunteer = UserFactory(name="周小青", home_grid=grid)
    now = timezone.now()
    running = GridTaskFactory(
        title="星兴社区夜间巡防（第一班）",
        grid=grid,
        category=patrol,
        capacity=2,
        starts_at=now - timedelta(minutes=20),
        ends_at=now + timedelta(hours=3),
        latitude="32.060255",
        longitude="118.796877",
        geofence_radius_m=300,
        description="沿星兴路、滨江步道巡查，重点关注独居老人住宅楼。",
        points=20,
    )
    upcoming = GridTaskFactory(
        title="防汛物资清点",
        grid=grid,
        category=patrol,
        capacity=1,
        notice="请穿防滑鞋，仓库内禁止吸烟。",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=2),
    )
    GridTaskFactory(
        title="反诈宣传进小区",
        grid=grid,
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=3),
    )
    draft = GridTaskFactory(title="楼道消防隐患排查", grid=grid, status=GridTask.Status.DRAFT)
    here = SignUp.objects.create(task=running, person=volunteer, status=SignUp.Status.CONFIRMED)
    other = UserFactory(name="王建国")
    other_signup = SignUp.objects.create(task=running, person=other, status=SignUp.Status.CONFIRMED)
    GridTask.objects.filter(pk=running.pk).update(taken=2)
    SignUp.objects.create(task=running, person=UserFactory(name="陈候补"), status=SignUp.Status.WAITLISTED)
    services.record_scan(
        task=running, signup=here, kind="in", method=Scan.Method.TASK_QR, actor=volunteer, nonce=None
    )
    services.upload_offline_scans(
        task_id=running.pk,
        actor=organiser,
        scans=[{"token": "not-a-code", "kind": "in", "nonce": "offline-junk-01", "scanned_at": now}],
    )
    services.do_sign_up(task_id=upcoming.pk, person=UserFactory(), acknowledged_notice=True)
    services.do_sign_up(task_id=upcoming.pk, person=volunteer, acknowledged_notice=True)  # waitlisted
    past_start = now - timedelta(days=2)
    past = GridTaskFactory(
        title="上周河道巡查", grid=grid, starts_at=past_start, ends_at=past_start + timedelta(hours=2)
    )
    done = SignUp.objects.create(task=past, person=volunteer, status=SignUp.Status.ATTENDED)
    Attendance.objects.create(
        signup=done,
        checked_in_at=past_start,
        checked_out_at=past_start + timedelta(hours=2),
        verified_minutes=120,
        counts=True,
        status=Attendance.Status.FINAL,
    )
    return {
        "organiser": organiser,
        "volunteer": volunteer,
        "running": running,
        "upcoming": upcoming,
        "draft": draft,
        "other_signup": other_signup,
    }


def check(page, url, name):
    response = page.goto(url)
    assert response.status < 500, f"{url}: {response.status}"
    page.wait_for_timeout(300)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{url} is {width}px wide at a 390px screen"
    snap(page, name)
    return response


def test_every_task_page_fits_a_phone(live_server, launch, world):  # noqa: F811
    base = live_server.url
    running, upcoming, draft = world["running"], world["upcoming"], world["draft"]
    volunteer_phone = launch()(world["volunteer"])
    for path, name in [
        ("/tasks/", "tasks-list-390"),
        ("/tasks/?open=on&category=", "tasks-list-filtered-390"),
        (f"/tasks/{running.public_code}/", "tasks-detail-confirmed-390"),
        (f"/tasks/{upcoming.public_code}/", "tasks-detail-waitlisted-390"),
        ("/tasks/mine/", "tasks-mine-390"),
        ("/tasks/my-qr/", "tasks-my-qr-390"),
        (qr.task_qr_path(running.public_code), "tasks-checkin-out-390"),
        (
            qr.task_qr_path(running.public_code, now=timezone.now().timestamp() - 300),
            "tasks-checkin-stale-390",
        ),
        (qr.personal_qr_path(services.personal_code_for(world["volunteer"])), "tasks-personal-own-390"),
    ]:
        check(volunteer_phone, base + path, name)

    fresh = launch()(UserFactory(name="新志愿者"))
    check(fresh, f"{base}/tasks/{upcoming.public_code}/", "tasks-detail-signup-notice-390")
    # The browser itself will not send the form with the notice unticked; past that, the server refuses.
    fresh.evaluate("document.getElementById('id_acknowledged').required = false")
    fresh.locator("#signup-form button[type=submit]").click()
    fresh.locator("[data-testid=error]").wait_for()
    snap(fresh, "tasks-detail-refused-390")

    organiser_phone = launch()(world["organiser"])
    personal = qr.personal_qr_path(services.personal_code_for(world["other_signup"].person))
    for path, name in [
        (f"/tasks/{running.public_code}/", "tasks-detail-organiser-390"),
        (f"/tasks/{draft.public_code}/", "tasks-detail-draft-390"),
        ("/tasks/manage/", "tasks-manage-390"),
        ("/tasks/new/", "tasks-new-390"),
        ("/tasks/new-series/", "tasks-new-series-390"),
        (f"/tasks/{running.public_code}/edit/", "tasks-edit-390"),
        (f"/tasks/{running.public_code}/cancel/", "tasks-cancel-390"),
        (f"/tasks/{running.public_code}/attendance/", "tasks-attendance-390"),
        (f"/tasks/{running.public_code}/qr/", "tasks-task-qr-390"),
        (f"/tasks/{running.public_code}/kiosk/", "tasks-kiosk-nocamera-390"),
        (personal, "tasks-personal-organiser-390"),
    ]:
        check(organiser_phone, base + path, name)
    organiser_phone.locator("[data-testid=checkin-result], form button[value=in]").first.wait_for()
    organiser_phone.locator("form button[value=in]").click()
    organiser_phone.locator('[data-testid=checkin-result][data-code="checked_in"]').wait_for()
    snap(organiser_phone, "tasks-personal-organiser-done-390")
