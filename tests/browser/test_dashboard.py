"""The staff dashboard in a real browser: Chart.js draws every chart the page announces, on a phone and on a
desktop, the page does not scroll sideways, and a table's XLSX link downloads a workbook."""

from io import BytesIO

import pytest
from django.conf import settings
from django.test import Client
from openpyxl import load_workbook

from tests.dashboard.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DESKTOP_VIEWPORT = {"width": 1366, "height": 900}


def signed_in(context, person, live_server):
    client = Client()
    client.force_login(person)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def drawn_charts(page) -> tuple[int, int]:
    """(charts Chart.js made, canvases on the page) once the deferred scripts have run."""
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length > 0")
    return page.evaluate(
        "() => [Object.keys(Chart.instances).length, document.querySelectorAll('canvas[data-chart]').length]"
    )


def sideways_overflow(page) -> int:
    # The admin scrolls its main column; wide tables scroll inside their own wrapper instead.
    return page.evaluate(
        """() => Math.max(
            document.documentElement.scrollWidth - document.documentElement.clientWidth,
            document.querySelector('main').scrollWidth - document.querySelector('main').clientWidth)"""
    )


@pytest.fixture
def world(live_server):
    return build_world()


def test_district_admin_sees_every_chart_drawn_on_a_phone_and_a_desktop(chromium, phone, world, live_server):
    signed_in(phone.context, world.staff["district"], live_server)

    phone.goto("/admin/statistics/?start=2026-01&end=2026-03")
    made, canvases = drawn_charts(phone)

    assert canvases > 5
    assert made == canvases
    assert sideways_overflow(phone) <= 0
    totals = phone.locator('[data-testid="table-tasks_by_month"] tfoot').inner_text().split()
    assert totals[1:4] == ["5", "10", "5"]  # tasks held, places taken, attendances

    desktop = chromium.new_context(viewport=DESKTOP_VIEWPORT, locale="zh-CN", base_url=live_server.url)
    page = desktop.new_page()
    signed_in(desktop, world.staff["district"], live_server)
    page.goto("/admin/statistics/?start=2026-01&end=2026-03")
    assert drawn_charts(page)[0] == canvases
    desktop.close()


def test_a_tables_xlsx_link_downloads_its_figures(phone, world, live_server):
    signed_in(phone.context, world.staff["community_a"], live_server)
    phone.goto("/admin/statistics/?start=2026-01&end=2026-03")

    with phone.expect_download() as download:
        phone.locator('[data-testid="table-people_by_month"] a[download]').click()

    book = load_workbook(BytesIO(open(download.value.path(), "rb").read()))  # noqa: SIM115
    values = [row for row in book.worksheets[0].iter_rows(min_row=5, values_only=True) if row[0]]
    assert [row[1:] for row in values[:3]] == [(1, 1), (1, 1), (1, 1)]
