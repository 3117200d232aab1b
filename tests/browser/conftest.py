"""Playwright against pytest-django's live_server, driving Debian's Chromium at a phone's size."""

import os
from pathlib import Path

import pytest

# live_server runs Django in a thread while Playwright's sync API runs an event loop in this one;
# Django would otherwise refuse database access from "async" context.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_VIEWPORT = {"width": 390, "height": 844}
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"


def close_loop_connections():
    """Close the database connections made while Playwright's event loop ran in this thread. Django keeps
    connections per thread *and* per async context, so queries a test makes between browser steps open a
    connection of their own that the test database's teardown would otherwise find still open."""
    from django.db import connections

    connections.close_all()


@pytest.fixture(scope="module")
def chromium():
    # Module scope: one browser per test file, and no Playwright left running when another file's tests
    # start their own sync_playwright() in this thread.
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
        close_loop_connections()


@pytest.fixture
def phone(chromium, live_server):
    """A fresh browser tab sized like a phone, asking for Chinese, with its own cookies."""
    context = chromium.new_context(
        viewport=PHONE_VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-hans,zh;q=0.9"},
        base_url=live_server.url,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def home_page(transactional_db):
    """The CMS home page at "/". A transactional test before this one may have flushed the tables that
    the cms migration filled (and serialized rollback clashes with the content types a flush re-creates),
    so build the page tree again when it is missing."""
    from django.conf import settings
    from wagtail.models import Locale, Page, Site

    from cms.models import HomePage

    home = HomePage.objects.first()
    if home is None:
        Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
        root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
        home = root.add_child(instance=HomePage(title="共治", slug="home"))
    if not Site.objects.filter(is_default_site=True).exists():
        Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="共治 Gongzhi"
        )
    return home


@pytest.fixture
def screenshot():
    """Save a full-page PNG into test-results/ (gitignored) and return its path."""
    RESULTS_DIR.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = RESULTS_DIR / f"{name}.png"
        # The tab bar is fixed to the bottom of the screen; in a full-page picture it would sit on top of
        # whatever is at the fold, so it is drawn at the end of the page instead.
        page.screenshot(path=str(path), full_page=True, style=".tabbar { position: static; }")
        return path

    return take
