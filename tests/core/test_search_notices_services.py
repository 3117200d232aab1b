"""Notices and services on the site search page: found by Chinese words inside their text, and only
for those who may see them (a notice's targets, published services)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from core import search
from services_catalog.models import Service
from tests.cms.support import (
    make_notice,
    world,  # noqa: F401 - the fixture
)
from tests.services_catalog.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def _titles(viewer, query, kind):
    return [
        hit.title
        for group in search.search(viewer=viewer, query=query, kinds=[kind])
        for _o, hit in group.hits
    ]


def test_notices_are_found_by_the_people_they_target_only(world):  # noqa: F811
    make_notice("冬季消防安全检查的通知", public=True)
    make_notice("第一网格燃气隐患排查安排", targets=[{"grid": world.g1}])
    make_notice("消防演练草稿", publish=False)
    assert _titles(world.in_g1, "隐患排查", "notice") == ["第一网格燃气隐患排查安排"]
    assert _titles(world.in_g3, "隐患排查", "notice") == []
    assert _titles(world.in_g1, "消防", "notice") == ["冬季消防安全检查的通知"]
    assert _titles(AnonymousUser(), "安全检查", "notice") == ["冬季消防安全检查的通知"]
    assert _titles(AnonymousUser(), "燃气", "notice") == []


def test_a_notice_is_found_by_words_of_its_body(world, client):  # noqa: F811
    make_notice("关于开展活动的通知", public=True)  # body: "关于开展活动的通知的正文。"
    assert _titles(world.in_g4, "正文", "notice") == ["关于开展活动的通知"]
    page = client.get(reverse("core:search"), {"q": "开展活动"}).content.decode()
    assert 'data-testid="results-notice"' in page


def test_services_are_found_when_published(db):
    ServiceFactory(title="老年助餐服务", description="每天中午为老人提供热菜热饭", place="星兴社区助餐点")
    ServiceFactory(title="助餐服务（草稿）", status=Service.Status.DRAFT)
    for query in ("助餐", "热饭", "老人", "助餐点"):
        assert _titles(None, query, "service") == ["老年助餐服务"], query
    assert _titles(None, "理发", "service") == []


def test_search_page_query_count_does_not_grow_with_notices_and_services(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("core:search"), {"q": "消防"}).status_code == 200
        return len(ctx)

    for i in range(2):
        make_notice(f"消防通知{i}", public=True)
        ServiceFactory(title=f"消防培训{i}")
    count()  # the first request fills the site-root cache that page URLs use
    few = count()
    for i in range(2, 5):
        make_notice(f"消防通知{i}", public=True)
        ServiceFactory(title=f"消防培训{i}")
    assert count() == few
