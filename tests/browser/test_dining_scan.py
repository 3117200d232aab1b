"""The dining point's card scanner (the grid tasks' kiosk scanner): the organiser's phone camera sees a
resident's service card, the booking is marked attended once, and the card's token is not kept on the
phone."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from services_catalog import services
from services_catalog.models import Order, OrderEvent
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, close_loop_connections
from tests.browser.fake_camera import write_qr_video
from tests.services_catalog.factories import SessionFactory
from tests.services_catalog.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CAMERA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def _todays_booking(world) -> tuple:
    """Today's lunch whatever the hour the test runs at, and r1's booking of it. The booking is test data
    (the booking rules are tested with the services), dispatched to the organisation as a booking is."""
    noon = timezone.localtime().replace(hour=11, minute=0, second=0, microsecond=0)
    session = SessionFactory(service=world.lunch, starts_at=noon)
    order = Order.objects.create(
        service=world.lunch,
        session=session,
        resident=world.r1,
        placed_by=world.r1,
        grid=world.g1,
        organisation=world.org_a,
        status=Order.Status.DISPATCHED,
        stage_started_at=timezone.now(),
    )
    return session, order


def _scanner(playwright, live_server, world, session, video, *, offline=False):
    """The organiser's phone on the session's scanner page, its fake camera showing `video`."""
    client = Client()
    client.force_login(world.a_member)
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, *CAMERA_ARGS, f"--use-file-for-fake-video-capture={video}"],
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.grant_permissions(["camera"], origin=live_server.url)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(live_server.url + reverse("services:dining_scan", args=[world.lunch.code, session.pk]))
    if offline:
        context.set_offline(True)
    return browser, page


def _stored(page) -> str:
    return page.evaluate("JSON.stringify(Object.assign({}, window.localStorage))")


def test_scanning_a_card_marks_the_booking_attended_once(live_server, tmp_path):
    from playwright.sync_api import sync_playwright

    world = build_world()
    session, order = _todays_booking(world)
    video = write_qr_video(
        tmp_path / "card.y4m", live_server.url + services.card_path(services.beneficiary_for(world.r1))
    )
    with sync_playwright() as playwright:
        browser, page = _scanner(playwright, live_server, world, session, video)
        result = page.locator('[data-testid="kiosk-result"][data-state="ok"]')
        result.wait_for(timeout=20_000)
        assert "张三丰" in result.inner_text()
        page.wait_for_timeout(5_000)  # the fake camera keeps showing the card: repeat scans
        browser.close()
    close_loop_connections()

    order.refresh_from_db()
    assert order.attended_at is not None
    assert order.events.filter(kind=OrderEvent.Kind.ATTENDED).count() == 1
    assert dt.timedelta(0) <= timezone.now() - order.attended_at < dt.timedelta(minutes=2)


def test_without_network_the_scan_is_reported_unrecorded_and_the_card_is_not_kept(live_server, tmp_path):
    """Unlike a grid task's kiosk, the card scanner has no offline queue: a card's token never expires,
    so it must not wait in the phone's storage."""
    from playwright.sync_api import sync_playwright

    world = build_world()
    session, order = _todays_booking(world)
    token = services.card_token(services.beneficiary_for(world.r1))
    video = write_qr_video(
        tmp_path / "card.y4m", live_server.url + services.card_path(services.beneficiary_for(world.r1))
    )
    with sync_playwright() as playwright:
        browser, page = _scanner(playwright, live_server, world, session, video, offline=True)
        result = page.locator('[data-testid="kiosk-result"][data-state="bad"]')
        result.filter(has_text="没有网络").wait_for(timeout=20_000)
        stored = _stored(page)
        browser.close()
    close_loop_connections()

    assert token not in stored and "gongzhi.dining" not in stored
    order.refresh_from_db()
    assert order.attended_at is None
