"""Site search in Chinese: words inside phrases are found on SQLite (FTS5) and PostgreSQL (tsvector),
only what the visitor may see is listed, and any input gets a page, never an error."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.search.models import IndexEntry

from core import search
from tests.factories import UserFactory
from tests.gridtasks.factories import GridTaskFactory
from volunteers.gridtasks.models import GridTask
from volunteers.models import DutyCategory

pytestmark = pytest.mark.django_db

TITLE = "老旧小区消防安全隐患排查"


@pytest.fixture
def hazard_task():
    return GridTaskFactory(
        title=TITLE,
        description="重点检查楼道堆物、电动车违规充电和消防通道堵塞情况。",
        place_name="星兴社区3号楼",
        category=DutyCategory.objects.get(code="hazard"),
    )


def _found(query, viewer=None) -> list[str]:
    results = search.search(viewer=viewer or UserFactory(), query=query, kinds=["task"], limit=50)
    return [hit.title for group in results for _obj, hit in group.hits]


def test_segmentation_splits_chinese_into_words():
    assert search.segment_query("安全排查") == ["安全", "排查"]
    assert search.segment_query("消防") == ["消防"]
    indexed = search.segment_for_index(TITLE).split()
    assert {"老旧", "小区", "消防", "安全", "隐患", "排查", "消防安全"} <= set(indexed)


@pytest.mark.parametrize("query", ["消防", "隐患", "安全排查", "小区", "老旧小区", "消防安全", TITLE])
def test_a_task_is_found_by_words_inside_its_title(hazard_task, query):
    assert _found(query) == [TITLE]


@pytest.mark.parametrize("query", ["电动车", "充电", "通道", "3号楼", "星兴", "安全隐患排查"])
def test_a_task_is_found_by_its_description_place_and_duty(hazard_task, query):
    assert _found(query) == [TITLE]


@pytest.mark.parametrize("query", ["垃圾分类", "消防 垃圾", "助餐"])
def test_a_query_without_a_match_finds_nothing(hazard_task, query):
    assert _found(query) == []


def test_every_word_of_the_query_must_match(hazard_task):
    GridTaskFactory(title="楼道消防检查", description="")
    GridTaskFactory(title="夜间巡逻", description="顺带查看消防栓")
    assert set(_found("消防")) == {TITLE, "楼道消防检查", "夜间巡逻"}
    assert _found("消防 巡逻") == ["夜间巡逻"]


def test_drafts_and_cancelled_tasks_are_not_found(hazard_task):
    GridTaskFactory(title="消防演练（草稿）", status=GridTask.Status.DRAFT)
    GridTaskFactory(title="消防演练（取消）", status=GridTask.Status.CANCELLED)
    assert _found("消防演练") == []
    assert _found("消防") == [TITLE]


def test_an_edited_title_is_searched_by_its_new_words(hazard_task):
    hazard_task.title = "独居老人走访"
    hazard_task.save()
    assert _found("走访") == ["独居老人走访"]
    assert _found("小区") == []


def test_a_status_change_does_not_reindex(hazard_task, monkeypatch):
    calls = []
    monkeypatch.setattr(search.index, "insert_or_update_object", calls.append)
    hazard_task.status = GridTask.Status.CANCELLED
    hazard_task.save(update_fields=["status", "updated_at"])
    assert calls == []
    hazard_task.place_name = "新地点"
    hazard_task.save(update_fields=["place_name"])
    assert calls == [hazard_task]


def test_a_deleted_task_leaves_the_index(hazard_task):
    hazard_task.delete()
    assert not IndexEntry.objects.exists()


def test_update_index_rebuilds_the_index(hazard_task):
    IndexEntry.objects.all().delete()
    assert _found("消防") == []
    call_command("update_index", verbosity=0)
    assert _found("消防") == [TITLE]


@pytest.mark.parametrize(
    "query", ["", "   ", "！！！，，。。", "'\"*()-:^", "消防" * 5000, "a" * 10_000, "\x00"]
)
def test_odd_queries_get_a_page_not_an_error(client, hazard_task, query):
    response = client.get(reverse("core:search"), {"q": query})
    assert response.status_code == 200


@pytest.mark.parametrize("page", ["²", "-1", "0", "abc", "99999999999999999999", ""])
def test_odd_page_numbers_get_the_first_page(client, hazard_task, page):
    response = client.get(reverse("core:search"), {"q": "消防", "kind": "task", "page": page})
    assert response.status_code == 200
    assert response.content.decode().count('class="search-hit-title"') == 1


def test_a_very_long_query_is_cut_rather_than_refused(hazard_task):
    assert _found("消防" + "。" * 5000) == [TITLE]
    assert len(search.segment_query("消防安全" * 1000)) <= search.MAX_QUERY_WORDS


def test_search_page_groups_results_and_links_to_the_task(client, hazard_task):
    response = client.get(reverse("core:search"), {"q": "安全排查"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="results-task"' in page
    assert reverse("gridtasks:detail", args=[hazard_task.public_code]) in page
    assert "<mark>" in page  # the matched word is marked in the excerpt


def test_search_page_says_so_when_nothing_matches(client, hazard_task):
    response = client.get(reverse("core:search"), {"q": "垃圾分类"})
    assert 'data-testid="no-results"' in response.content.decode()


def test_search_page_escapes_the_query(client, hazard_task):
    response = client.get(reverse("core:search"), {"q": "<script>alert(1)</script>消防"})
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;消防" in page  # kept in the search box, escaped


def test_one_kind_is_paged(client):
    GridTaskFactory.create_batch(23, title="消防巡查")
    first = client.get(reverse("core:search"), {"q": "消防", "kind": "task"}).content.decode()
    second = client.get(reverse("core:search"), {"q": "消防", "kind": "task", "page": "2"}).content.decode()
    assert first.count('class="search-hit-title"') == 20
    assert second.count('class="search-hit-title"') == 3
    assert "1 / 2" in first
    bad_page = client.get(reverse("core:search"), {"q": "消防", "kind": "task", "page": "x"})
    assert bad_page.status_code == 200


def test_search_page_query_count_does_not_grow_with_results(client):
    client.force_login(UserFactory())
    url = reverse("core:search")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"q": "消防"}).status_code == 200
        return len(ctx)

    GridTaskFactory.create_batch(2, title="消防巡查")
    few = count()
    GridTaskFactory.create_batch(10, title="消防巡查")
    assert count() == few


def test_task_list_filters_by_words(client, hazard_task):
    GridTaskFactory(title="夜间巡逻")
    page = client.get(reverse("gridtasks:list"), {"q": "安全排查"}).content.decode()
    assert TITLE in page and "夜间巡逻" not in page
    page = client.get(reverse("gridtasks:list"), {"q": "！！"}).content.decode()
    assert TITLE not in page and "夜间巡逻" not in page  # words were given, none can match


def test_task_api_filters_by_words(client, hazard_task):
    GridTaskFactory(title="夜间巡逻")
    response = client.get("/api/v1/tasks", {"q": "消防"})
    assert response.status_code == 200
    assert [t["title"] for t in response.json()["items"]] == [TITLE]
    assert client.get("/api/v1/tasks", {"q": "消" * 201}).status_code == 422


def test_highlight_marks_every_query_word_and_joins_neighbours():
    words = search.segment_query("助餐")  # not a dictionary word: 助 + 餐
    assert search.highlight("长者助餐点，送餐上门", words) == [
        ("长者", False),
        ("助餐", True),
        ("点，送", False),
        ("餐", True),
        ("上门", False),
    ]
    pieces = search.highlight("甲" * 100 + "消防" + "乙" * 100, ["消防"], width=30)
    assert pieces[0] == ("…", False) and pieces[-1] == ("…", False)
    assert ("消防", True) in pieces
    assert search.highlight("", ["消防"]) == []
