"""Demo content, for the seed_demo command (site/demo): the notice index with notices of each kind (public,
for one grid, must-read for a community, one waiting for approval, one scheduled), the milestones timeline
and the service-point pages. Adds only what is missing. Notices are published through Wagtail's
revisions, so they are delivered as real ones are."""

from datetime import date, timedelta
from io import BytesIO

from django.core.files.images import ImageFile
from django.utils import timezone
from PIL import Image as Picture
from PIL import ImageDraw
from wagtail.images.models import Image

from services_catalog.models import ServiceCategory
from volunteers.models import Community, Grid, Organisation, Street, User

from .models import (
    HomePage,
    MilestoneEntry,
    MilestonesPage,
    NoticeIndexPage,
    NoticePage,
    NoticeTarget,
    ServicePointPage,
)

NOTICES = [
    # title, summary, body, issuer, must read, public, targets [(place kind, code, role)], author, publisher
    (
        "关于开展“最美网格员”评选活动的通知",
        "即日起至月底，各社区推荐“最美网格员”候选人，群众可在网格内投票。",
        "<p>为表彰在网格化社会治理中表现突出的专、兼职网格员，街道决定开展“最美网格员”评选活动。</p>"
        "<h2>评选范围</h2><p>全街道专职网格员、兼职网格员（含楼栋长、乡贤、老党员）。</p>"
        "<h2>评选办法</h2><ol><li>各社区（村）网格化服务管理中心推荐 1–2 名候选人；</li>"
        "<li>候选人事迹在本平台公示 7 天；</li><li>结合月度考核“红蓝黄”结果和群众评价确定人选。</li></ol>",
        "星甸街道网格化服务管理中心",
        False,
        True,
        [],
        "13900000002",
        "13900000002",
    ),
    (
        "星兴社区第一网格本周六开展消防安全演练",
        "周六上午 9:00 在文化广场集合，请网格内居民、楼栋长和志愿者准时参加。",
        "<p>为提高居民火灾逃生自救能力，星兴社区第一网格将于本周六上午开展消防安全演练。</p>"
        "<ul><li>集合地点：文化广场东侧；</li><li>演练内容：灭火器使用、楼道疏散、应急包使用；</li>"
        "<li>老年人和行动不便的居民请提前联系楼栋长，安排志愿者陪同。</li></ul>",
        "星兴社区网格化服务管理中心",
        False,
        False,
        [("grid", "xingxing-1", "")],
        "13900000003",
        "13900000002",
    ),
    (
        "关于做好冬季夜间巡防工作的通知（必读）",
        "冬季夜间巡防分上、下半夜两班，参加前请阅读安全要求并确认。",
        "<p>进入冬季，夜间盗窃和用火用电隐患增多。社区组织居民开展常态化巡夜，分两个班组开展上、下半夜"
        "不间断治安巡防。</p><h2>安全要求</h2><ol><li>两人一组，穿反光背心，携带手电和对讲机；</li>"
        "<li>发现可疑情况不要单独处置，立即报告网格员或拨打 110；</li>"
        "<li>巡查结束后在平台签退，记录发现的问题。</li></ol>",
        "星兴社区网格化服务管理中心",
        True,
        False,
        [("community", "xingxing", "")],
        "13900000003",
        "13900000002",
    ),
    (
        "致全体党员：参加“党员进网格”志愿服务",
        "请各网格党员本月内至少参加一次网格任务，在平台报名即可。",
        "<p>各位党员同志：请发挥先锋模范作用，本月内至少参加一次网格巡查、政策宣讲或为民代办服务，"
        "在“网格任务”中报名。参加情况计入志愿服务时长。</p>",
        "星甸街道党工委",
        False,
        False,
        [("street", "xingdian", "identity:party_member")],
        "13900000002",
        "13900000002",
    ),
]
# Submitted by community staff, waiting for the street's approval.
PENDING = (
    "星兴社区垃圾分类积分兑换日安排",
    "每月最后一个周六，凭垃圾分类积分兑换生活用品。",
    "<p>每月最后一个周六上午 9:00–11:00，在社区党群服务中心一楼开展垃圾分类积分兑换。</p>",
    "星兴社区网格化服务管理中心",
    [("community", "xingxing", "")],
    "13900000003",
)
# Approved, going live in two days.
SCHEDULED = (
    "元旦假期安全提示",
    "假期出行注意交通安全，家中用火用电注意防范。",
    "<p>元旦假期将至，请大家注意出行安全、用火用电安全，独居老人家中请邻里多关照。</p>",
    "星甸街道网格化服务管理中心",
    [("street", "xingdian", "")],
    "13900000002",
)

MILESTONES = [
    (
        date(2024, 3, 18),
        "成立大联勤网格化社会治理工作领导小组",
        "街道党工委统筹，建立街道、社区（村）“二级中心+网格”的三级网络。",
        False,
    ),
    (
        date(2024, 6, 6),
        "完成网格划分，配齐“一专四兼”网格员",
        "按照 300–500 户一个网格的标准划分网格，每个网格配备 1 名专职、4 名兼职网格员。",
        True,
    ),
    (date(2024, 9, 20), "大联勤治安岗亭配齐便民物品", "岗亭免费提供雨伞、应急包、打气筒和常用药品。", False),
    (
        date(2025, 1, 10),
        "发布“9-81”全要素网格清单",
        "9 大类 22 小类共 81 项网格工作，明确“全科网格员”六大角色。",
        False,
    ),
    (
        date(2025, 6, 30),
        "首次“红蓝黄”三色公示月度考核结果",
        "从工作制度、平台运用、工单实绩和群众评价四个维度考核网格工作。",
        False,
    ),
    (
        date(2025, 11, 15),
        "发布《星甸街道社会治理大数据分析报告》",
        "对比分析大联勤工单、12345 热线工单等数据，形成网格化预警预报。",
        False,
    ),
    (date(2026, 5, 8), "“共治”平台上线", "居民、志愿者和网格员在手机上报名任务、扫码签到、积分兑换。", False),
]

# Short Latin addresses: the link in a notice's SMS stays short (a Chinese slug is percent-encoded).
SLUGS = {
    "关于开展“最美网格员”评选活动的通知": "best-grid-worker",
    "星兴社区第一网格本周六开展消防安全演练": "fire-drill",
    "关于做好冬季夜间巡防工作的通知（必读）": "winter-night-patrol",
    "致全体党员：参加“党员进网格”志愿服务": "party-members-in-grids",
    "星兴社区垃圾分类积分兑换日安排": "waste-sorting-day",
    "元旦假期安全提示": "new-year-safety",
}

# Community colours for the grid map drawn for the milestones page (no photos ship with the demo).
_COLOURS = ["#c8161d", "#d9a43a", "#1d5fbf", "#1a7f4b", "#8e44ad", "#e67e22", "#16a085"]


def _person(phone: str) -> User:
    return User.objects.get(phone=f"+86{phone}")


def _targets(specs) -> list[NoticeTarget]:
    rows = []
    for kind, code, role in specs:
        place = {}
        if kind == "grid":
            place["grid"] = Grid.objects.get(code=code)
        elif kind == "community":
            place["community"] = Community.objects.get(code=code)
        elif kind == "street":
            place["street"] = Street.objects.get(code=code)
        rows.append(NoticeTarget(role=role, **place))
    return rows


def _notice(index, title, summary, body, issuer, must_read, public, targets, author) -> NoticePage:
    notice = NoticePage(
        title=title,
        slug=SLUGS[title],
        summary=summary,
        body=body,
        issuer=issuer,
        must_read=must_read,
        is_public=public,
        owner=author,
        targets=_targets(targets),
        live=False,  # a draft until a revision is published, as in the admin
    )
    index.add_child(instance=notice)
    return notice


def seed_notices(home: HomePage) -> NoticeIndexPage:
    index = NoticeIndexPage.objects.first()
    if index is not None:
        return index
    index = home.add_child(
        instance=NoticeIndexPage(title="通知公告", slug="notices", intro="街道、社区和网格发布的通知。")
    )
    index.save_revision().publish()
    for title, summary, body, issuer, must_read, public, targets, author, publisher in NOTICES:
        notice = _notice(index, title, summary, body, issuer, must_read, public, targets, _person(author))
        notice.save_revision(user=notice.owner).publish(user=_person(publisher))

    title, summary, body, issuer, targets, author = PENDING
    pending = _notice(index, title, summary, body, issuer, False, False, targets, _person(author))
    pending.save_revision(user=pending.owner)
    pending.get_workflow().start(pending, pending.owner)

    title, summary, body, issuer, targets, author = SCHEDULED
    scheduled = _notice(index, title, summary, body, issuer, False, False, targets, _person(author))
    scheduled.go_live_at = timezone.now() + timedelta(days=2)
    scheduled.save_revision(user=scheduled.owner).publish(user=scheduled.owner)
    return index


def _grid_map() -> ImageFile:
    """A picture of the demo district's grids, one colour per community."""
    grids = list(
        Grid.objects.select_related("community").order_by(
            "community__street__code", "community__code", "code"
        )
    )
    communities = list(dict.fromkeys(grid.community_id for grid in grids))
    columns = 6
    cell, gap = 96, 8
    rows = max(1, -(-len(grids) // columns))
    picture = Picture.new("RGB", (columns * (cell + gap) + gap, rows * (cell + gap) + gap), "#f4f5f7")
    draw = ImageDraw.Draw(picture)
    for i, grid in enumerate(grids):
        x, y = gap + (i % columns) * (cell + gap), gap + (i // columns) * (cell + gap)
        colour = _COLOURS[communities.index(grid.community_id) % len(_COLOURS)]
        draw.rounded_rectangle((x, y, x + cell, y + cell), radius=12, fill=colour)
        draw.rounded_rectangle(
            (x + 10, y + 10, x + cell - 10, y + cell - 10), radius=8, outline="#ffffff", width=3
        )
    buffer = BytesIO()
    picture.save(buffer, format="PNG")
    return ImageFile(buffer, name="grid-map.png")


def seed_milestones(home: HomePage) -> MilestonesPage:
    page = MilestonesPage.objects.first()
    if page is not None:
        return page
    entries = []
    for when, title, text, with_map in MILESTONES:
        image = None
        if with_map:
            image = Image(title="网格划分示意", file=_grid_map())
            image.save()
        entries.append(MilestoneEntry(date=when, title=title, text=text, image=image))
    page = home.add_child(
        instance=MilestonesPage(
            title="联勤大事记",
            slug="milestones",
            intro="以时间为轴，记录街道大联勤网格化社会治理的重要历程。",
            entries=entries,
        )
    )
    page.save_revision().publish()
    return page


SERVICE_POINTS = [
    (
        "星兴社区长者助餐点",
        "xingxing-dining",
        "星甸联勤志愿服务队",
        "elder_dining",
        "星兴社区党群服务中心一楼（星甸大街 18 号）",
        "工作日 11:00–12:30",
        "025-58811234",
        "<p>社区食堂由志愿服务队运营，每天两荤一素一汤。"
        "60 岁以上老人凭服务卡就餐，行动不便的可预约送餐上门。</p>",
    ),
    (
        "汤泉日间照料中心",
        "tangquan-day-care",
        "暖阳社会工作服务中心",
        "day_care",
        "汤泉社区养老服务中心",
        "周一至周六 9:00–16:00",
        "025-58815678",
        "<p>白天托老，提供午餐、午休、康复训练和文娱活动，专业社工值守。</p>",
    ),
]


def seed_service_points(home: HomePage) -> None:
    if ServicePointPage.objects.exists():
        return
    for title, slug, organisation, category, address, hours, phone, intro in SERVICE_POINTS:
        organisation = Organisation.objects.filter(name=organisation).first()
        if organisation is None:
            continue
        page = home.add_child(
            instance=ServicePointPage(
                title=title,
                slug=slug,
                organisation=organisation,
                category=ServiceCategory.objects.filter(slug=category).first(),
                address=address,
                hours=hours,
                contact_phone=phone,
                intro=intro,
            )
        )
        page.save_revision().publish()


def home_blocks() -> list:
    """The home page's blocks for notices, open tasks and the leaderboard (seed_demo adds them)."""
    return [
        ("latest_notices", {"title": "", "count": 4}),
        ("open_tasks", {"title": "", "count": 3}),
        ("featured_services", {"title": "", "category": "", "count": 3}),
        ("leaderboard", {"title": "", "period": "month", "place": "community", "count": 5}),
    ]


def seed() -> None:
    """Everything above, on the demo's home page (seed_demo calls this)."""
    home = HomePage.objects.first()
    if home is None:
        return
    seed_notices(home)
    seed_milestones(home)
    seed_service_points(home)
