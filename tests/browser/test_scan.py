"""The 扫码 tab decodes a QR code seen by the camera and opens it, but only when it is one of ours."""

import os

import pytest

from tests.browser.fake_camera import write_qr_video

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def _open_scanner(live_server, tmp_path, qr_text):
    from playwright.sync_api import sync_playwright

    video = write_qr_video(tmp_path / "qr.y4m", qr_text)
    pw = sync_playwright().start()
    browser = pw.chromium.launch(
        executable_path="/usr/bin/chromium", args=[*ARGS, f"--use-file-for-fake-video-capture={video}"]
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.grant_permissions(["camera"], origin=live_server.url)
    page = context.new_page()
    page.goto(f"{live_server.url}/scan/")
    return pw, browser, page


def test_scanning_a_site_qr_opens_it(live_server, tmp_path):
    target = f"{live_server.url}/organisations/"
    pw, browser, page = _open_scanner(live_server, tmp_path, target)
    try:
        page.wait_for_url(target, timeout=15_000)
        assert page.url == target
    finally:
        browser.close()
        pw.stop()


def test_a_foreign_qr_is_not_opened(live_server, tmp_path):
    pw, browser, page = _open_scanner(live_server, tmp_path, "https://evil.example.com/phish")
    try:
        status = page.locator("#scanner-status")
        status.filter(has_text="not from Gongzhi").or_(status.filter(has_text="不是共治")).wait_for(
            timeout=15_000
        )
        assert page.url.endswith("/scan/")
    finally:
        browser.close()
        pw.stop()
