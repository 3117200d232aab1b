"""Staff import a spreadsheet in the Wagtail admin, on a phone-sized screen and on a desktop."""

from io import BytesIO

import openpyxl
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from playwright.sync_api import expect

from tests.factories import CommunityFactory, GridFactory, StaffPostFactory, UserFactory
from volunteers.models import IdentityClaim, StaffPost, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DESKTOP_VIEWPORT = {"width": 1366, "height": 900}


def workbook(*rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(list(row))
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def staff(live_server):
    community = CommunityFactory(name="求雨山社区")
    GridFactory(community=community, name="第一网格", code="qys-01")
    person = UserFactory(name="社区干部", is_staff=True)
    StaffPostFactory(person=person, level=StaffPost.Level.COMMUNITY, community=community)
    person.user_permissions.add(Permission.objects.get(codename="access_admin"))
    TOTP.activate(person, generate_totp_secret())
    return person


def signed_in(context, staff, live_server):
    client = Client()
    client.force_login(staff)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def page_overflow(page) -> int:
    """How far the page, or the admin's main column (which clips instead of scrolling), is too wide."""
    return page.evaluate(
        """() => Math.max(
            document.documentElement.scrollWidth - document.documentElement.clientWidth,
            document.querySelector('main').scrollWidth - document.querySelector('main').clientWidth)"""
    )


def whole_page(page, screenshot, name):
    """The admin scrolls its main column, not the document: grow the window to show all of it."""
    size = page.viewport_size
    height = page.evaluate(
        "Math.max(document.querySelector('main').scrollHeight, document.body.scrollHeight)"
    )
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    screenshot(page, name)
    page.set_viewport_size(size)


def upload(page, data: bytes, kind: str = "people", before=None):
    page.goto("/admin/imports/")
    assert page_overflow(page) <= 0, "the upload page scrolls sideways"
    if before:
        before(page)
    page.check(f'input[name="kind"][value="{kind}"]')
    page.set_input_files(
        'input[name="file"]',
        files=[{"name": "名单.xlsx", "mimeType": "application/octet-stream", "buffer": data}],
    )
    page.click('form.import-form button[type="submit"]')
    page.wait_for_url("**/admin/imports/*/")


def test_a_file_with_a_bad_row_cannot_be_confirmed_on_a_phone(phone, staff, live_server, screenshot):
    page = phone
    signed_in(page.context, staff, live_server)
    data = workbook(
        ["姓名", "手机号", "所属网格编码", "身份", "技能"],
        ["王芳", "138 0013 8001", "qys-01", "党员;楼栋长", "理发"],
        ['=HYPERLINK("http://example.com","x")', "13800138002", "qys-01", "", ""],
        ["李强", "12345", "no-such-grid", "皇帝", ""],
    )
    upload(page, data, before=lambda page: whole_page(page, screenshot, "import-upload-390"))

    bad = page.locator('[data-testid="bad-rows"] > li')
    expect(bad).to_have_count(2)
    expect(page.locator('[data-testid="confirm"]')).to_be_disabled()
    assert page_overflow(page) <= 0, "the preview scrolls sideways at 390 px"
    whole_page(page, screenshot, "import-preview-bad-390")
    assert not User.objects.filter(phone="+8613800138001").exists()


def test_staff_upload_preview_and_confirm_on_a_phone_and_a_desktop(
    chromium, phone, staff, live_server, screenshot
):
    page = phone
    signed_in(page.context, staff, live_server)
    rows = [["姓名", "手机号", "所属网格编码", "身份", "技能"]]
    rows += [
        [f"居民{i}号", f"1380013{i:04d}", "qys-01", "党员;志愿者" if i % 2 else "楼栋长", "理发"]
        for i in range(12)
    ]
    upload(page, workbook(*rows))

    expect(page.locator('[data-testid="good-rows"] tbody tr')).to_have_count(12)
    confirm = page.locator('[data-testid="confirm"]')
    expect(confirm).to_be_enabled()
    assert page_overflow(page) <= 0, "the preview scrolls sideways at 390 px"
    whole_page(page, screenshot, "import-preview-good-390")

    desktop = chromium.new_context(viewport=DESKTOP_VIEWPORT, locale="zh-CN", base_url=live_server.url)
    try:
        signed_in(desktop, staff, live_server)
        wide = desktop.new_page()
        wide.goto(page.url)
        expect(wide.locator('[data-testid="good-rows"]')).to_be_visible()
        assert page_overflow(wide) <= 0
        whole_page(wide, screenshot, "import-preview-good-desktop")
    finally:
        desktop.close()

    confirm.click()
    expect(page.locator('[data-testid="import-done"]')).to_be_visible()
    whole_page(page, screenshot, "import-done-390")
    assert User.objects.filter(phone__startswith="+861380013").count() == 12
    assert IdentityClaim.objects.filter(status="verified", decided_by=staff).count() == 18
