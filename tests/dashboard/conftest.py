import pytest
import time_machine

from .world import NOW, build_world


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def frozen():
    """Requests happen on 20 March 2026 (Shanghai): the default period is April 2025 to March 2026."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def as_staff(client, world, frozen):
    def login(role):
        client.force_login(world.staff[role])
        return client

    return login
