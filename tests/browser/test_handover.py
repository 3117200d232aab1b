"""The merchant's hand-over page in Chromium at phone width: its camera sees the person's redemption QR,
the page sends it and the item is handed over once, and the same code still in view is not sent again."""

import pytest
from django.test import Client
from django.urls import reverse

from points.redemption import qr, services
from points.redemption.models import Redemption
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, RESULTS_DIR, close_loop_connections
from tests.browser.fake_camera import write_qr_video
from tests.factories import UserFactory
from tests.points.redemption.support import RewardItemFactory, give_points, merchant_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CAMERA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def test_the_merchants_camera_hands_the_item_over(live_server, tmp_path):
    from playwright.sync_api import sync_playwright

    person = UserFactory(name="王小明", notify_sms=False)
    give_points(person, 250)
    item = RewardItemFactory(name="洗衣液", price=100, stock=3)
    redemption = services.do_redeem(
        item_code=item.public_code, actor=person, key="camera-hand-0001"
    ).redemption
    staff = Client()
    staff.force_login(merchant_staff(item.merchant))
    video = write_qr_video(tmp_path / "redemption.y4m", live_server.url + qr.path_for(redemption.token_code))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, *CAMERA_ARGS, f"--use-file-for-fake-video-capture={video}"],
        )
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        context.grant_permissions(["camera"], origin=live_server.url)
        context.add_cookies(
            [{"name": "sessionid", "value": staff.cookies["sessionid"].value, "url": live_server.url}]
        )
        page = context.new_page()
        page.goto(live_server.url + reverse("redemption:handover", args=[item.merchant.public_code]))
        result = page.locator('[data-testid="result"]')
        result.wait_for(timeout=20_000)
        assert "洗衣液" in result.inner_text()
        # The person's phone is still in front of the camera: the code just handed over is not sent
        # again, so the page keeps saying what to hand over instead of "already handed over".
        page.wait_for_timeout(3_000)
        assert page.locator('[data-testid="result"]').count() == 1
        assert page.locator('[data-testid="error"]').count() == 0
        RESULTS_DIR.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS_DIR / "rewards-handover-scanned-390.png"), full_page=True)
        browser.close()
    close_loop_connections()

    assert Redemption.objects.get(pk=redemption.pk).status == Redemption.Status.HANDED_OVER
