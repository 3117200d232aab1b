"""The ordering loop in Chromium at phone width (390 px), in Chinese, across four signed-in phones: a
resident books a place at the elder dining point (点单), the organisation's admin accepts it and sends a
volunteer (接单), the resident's grid worker marks it delivered (上菜), and the resident confirms and
rates it (评单) — after which the volunteer and the deliverer have their points, once each."""

import pytest
from django.conf import settings
from django.test import Client

from points.models import Entry
from services_catalog.models import Order, Service
from tests.browser.conftest import PHONE_VIEWPORT, close_loop_connections
from tests.services_catalog.catalogue.support import rated, session
from tests.services_catalog.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phones(chromium, live_server):
    """Signed-in phones: one browser context (own cookies) per person."""
    contexts = []

    def phone_of(person):
        context = chromium.new_context(
            viewport=PHONE_VIEWPORT,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            extra_http_headers={"Accept-Language": "zh-hans,zh;q=0.9"},
            base_url=live_server.url,
        )
        context.set_default_timeout(20_000)
        client = Client()
        client.force_login(person)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        contexts.append(context)
        return context.new_page()

    yield phone_of
    for context in contexts:
        context.close()
    close_loop_connections()


def _status(page) -> str:
    return page.locator("[data-testid=order]").get_attribute("data-status")


def _no_wider_than_the_phone(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_VIEWPORT["width"], width


def test_resident_orders_dining_organisation_accepts_grid_worker_delivers_resident_rates(
    phones, screenshot, chromium
):
    world = build_world()
    Service.objects.filter(pk=world.lunch.pk).update(
        place="星兴社区长者食堂（星兴路 12 号）",
        hours="工作日 11:00–12:30",
        contact_phone="025-58811234",
        description="荤素搭配两菜一汤，少油少盐；行动不便的老人可申请送餐上门。",
        price_kind=Service.Price.SUBSIDISED,
        price="8.00",
        price_note="低保、特困老人免费",
        min_age=None,
    )
    lunch = session(world.lunch, days=1, capacity=20, booked=11)
    session(world.lunch, days=2, capacity=20, booked=20)
    rated(world.lunch, world.r2, world.g1, 5, "饭菜可口，阿姨很热情")
    close_loop_connections()

    # 1. 点单: the resident finds the dining point in the catalogue and books tomorrow's lunch.
    resident = phones(world.r1)
    resident.goto("/services/")
    card = resident.locator(f'[data-testid=service-card][data-code="{world.lunch.code}"]')
    assert "剩余9个名额" in card.inner_text() and "服务您所在网格" in card.inner_text()
    assert card.locator("[data-testid=rating]").get_attribute("data-avg") == "5.0"
    _no_wider_than_the_phone(resident)
    screenshot(resident, "services-catalogue-390")
    card.locator("a").click()
    resident.locator("[data-testid=sessions]").wait_for()
    assert resident.locator("h1").inner_text() == world.lunch.title
    assert "已满" in resident.locator("[data-testid=session]").nth(1).inner_text()
    _no_wider_than_the_phone(resident)
    screenshot(resident, "services-service-page-390")
    resident.locator(f'[data-testid=session][data-session="{lunch.pk}"] [data-testid=book]').click()
    resident.locator('[data-testid=order][data-status="dispatched"]').wait_for()
    assert "预订成功" in resident.locator(".messages").inner_text()
    assert "待接单" in resident.locator("[data-testid=status]").inner_text()
    order = Order.objects.get(resident=world.r1)
    assert order.session_id == lunch.pk and order.organisation == world.org_a
    screenshot(resident, "services-order-booked-390")

    # 2. 接单: the organisation's admin accepts and sends a volunteer.
    admin = phones(world.a_admin)
    admin.goto(f"/services/orders/{order.code}/")
    assert world.r1.name in admin.locator("[data-testid=resident]").inner_text()
    admin.locator("[data-testid=accept-button]").click()
    admin.locator('[data-testid=order][data-status="accepted"]').wait_for()
    admin.locator("[data-testid=assign-box] label", has_text=world.a_member.name).click()
    admin.locator("[data-testid=assign-button]").click()
    admin.locator("[data-testid=volunteers]", has_text=world.a_member.name).wait_for()
    _no_wider_than_the_phone(admin)
    screenshot(admin, "services-order-accepted-admin-390")

    # The volunteer sent opens the order on their own phone.
    volunteer = phones(world.a_member)
    volunteer.goto(f"/services/orders/{order.code}/")
    assert _status(volunteer) == "accepted"
    assert volunteer.locator("[data-testid=deliver-box]").is_visible()

    # 3. 上菜: the resident's grid worker marks it delivered.
    worker = phones(world.gw)
    worker.goto(f"/services/orders/{order.code}/")
    worker.locator("[data-testid=deliver-box] input[name=note]").fill("老人已在食堂用餐")
    worker.locator("[data-testid=deliver-button]").click()
    worker.locator('[data-testid=order][data-status="delivered"]').wait_for()
    assert "已标记为送达" in worker.locator(".messages").inner_text()
    assert worker.locator("[data-testid=confirm-sms-box]").is_visible()

    # 4. 评单: the resident sees it delivered in My orders, confirms and gives five stars.
    resident.goto("/services/orders/")
    assert "待评价" in resident.locator("[data-testid=chip-to_rate]").inner_text()
    resident.locator("[data-testid=to-rate]").wait_for()
    screenshot(resident, "services-my-orders-390")
    resident.locator(f'[data-testid=order-card][data-code="{order.code}"] a').click()
    resident.locator("[data-testid=rate-box]").wait_for()
    page_text = resident.locator("main").inner_text()
    # The resident reads roles and organisations, not the private names of the people serving them.
    assert world.org_a.name in page_text and world.gw.name not in page_text
    assert world.a_admin.name not in page_text and world.a_member.name not in page_text
    assert "老人已在食堂用餐" in page_text
    _no_wider_than_the_phone(resident)
    screenshot(resident, "services-order-to-rate-390")
    resident.locator('label[for="rate-star-5"]').click()
    resident.locator("[data-testid=rate-box] textarea[name=comment]").fill("饭菜热乎，志愿者很耐心")
    resident.locator("[data-testid=confirm-button]").click()
    resident.locator('[data-testid=order][data-status="completed"]').wait_for()
    assert resident.locator("[data-testid=rating]").get_attribute("data-rating") == "5"
    assert resident.locator("[data-testid=thanks]").is_visible()
    screenshot(resident, "services-order-rated-390")

    order.refresh_from_db()
    assert (
        order.status == Order.Status.COMPLETED and order.rating == 5 and order.award == Order.Award.RELEASED
    )
    # The volunteer sent and the grid worker who delivered: one ledger entry each, once.
    entries = Entry.objects.filter(key__startswith=f"order:{order.pk}:")
    assert sorted(entries.values_list("account__person_id", flat=True)) == sorted(
        [world.a_member.pk, world.gw.pk]
    )
    assert all(e.amount == world.lunch.points_per_delivery for e in entries)

    # The rating sent again (a double tap, a replayed form) changes nothing: refused, still two entries.
    resident.evaluate(
        """(action) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = action;
            const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
            for (const [name, value] of [["csrfmiddlewaretoken", token], ["rating", "1"]]) {
                const input = document.createElement("input");
                input.name = name;
                input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }""",
        f"/services/orders/{order.code}/confirm/",
    )
    resident.locator('[data-testid=error][data-code="already_rated"]').wait_for()
    assert Entry.objects.filter(key__startswith=f"order:{order.pk}:").count() == 2
    order.refresh_from_db()
    assert order.rating == 5
    close_loop_connections()
