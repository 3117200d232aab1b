"""Fixtures of the dining pages (cards, rosters, subsidy report, insight): the shared small district
(tests/services_catalog/world.py) built at a fixed moment, and signed-in clients asking for Chinese."""

import pytest
import time_machine
from django.test import Client

from tests.services_catalog.dining.support import MORNING
from tests.services_catalog.world import build_world


@pytest.fixture
def clock():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock):
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
