"""The 扫码 tab decodes a QR code seen by the camera and opens it, but only when it is one of ours; small
and damaged codes read too; the decoder comes from this site (no request leaves it), and the browser's
own BarcodeDetector is used when it has one."""

import os
from urllib.parse import urlsplit

import pytest

from tests.browser.fake_camera import write_qr_png, write_qr_video

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


def _open_scanner(live_server, tmp_path, qr_text, *, init_script=None, requests=None, **video_options):
    from playwright.sync_api import sync_playwright

    video = write_qr_video(tmp_path / "qr.y4m", qr_text, **video_options)
    pw = sync_playwright().start()
    browser = pw.chromium.launch(
        executable_path="/usr/bin/chromium", args=[*ARGS, f"--use-file-for-fake-video-capture={video}"]
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.grant_permissions(["camera"], origin=live_server.url)
    if init_script:
        context.add_init_script(init_script)
    if requests is not None:
        context.on("request", lambda request: requests.append(request))
    page = context.new_page()
    page.goto(f"{live_server.url}/scan/")
    return pw, browser, page


# Chromium on Linux has no BarcodeDetector of its own; taking it away makes sure the packaged decoder is
# what a test exercises wherever it runs.
WITHOUT_NATIVE = "delete window.BarcodeDetector;"
# A browser that reads QR codes itself, as Chrome on Android does: it "sees" the text given.
NATIVE = """
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code", "ean_13"]; }
  constructor(options) { this.formats = options.formats; }
  async detect(source) { return [{ rawValue: %s, format: "qr_code" }]; }
};
"""


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


@pytest.mark.parametrize(
    "video_options",
    [{"module_px": 1.2}, {"damaged": True}],
    ids=["small: 1.2 pixels a module", "damaged: blotted, creased, blurred"],
)
def test_a_small_or_damaged_qr_still_opens(live_server, tmp_path, video_options):
    target = f"{live_server.url}/organisations/"
    pw, browser, page = _open_scanner(
        live_server, tmp_path, target, init_script=WITHOUT_NATIVE, **video_options
    )
    try:
        page.wait_for_url(target, timeout=15_000)
    finally:
        browser.close()
        pw.stop()


def test_the_decoder_comes_from_this_site_and_no_request_leaves_it(live_server, tmp_path):
    target = f"{live_server.url}/organisations/"
    requests = []
    pw, browser, page = _open_scanner(
        live_server, tmp_path, target, init_script=WITHOUT_NATIVE, requests=requests
    )
    try:
        page.wait_for_url(target, timeout=15_000)
        origin = urlsplit(live_server.url)
        elsewhere = [
            r.url
            for r in requests
            if urlsplit(r.url)[:2] != origin[:2] and not r.url.startswith(("data:", "blob:"))
        ]
        assert elsewhere == []
        wasm = [r for r in requests if urlsplit(r.url).path.endswith("/vendor/zxing-wasm/zxing_reader.wasm")]
        decoder = [
            r for r in requests if urlsplit(r.url).path.endswith("/vendor/barcode-detector/ponyfill.js")
        ]
        # Fetched once each: the page's preload is what the decoder then uses.
        assert len(wasm) == 1 and len(decoder) == 1, [r.url for r in requests]
        assert wasm[0].response().status == 200 and decoder[0].response().status == 200
    finally:
        browser.close()
        pw.stop()


def test_the_browsers_own_reader_is_used_when_it_has_one(live_server, tmp_path):
    target = f"{live_server.url}/organisations/"
    requests = []
    pw, browser, page = _open_scanner(
        live_server,
        tmp_path,
        "not what the camera shows",
        init_script=NATIVE % f'"{target}"',
        requests=requests,
    )
    try:
        page.wait_for_url(target, timeout=15_000)
        assert not [r.url for r in requests if "/vendor/" in r.url]
    finally:
        browser.close()
        pw.stop()


def test_a_photo_of_a_site_qr_opens_it_when_the_camera_is_refused(live_server, tmp_path):
    from playwright.sync_api import sync_playwright

    target = f"{live_server.url}/organisations/"
    photo = write_qr_png(tmp_path / "photo.png", target, damaged=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS[:-2])
        page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
        page.add_init_script(WITHOUT_NATIVE)
        page.goto(f"{live_server.url}/scan/")
        page.locator("#scanner-status.alert-warning").wait_for(timeout=15_000)  # no camera here
        page.set_input_files("#scanner-file", str(photo))
        page.wait_for_url(target, timeout=15_000)
        browser.close()
