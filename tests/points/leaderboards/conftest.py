import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from points.models import Account, Entry
from points.services.ledger import do_post
from tests.factories import CommunityFactory, GridFactory, StreetFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
_keys = itertools.count()


def at(year, month, day=15, hour=12, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def post(person, amount, *, when=None, kind=Entry.Kind.ATTENDANCE, unit=Account.Unit.POINTS, reverses=None):
    """Post through the ledger, at a chosen time (the entry's created_at is the posting time)."""

    def go():
        return do_post(
            person_id=person.pk,
            amount=amount,
            kind=kind,
            key=f"test:{next(_keys)}",
            reason=f"{kind} {amount}",
            unit=unit,
            reverses=reverses,
        ).entry

    if when is None:
        return go()
    with time_machine.travel(when, tick=False):
        return go()


def reverse(entry, *, when=None):
    from points.services.ledger import do_reverse

    if when is None:
        return do_reverse(entry_id=entry.pk, actor=None, reason="mistake").entry
    with time_machine.travel(when, tick=False):
        return do_reverse(entry_id=entry.pk, actor=None, reason="mistake").entry


@pytest.fixture
def places(db):
    """Two streets; street A has two communities, community A1 two grids."""
    street_a, street_b = StreetFactory(name="东街"), StreetFactory(name="西街")
    a1, a2 = (
        CommunityFactory(street=street_a, name="一社区"),
        CommunityFactory(street=street_a, name="二社区"),
    )
    b1 = CommunityFactory(street=street_b, name="三社区")
    grids = {
        "a1x": GridFactory(community=a1, name="一网格"),
        "a1y": GridFactory(community=a1, name="二网格"),
        "a2x": GridFactory(community=a2, name="三网格"),
        "b1x": GridFactory(community=b1, name="四网格"),
    }
    return {"street_a": street_a, "street_b": street_b, "a1": a1, "a2": a2, "b1": b1, **grids}


@pytest.fixture
def person_in():
    def make(grid, name=None, **kwargs):
        if name is not None:
            kwargs["name"] = name
        return UserFactory(home_grid=grid, **kwargs)

    return make
