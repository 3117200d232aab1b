"""Fixtures of the residents' service pages: the shared small district (tests/services_catalog/world.py)
and a way to read what a page says."""

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
