"""Notices in Chromium: street staff write and publish a notice for one grid in the Wagtail admin; a volunteer
of that grid finds it on a 390 px phone in Chinese and confirms they have read it; a volunteer of another
grid sees neither the notice nor its page."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from cms.models import NoticeIndexPage, NoticePage, NoticeRead
from core.models import Notification
from tests.browser.conftest import close_loop_connections
from tests.factories import CommunityFactory, DistrictFactory, GridFactory, StreetFactory, UserFactory
from volunteers import services as volunteer_services
from volunteers.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


def sign_in(context, person, live_server):
    client = Client()
    client.force_login(person)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def district(home_page):
    district = DistrictFactory()
    street = StreetFactory(district=district, name="星甸街道")
    xingxing = CommunityFactory(street=street, name="星兴社区")
    first = GridFactory(community=xingxing, name="第一网格")
    second = GridFactory(community=xingxing, name="第二网格")
    index = home_page.add_child(instance=NoticeIndexPage(title="通知公告", slug="notices"))
    index.save_revision().publish()
    staff = UserFactory(name="李秀英")
    volunteer_services.do_appoint_staff(person=staff, actor=None, place=street)
    TOTP.activate(staff, generate_totp_secret())
    return {
        "index": index,
        "first": first,
        "staff": User.objects.get(pk=staff.pk),
        "here": UserFactory(name="赵敏", home_grid=first),
        "there": UserFactory(name="钱德明", home_grid=second),
    }


def test_staff_publish_a_grid_notice_that_only_its_grid_sees_and_acknowledges(
    chromium, phone, live_server, district, screenshot
):
    grid = district["first"]

    # Street staff write the notice in the back office (on a desktop) and publish it.
    desk = chromium.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    try:
        sign_in(desk, district["staff"], live_server)
        admin = desk.new_page()
        admin.set_default_timeout(20_000)
        admin.goto(f"/admin/pages/add/cms/noticepage/{district['index'].pk}/")
        admin.fill("#id_title", "第一网格周六消防演练")
        # The slug sits on the "Promote" tab; a short Latin one keeps the link in the SMS short.
        admin.locator("#id_slug").evaluate("(el) => { el.value = 'fire-drill'; }")
        admin.fill("#id_summary", "周六上午 9:00 文化广场集合。")
        body = admin.locator(
            "[data-draftail-input] ~ * [contenteditable=true], .Draftail-Editor [contenteditable=true]"
        )
        body.first.click()
        admin.keyboard.type("请网格内居民准时参加，演练灭火器使用和楼道疏散。")
        admin.check("#id_must_read")
        admin.click("#id_targets-ADD")
        admin.select_option("#id_targets-0-grid", str(grid.pk))
        publish = admin.locator('button[name="action-publish"]')
        if not publish.is_visible():
            admin.locator("footer .w-dropdown__toggle, [data-w-dropdown-target='toggle']").last.click()
        screenshot(admin, "notice-admin-before-publish")
        publish.click()
        admin.wait_for_url("**/admin/pages/*/")
        expect(admin.locator(".messages")).to_contain_text("第一网格周六消防演练")
        screenshot(admin, "notice-admin-published")
    finally:
        desk.close()

    notice = NoticePage.objects.get(title="第一网格周六消防演练")
    assert notice.live and notice.must_read
    assert [t.grid_id for t in notice.targets.all()] == [grid.pk]
    assert set(
        Notification.objects.filter(key__startswith=f"notice:{notice.pk}:").values_list(
            "recipient", flat=True
        )
    ) == {district["here"].pk}
    close_loop_connections()

    # The volunteer of that grid: the notice is in the list; they open it and confirm.
    sign_in(phone.context, district["here"], live_server)
    phone.goto("/notices/")
    item = phone.locator('[data-testid="notice-item"]', has_text="第一网格周六消防演练")
    expect(item).to_be_visible()
    expect(item).to_contain_text("待确认")
    screenshot(phone, "notice-index-390")
    item.click()
    expect(phone.locator("h1")).to_have_text("第一网格周六消防演练")
    button = phone.get_by_role("button", name="我已阅读并知晓")
    expect(button).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    screenshot(phone, "notice-page-390")
    button.click()
    expect(phone.locator('[data-testid="acknowledge"]')).to_contain_text("确认阅读本通知")
    expect(phone.get_by_role("button", name="我已阅读并知晓")).to_have_count(0)
    screenshot(phone, "notice-acknowledged-390")
    read = NoticeRead.objects.get(notice=notice, person=district["here"])
    assert read.acknowledged_at is not None
    close_loop_connections()

    # The volunteer of the next grid: not in their list, and the page is not found.
    other = chromium.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-hans,zh;q=0.9"},
        base_url=live_server.url,
    )
    try:
        sign_in(other, district["there"], live_server)
        elsewhere = other.new_page()
        elsewhere.goto("/notices/")
        expect(elsewhere.locator("h1")).to_have_text("通知公告")
        expect(elsewhere.locator('[data-testid="notice-item"]')).to_have_count(0)
        response = elsewhere.goto(notice.url)
        assert response.status == 404
    finally:
        other.close()
    assert not NoticeRead.objects.filter(person=district["there"]).exists()
