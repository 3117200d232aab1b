"""The home page's live blocks (open grid tasks, leaderboard extract, notices) and the milestones timeline:
what they show, and that their query counts do not grow with rows."""

import itertools
from datetime import date, timedelta
from io import BytesIO

import pytest
from django.core.files.images import ImageFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.images.models import Image

from cms.models import HomePage, MilestoneEntry, MilestonesPage
from points.leaderboards.models import OptOut
from points.services.ledger import do_post
from tests.cms.support import make_notice
from tests.factories import UserFactory
from tests.gridtasks.factories import GridTaskFactory
from volunteers.gridtasks.models import GridTask
from volunteers.models import DutyCategory

pytestmark = pytest.mark.django_db
_keys = itertools.count()


@pytest.fixture
def home(world):
    DutyCategory.objects.get_or_create(code="patrol", defaults={"name": "社会治安巡查"})
    page = HomePage.objects.first()
    page.body = [
        ("latest_notices", {"title": "", "count": 3}),
        ("open_tasks", {"title": "", "count": 3}),
        ("leaderboard", {"title": "", "period": "month", "place": "district", "count": 3}),
    ]
    page.save_revision().publish()
    return page


def earn(person, amount):
    do_post(
        person_id=person.pk, amount=amount, kind="attendance", key=f"cms-test:{next(_keys)}", reason="巡防"
    )


def count_queries(client, url="/") -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_open_tasks_block_shows_published_upcoming_tasks_with_places_soonest_first(client, home, world):
    now = timezone.now()
    soon = GridTaskFactory(title="明早巡防", grid=world.g1, starts_at=now + timedelta(hours=10))
    later = GridTaskFactory(title="后天宣讲", grid=world.g2, starts_at=now + timedelta(days=2))
    GridTaskFactory(title="最晚的任务", grid=world.g2, starts_at=now + timedelta(days=5))
    GridTaskFactory(title="第四个任务", grid=world.g2, starts_at=now + timedelta(days=6))  # beyond the count
    GridTaskFactory(title="已满任务", grid=world.g1, capacity=1, taken=1, starts_at=now + timedelta(hours=5))
    GridTaskFactory(
        title="草稿任务", grid=world.g1, status=GridTask.Status.DRAFT, starts_at=now + timedelta(hours=6)
    )
    GridTaskFactory(
        title="进行中任务",
        grid=world.g1,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
    )
    page = client.get("/").content.decode()
    block = page[page.index('data-testid="home-tasks"') :]
    assert block.index(soon.title) < block.index(later.title) < block.index("最晚的任务")
    for hidden in ("第四个任务", "已满任务", "草稿任务", "进行中任务"):
        assert hidden not in block


def test_leaderboard_block_masks_names_and_leaves_out_people_who_opted_out(client, home, world):
    top, hidden, third = (UserFactory(name=n, home_grid=world.g1) for n in ("欧阳春花", "李秘密", "王小明"))
    earn(top, 50)
    earn(hidden, 40)
    earn(third, 30)
    OptOut.objects.create(person=hidden, opted_out=True)
    page = client.get("/").content.decode()
    start = page.index('data-testid="home-leaderboard"')
    block = page[start : page.index("</section>", start)]
    assert "欧**花" in block and "王*明" in block
    assert "欧阳春花" not in block and "王小明" not in block
    assert "李*密" not in block and ">40<" not in block  # opted out: not on the board at all
    assert block.index("欧**花") < block.index("王*明")


def test_home_page_query_count_does_not_grow_with_rows(client, home, world):
    client.force_login(world.in_g1)
    now = timezone.now()

    def add(n):
        for i in range(n):
            GridTaskFactory(grid=world.g1, starts_at=now + timedelta(days=1 + i))
            make_notice(f"通知{i}", targets=[{"grid": world.g1}])
            earn(UserFactory(home_grid=world.g2), 10 + i)

    add(1)
    few = count_queries(client)
    add(5)
    assert count_queries(client) == few


def test_milestones_timeline_newest_first_grouped_by_year(client, world):
    buffer = BytesIO()
    from PIL import Image as Picture

    Picture.new("RGB", (64, 32), "#c8161d").save(buffer, format="PNG")
    image = Image(title="合影", file=ImageFile(buffer, name="photo.png"))
    image.save()
    home = HomePage.objects.first()
    page = home.add_child(
        instance=MilestonesPage(
            title="联勤大事记",
            slug="milestones",
            entries=[
                MilestoneEntry(date=date(2024, 3, 18), title="成立领导小组", text="统筹推进。"),
                MilestoneEntry(date=date(2025, 1, 10), title="发布网格清单", image=image),
                MilestoneEntry(date=date(2024, 9, 20), title="岗亭配齐物品"),
            ],
        )
    )
    page.save_revision().publish()
    html = client.get(page.url).content.decode()
    assert html.index("发布网格清单") < html.index("岗亭配齐物品") < html.index("成立领导小组")
    assert html.index('id="year-2025"') < html.index('id="year-2024"')
    assert "<img" in html and "timeline-image" in html

    few = count_queries(client, page.url)
    for i in range(6):
        entry = MilestoneEntry(date=date(2023, 1 + i, 1), title=f"条目{i}", image=image)
        page.entries.add(entry)
    page.save_revision().publish()
    assert count_queries(client, page.url) == few
