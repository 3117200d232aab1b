"""The case pages in Chromium at phone width (390 px): report a case with a photo, then the case page,
my cases and the appeal form; nothing is wider than the screen. Screenshots land in test-results/."""

import os

import pytest

from points.cases import services
from points.cases.models import Case
from tests.browser.test_tasks import launch, snap  # noqa: F401 (launch is a fixture)
from tests.factories import GridFactory, UserFactory
from tests.points.cases.support import budget, category, grid_worker, png, street_staff

# live_server runs Django in a thread while Playwright's sync API runs an event loop in this one.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page, name):
    page.wait_for_timeout(200)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width}px wide at a 390px screen"
    snap(page, name)


def test_report_a_case_and_follow_it_on_a_phone(live_server, launch, tmp_path):  # noqa: F811
    grid = GridFactory(name="星兴第一网格")
    worker = grid_worker(grid, name="李网格")
    helper = UserFactory(name="王志愿", phone="+8613955556666")
    staff = street_staff(grid.community.street)
    budget(grid.community.street, 1000)
    cat = category(points=60, name="安全隐患排查")
    photo = tmp_path / "张三_13800138000.png"
    photo.write_bytes(png().read())

    page = launch()(worker)
    page.goto(f"{live_server.url}/cases/report/")
    fits(page, "cases-report-390")
    page.locator("input[name=kind][value=case]").check()
    page.select_option("select[name=category]", str(cat.pk))
    page.select_option("select[name=grid]", str(grid.pk))
    page.fill("input[name=title]", "楼道堆物隐患")
    page.fill("textarea[name=description]", "三单元楼道堆放纸箱，已协调清理。")
    page.set_input_files("input[name=photos]", str(photo))
    page.fill("input[name=c1_phone]", "139 5555 6666")
    page.locator(".case-form button[type=submit]").click()
    page.locator("[data-testid=history]").wait_for()
    case = Case.objects.get()
    assert case.contributors.filter(person=helper).exists() and case.photos.count() == 1
    fits(page, "cases-detail-reported-390")

    services.do_verify_case(case_id=case.pk, actor=staff)
    reward = services.do_close_case(case_id=case.pk, actor=staff)
    services.do_reject_reward(reward_id=reward.pk, actor=staff, reason="请补充处置前后对比照片")
    page.goto(f"{live_server.url}/cases/")
    fits(page, "cases-mine-390")
    page.goto(f"{live_server.url}/cases/{case.public_code}/")
    fits(page, "cases-detail-rejected-390")
    page.locator(f"a[href='/cases/{case.public_code}/appeal/']").click()
    page.fill("textarea[name=text]", "已补充照片，请复核。")
    fits(page, "cases-appeal-390")
    page.locator("main form.form button[type=submit]").click()
    page.locator("[data-testid=reward]").wait_for()
    reward.refresh_from_db()
    assert reward.status == "appealed"
    fits(page, "cases-detail-appealed-390")
