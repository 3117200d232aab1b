"""Who sees which notice: the targeting matrix, on the index, the notice page and the home page block, and
the agreement of the two directions of the rule (reader → notices, notice → people)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms import selectors
from cms.models import HomePage, NoticePage
from tests.cms.support import make_notice
from volunteers.models import User

pytestmark = pytest.mark.django_db

VIEWERS = ["anonymous", "in_g1", "in_g2", "in_g3", "in_g4", "party", "worker", "homeless"]
VIEWERS += ["staff_c1", "staff_s1", "staff_s2", "staff_d", "admin"]


@pytest.fixture
def notices(world):
    now = timezone.now()
    w = world
    return {
        "public": make_notice("公开通知", public=True),
        "grid1": make_notice("第一网格通知", targets=[{"grid": w.g1}]),
        "community1": make_notice("星兴社区通知", targets=[{"community": w.c1}]),
        "street1": make_notice("星甸街道通知", targets=[{"street": w.s1}]),
        "street2": make_notice("汤泉街道通知", targets=[{"street": w.s2}]),
        "party": make_notice("致全体党员", targets=[{"role": "identity:party_member"}]),
        "c2_workers": make_notice("后圩网格员", targets=[{"community": w.c2, "role": "role:grid_worker"}]),
        "c1_or_g4": make_notice("两处通知", targets=[{"community": w.c1}, {"grid": w.g4}]),
        "staff": make_notice("致街道干部", targets=[{"role": "role:street_staff"}]),
        "draft": make_notice("草稿", targets=[{"grid": w.g1}], publish=False),
        "expired": make_notice("过期通知", targets=[{"grid": w.g1}], expire_at=now + timedelta(minutes=1)),
    }


# Who may read what. Targets: one's home grid, its community or street, or a role held; staff also read
# the notices whose targets reach into their area (or name no place); the public reads public notices.
EXPECTED = {
    "anonymous": {"public"},
    "in_g1": {"public", "grid1", "community1", "street1", "c1_or_g4"},
    "in_g2": {"public", "community1", "street1", "c1_or_g4"},
    "in_g3": {"public", "street1"},
    "in_g4": {"public", "street2", "c1_or_g4"},
    "party": {"public", "street2", "party", "c1_or_g4"},
    "worker": {"public", "street1", "c2_workers"},
    "homeless": {"public", "party"},
    # Community staff of C1 (home grid none): C1's notices, S1's (it contains C1), and place-less ones.
    "staff_c1": {"public", "grid1", "community1", "street1", "c1_or_g4", "party", "staff"},
    "staff_s1": {"public", "grid1", "community1", "street1", "c2_workers", "c1_or_g4", "party", "staff"},
    "staff_s2": {"public", "street2", "c1_or_g4", "party", "staff"},
    "staff_d": {"public", "grid1", "community1", "street1", "street2", "party", "c2_workers", "c1_or_g4"}
    | {"staff"},
    "admin": {"public", "grid1", "community1", "street1", "street2", "party", "c2_workers", "c1_or_g4"}
    | {"staff"},
}


def viewer(world, name):
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser() if name == "anonymous" else User.objects.get(pk=world.people[name].pk)


def expire(notices):
    # The expired notice is live until its expiry passes (publish_scheduled would unpublish it later).
    NoticePage.objects.filter(pk=notices["expired"].pk).update(
        expire_at=timezone.now() - timedelta(seconds=1)
    )


def test_targeting_matrix_on_the_index_and_the_notice_pages(client, world, notices):
    expire(notices)
    by_pk = {notice.pk: key for key, notice in notices.items()}
    for name in VIEWERS:
        person = viewer(world, name)
        client.logout()
        if name != "anonymous":
            client.force_login(person)

        listed = {by_pk[n.pk] for n in selectors.visible_notices(viewer=person)}
        assert listed == EXPECTED[name], name

        page = client.get(world.index.url).content.decode()
        for key, notice in notices.items():
            assert (notice.title in page) == (key in EXPECTED[name]), (name, key)
            response = client.get(notice.url)
            # Not targeted, a draft or expired: "not found", not a refusal that would confirm it exists.
            assert response.status_code == (200 if key in EXPECTED[name] else 404), (name, key)


def test_a_notice_targets_exactly_the_people_its_audience_holds(world, notices):
    """The reader-side filter (rows_matching) and the notice-side one (audience) are the same rule."""
    for name in VIEWERS[1:]:
        person = viewer(world, name)
        for key, notice in notices.items():
            in_audience = selectors.audience(notice=notice).filter(pk=person.pk).exists()
            assert in_audience == selectors.is_targeted(person=person, notice=notice), (name, key)


def test_home_page_block_lists_only_the_readers_notices(client, world, notices):
    home = HomePage.objects.first()
    home.body = [("latest_notices", {"title": "", "count": 10})]
    home.save_revision().publish()
    client.force_login(world.in_g4)
    page = client.get("/").content.decode()
    assert notices["street2"].title in page and notices["public"].title in page
    assert notices["grid1"].title not in page and notices["community1"].title not in page
    client.logout()
    page = client.get("/").content.decode()
    assert notices["public"].title in page and notices["street2"].title not in page


def _queries(client, url) -> int:
    client.get(url)  # warm-up: per-process caches (content types, site root paths)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


@pytest.mark.parametrize("who", ["anonymous", "in_g1", "staff_s1"])
def test_notice_index_query_count_does_not_grow_with_notices(client, world, who):
    if who != "anonymous":
        client.force_login(world.people[who])

    def add(n):
        for i in range(n):
            make_notice(f"通知{i}", public=True, must_read=False)
            make_notice(f"网格通知{i}", targets=[{"grid": world.g1}, {"role": "identity:party_member"}])

    add(1)
    few = _queries(client, world.index.url)
    add(6)
    many = _queries(client, world.index.url)
    assert few == many, f"{few} queries with 2 notices, {many} with 14"


def test_notice_index_is_paginated(client, world):
    for i in range(NoticePage._meta.model.objects.count(), 17):
        make_notice(f"公开{i}", public=True)
    first = client.get(world.index.url).content.decode()
    second = client.get(world.index.url + "?page=2").content.decode()
    assert first.count('data-testid="notice-item"') == 15
    assert second.count('data-testid="notice-item"') == 2
    assert client.get(world.index.url + "?page=abc").status_code == 200
