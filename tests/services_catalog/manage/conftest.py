"""Fixtures of the workbench pages: the shared small district (tests/services_catalog/world.py), signed-in
clients asking for Chinese, and a way to read what a page says."""

import html
import re

import pytest
from django.test import Client

from tests.services_catalog.world import build_world


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def client_for():
    """A test client signed in as `person` (or signed out for None), asking for Chinese."""

    def make(person=None):
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        if person is not None:
            client.force_login(person)
        return client

    return make


def text(response) -> str:
    """The visible text of the page's <main>, entities decoded."""
    page = response.content.decode()
    start, end = page.find("<main"), page.find("</main>")
    body = page[start:end] if start != -1 else page
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", body).split()))


def codes(response, testid="order") -> list[str]:
    """The data-code of each element with that data-testid, in page order."""
    return re.findall(rf'data-testid="{testid}" data-code="([^"]+)"', response.content.decode())


def street2_service(world):
    """A centre-dispatched request serving street s2 (the world's own services serve s1)."""
    from tests.services_catalog.factories import ServiceFactory

    return ServiceFactory(title="邻街助洁", street=world.s2, area_streets=[world.s2])
