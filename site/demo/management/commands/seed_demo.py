"""Seed a realistic demo district. Safe to run again: it only adds what is missing.

Demo logins (password for all: gongzhi2026; or sign in with an SMS code printed in the terminal):
see DEMO_PEOPLE below and the README. Everything goes through the same services real people use, so the
demo's rows (events, inbox messages, ledger entries) are those the site would write.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from cms import demo as cms_demo
from cms.models import HomePage
from points.cases import services as cases
from points.cases.models import Budget, Contributor, RewardCategory
from points.models import PointsRule
from points.redemption import services as redemption
from points.redemption.models import Merchant, MerchantStaff, RewardItem
from points.services.awards import do_adjust_points
from services_catalog import demo as services_demo
from volunteers import services
from volunteers.gridtasks import services as tasks
from volunteers.gridtasks.models import GridTask, SignUp
from volunteers.models import (
    Community,
    District,
    DutyCategory,
    Grid,
    IdentityClaim,
    IdentityEvent,
    IdentityKind,
    Membership,
    Organisation,
    OrganisationEvent,
    Skill,
    Street,
    User,
)

DEMO_PASSWORD = "gongzhi2026"  # noqa: S105 - published demo credential
# Base32 secret shared by the demo staff accounts' authenticator (documented in the README).
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105

PLACES = {
    ("xingdian", "星甸街道"): [
        ("xingxing", "星兴社区", "community", 4),
        ("xingdian-c", "星甸社区", "community", 4),
        ("houwei", "后圩社区", "community", 3),
        ("jiuhua", "九华村", "village", 3),
    ],
    ("tangquan", "汤泉街道"): [
        ("tangquan-c", "汤泉社区", "community", 4),
        ("quanxi", "泉西社区", "community", 3),
        ("longshan", "龙山村", "village", 3),
    ],
}
GRID_NAMES = ["第一网格", "第二网格", "第三网格", "第四网格", "第五网格"]

# phone, name, role description, (identity kind, grid code) claims to verify
DEMO_PEOPLE = [
    ("13900000000", "系统管理员", "superuser", []),
    ("13900000001", "王建国", "district_admin", [(IdentityKind.PARTY_MEMBER, "xingxing-1")]),
    ("13900000002", "李秀英", "street_staff:xingdian", [(IdentityKind.PARTY_MEMBER, "xingxing-2")]),
    ("13900000003", "张伟", "community_staff:xingxing", []),
    ("13900000004", "刘洋", "grid_worker", [(IdentityKind.GRID_WORKER_FULL, "xingxing-1")]),
    (
        "13900000005",
        "陈静",
        "grid_worker",
        [(IdentityKind.GRID_WORKER_PART, "xingxing-1"), (IdentityKind.BUILDING_HEAD, "xingxing-1")],
    ),
    ("13900000006", "赵敏", "volunteer", [(IdentityKind.PARTY_MEMBER, "xingxing-1")]),
    ("13900000007", "孙立新", "volunteer", [(IdentityKind.DEPUTY, "xingxing-2")]),
    ("13900000008", "周正", "volunteer", [(IdentityKind.LEGAL_OFFICER, "xingxing-1")]),
    ("13900000009", "吴晓燕", "org_admin:星甸联勤志愿服务队", [(IdentityKind.VOLUNTEER_TEAM, "xingxing-3")]),
    ("13900000010", "郑浩", "org_member:星甸联勤志愿服务队", [(IdentityKind.VOLUNTEER, "xingxing-1")]),
    ("13900000011", "冯桂兰", "resident", []),
    ("13900000012", "钱德明", "volunteer", [(IdentityKind.LOCAL_WORTHY, "houwei-1")]),
    ("13900000013", "何医生", "volunteer", [(IdentityKind.COMMUNITY_DOCTOR, "xingdian-c-1")]),
    ("13900000014", "马红梅", "org_admin:暖阳社会工作服务中心", [(IdentityKind.SOCIAL_ORG, "tangquan-c-1")]),
    ("13900000015", "林小芳", "org_member:星甸街道妇联", [(IdentityKind.MASS_ORG, "xingdian-c-2")]),
    ("13900000016", "黄志强", "community_staff:tangquan-c", []),
    ("13900000017", "杨帆", "street_staff:tangquan", []),
    ("13900000018", "沈丽", "merchant_staff", []),
]

ORGANISATIONS = [
    (
        "星甸联勤志愿服务队",
        Organisation.Kind.VOLUNTEER_TEAM,
        "xingdian",
        "xingxing",
        Organisation.Status.APPROVED,
        "由老党员、乡贤和大学生志愿者组成，开展夜间巡防、助老助残和文明创建志愿服务。",
    ),
    (
        "星甸街道妇联",
        Organisation.Kind.MASS,
        "xingdian",
        None,
        Organisation.Status.APPROVED,
        "关爱妇女儿童，组织“四点半课堂”和家庭教育讲座。",
    ),
    (
        "暖阳社会工作服务中心",
        Organisation.Kind.SOCIAL,
        "tangquan",
        "tangquan-c",
        Organisation.Status.APPROVED,
        "承接老年人日间照料中心和助餐点运营，提供专业社工服务。",
    ),
    (
        "星兴社区党委",
        Organisation.Kind.PARTY,
        "xingdian",
        "xingxing",
        Organisation.Status.APPROVED,
        "统筹社区各网格党支部、党小组，推动党建引领网格治理。",
    ),
    (
        "龙山乡贤理事会",
        Organisation.Kind.SOCIAL,
        "tangquan",
        "longshan",
        Organisation.Status.APPLIED,
        "乡贤参与村务协商、矛盾调解和公益捐助。",
    ),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红梅鹏建国志文斌宇浩凯秀珍晨辉鑫丹蕾婷雪琳欣颖佳"
)


class Command(BaseCommand):
    help = (
        "Seed the demo district (2 streets, 7 communities, 24 grids) with people in every role and identity."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            grids = self._places()
            people = self._people(grids)
            self._organisations(people)
            self._residents(grids)
            self._home_page()
        # Tasks after the people are committed: finishing the past task's attendance sends its points
        # through the same services (and, in production, Celery) that real attendance uses.
        with transaction.atomic():
            self._tasks(grids)
        with transaction.atomic():
            self._points(grids)
        services_demo.seed()
        # Its own transaction: notices published here are delivered after it commits, as in production.
        with transaction.atomic():
            cms_demo.seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {Street.objects.count()} streets, "
                f"{Community.objects.count()} communities, {Grid.objects.count()} grids, "
                f"{User.objects.count()} people."
            )
        )

    def _places(self):
        district, _ = District.objects.get_or_create(code="pukou", defaults={"name": "浦口区"})
        grids = {}
        for (street_code, street_name), communities in PLACES.items():
            street, _ = Street.objects.get_or_create(
                code=street_code, defaults={"name": street_name, "district": district}
            )
            for code, name, kind, n_grids in communities:
                community, _ = Community.objects.get_or_create(
                    code=code, defaults={"name": name, "street": street, "kind": kind}
                )
                for i in range(1, n_grids + 1):
                    branch = i % 2 == 1
                    grid, _ = Grid.objects.get_or_create(
                        code=f"{code}-{i}",
                        defaults={
                            "community": community,
                            "name": GRID_NAMES[i - 1],
                            "households": 300 + (i * 47) % 200,
                            "party_org_kind": Grid.PartyOrgKind.BRANCH if branch else Grid.PartyOrgKind.GROUP,
                            "party_org_name": f"{name}{GRID_NAMES[i - 1]}{'党支部' if branch else '党小组'}",
                        },
                    )
                    grids[grid.code] = grid
        return grids

    def _person(self, phone, name, grid=None, **extra):
        person = User.objects.filter(phone=f"+86{phone}").first()
        if person:
            return person, False
        person = User.objects.create_user(
            phone=f"+86{phone}",
            password=DEMO_PASSWORD,
            name=name,
            phone_verified=True,
            home_grid=grid,
            privacy_consented_at=timezone.now(),
            **extra,
        )
        return person, True

    def _people(self, grids):
        superuser = None
        people = {}
        for phone, name, role, claims in DEMO_PEOPLE:
            home = grids[claims[0][1]] if claims else grids["xingxing-1"]
            person, created = self._person(
                phone, name, home, is_superuser=role == "superuser", is_staff=role == "superuser"
            )
            people[role] = person
            if role == "superuser":
                superuser = person
            if not created:
                continue
            for kind, grid_code in claims:
                claim = IdentityClaim.objects.create(person=person, kind=kind, grid=grids[grid_code])
                IdentityEvent.objects.create(claim=claim, status=claim.status, actor=person)
                claim.status = IdentityClaim.Status.VERIFIED
                claim.decided_at = timezone.now()
                claim.decided_by = superuser
                claim.save()
                IdentityEvent.objects.create(
                    claim=claim, status=claim.status, actor=superuser, reason="演示数据"
                )
            kind, _, place = role.partition(":")
            if kind == "district_admin":
                services.do_appoint_staff(person=person, actor=None, place=District.objects.get(code="pukou"))
            elif kind == "street_staff":
                services.do_appoint_staff(person=person, actor=None, place=Street.objects.get(code=place))
            elif kind == "community_staff":
                services.do_appoint_staff(person=person, actor=None, place=Community.objects.get(code=place))
            if (
                person.is_staff
                and not Authenticator.objects.filter(user=person, type=Authenticator.Type.TOTP).exists()
            ):
                TOTP.activate(person, DEMO_TOTP_SECRET)
        return people

    def _organisations(self, people):
        by_role = dict(people)
        for name, kind, street_code, community_code, status, description in ORGANISATIONS:
            org = Organisation.objects.filter(name=name).first()
            if org:
                continue
            admin_role = f"org_admin:{name}"
            applicant = by_role.get(admin_role) or by_role["superuser"]
            org = Organisation.objects.create(
                name=name,
                kind=kind,
                street=Street.objects.get(code=street_code),
                community=Community.objects.get(code=community_code) if community_code else None,
                description=description,
                contact_phone="025-5881" + str(1000 + len(name)),
                status=status,
                applied_by=applicant,
            )
            OrganisationEvent.objects.create(
                organisation=org, status=Organisation.Status.APPLIED, actor=applicant
            )
            if status == Organisation.Status.APPROVED:
                OrganisationEvent.objects.create(
                    organisation=org, status=status, actor=by_role["street_staff:xingdian"]
                )
            Membership.objects.create(
                organisation=org,
                person=applicant,
                role=Membership.Role.ADMIN,
                status=Membership.Status.ACTIVE,
                invited_by=applicant,
            )
            member = by_role.get(f"org_member:{name}")
            if member:
                Membership.objects.create(
                    organisation=org,
                    person=member,
                    role=Membership.Role.MEMBER,
                    status=Membership.Status.ACTIVE,
                    invited_by=applicant,
                )

    def _home_page(self):
        home = HomePage.objects.first()
        if home is None or home.body:
            return
        home.seo_title = "网格化社会治理服务平台"  # the browser tab: "网格化社会治理服务平台 · 共治"
        home.body = [
            (
                "hero",
                {
                    "title": "共建共治共享 · 网格连万家",
                    "text": "党员、代表委员、政法网格员、网格员、社会组织和志愿者，一起守护我们的网格。",
                },
            ),
            (
                "quick_links",
                [
                    {
                        "title": "我的身份",
                        "subtitle": "认领 1+3+N",
                        "url": "/me/#identities",
                        "icon": "people",
                    },
                    {
                        "title": "服务组织",
                        "subtitle": "加入队伍",
                        "url": "/organisations/",
                        "icon": "service",
                    },
                    {"title": "网格任务", "subtitle": "报名参加", "url": "/tasks/", "icon": "task"},
                    {"title": "积分兑换", "subtitle": "兑换奖品", "url": "/rewards/", "icon": "points"},
                ],
            ),
            *cms_demo.home_blocks()[:3],  # latest notices, open grid tasks, featured services
            ("statistics", None),
            *cms_demo.home_blocks()[3:],  # leaderboard
            ("duty_categories", None),
        ]
        home.save_revision().publish()

    def _residents(self, grids):
        """Sixty more residents and volunteers, with claims in every state, spread over the grids."""
        rng = random.Random(2026)  # the same demo every time
        skills = list(Skill.objects.all())
        grid_list = list(grids.values())
        staff = User.objects.get(phone="+8613900000003")
        kinds = list(IdentityKind)
        for i in range(60):
            phone = f"137{i:08d}"
            name = (
                rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
            )
            grid = rng.choice(grid_list)
            person, created = self._person(phone, name, grid)
            if not created:
                continue
            person.skills.set(rng.sample(skills, k=rng.randint(0, 2)))
            if rng.random() < 0.7:
                kind = rng.choice(kinds)
                claim = IdentityClaim.objects.create(person=person, kind=kind, grid=grid, detail="")
                IdentityEvent.objects.create(claim=claim, status=claim.status, actor=person)
                outcome = rng.choice(["claimed", "verified", "verified", "rejected"])
                if outcome != "claimed":
                    claim.status = outcome
                    claim.decided_at = timezone.now()
                    claim.decided_by = staff
                    claim.save()
                    IdentityEvent.objects.create(
                        claim=claim,
                        status=outcome,
                        actor=staff,
                        reason="" if outcome == "verified" else "未能核实所在党组织，请补充材料",
                    )

    def _tasks(self, grids):
        """A fortnight of night patrols, tasks for the coming days (one full, with a waitlist), one under
        way now with a volunteer checked in, and one last week whose attendance is final."""
        if GridTask.objects.exists():
            return
        staff = User.objects.get(phone="+8613900000003")  # community staff of 星兴社区
        by_phone = {
            p: User.objects.get(phone=f"+86{p}")
            for p in (
                "13900000006",
                "13900000007",
                "13900000008",
                "13900000010",
                "13900000012",
                "13900000015",
            )
        }
        residents = list(User.objects.filter(home_grid__code__startswith="xingxing").order_by("id")[:8])
        category = {c.code: c for c in DutyCategory.objects.all()}
        tz = timezone.get_current_timezone()
        today = timezone.localdate()

        def at(days, hour, minute=0):
            return datetime.combine(today + timedelta(days=days), time(hour, minute), tzinfo=tz)

        tasks.do_create_series(
            actor=staff,
            first_date=today + timedelta(days=1),
            last_date=today + timedelta(days=14),
            weekdays=[],
            shifts=[("19:00", "23:00"), ("23:00", "03:00")],
            publish=True,
            title="星兴社区夜间巡防",
            category=category["patrol"],
            grid=grids["xingxing-1"],
            place_name="星兴社区治安岗亭（星甸大街 18 号）",
            latitude=Decimal("32.0915"),
            longitude=Decimal("118.6262"),
            capacity=6,
            points=20,
            description="两人一组沿星甸大街、文化广场、农贸市场巡查，发现隐患及时上报网格员。",
        )
        hazard = tasks.do_create_task(
            actor=staff,
            publish=True,
            title="沿街商铺消防隐患排查",
            category=category["hazard"],
            grid=grids["xingxing-2"],
            place_name="星甸大街沿街商铺",
            starts_at=at(1, 9),
            ends_at=at(1, 11, 30),
            capacity=8,
            points=15,
            latitude=Decimal("32.0921"),
            longitude=Decimal("118.6240"),
            geofence_radius_m=300,
            description="检查灭火器有效期、疏散通道和电动车充电情况，逐户登记。",
            notice="进入商铺前出示志愿者证；发现重大隐患不要自行处置，立即报告网格员。",
        )
        publicity = tasks.do_create_task(
            actor=staff,
            publish=True,
            title="《民法典》进小区宣讲",
            category=category["publicity"],
            grid=grids["xingxing-1"],
            place_name="星兴社区党群服务中心二楼",
            starts_at=at(3, 14),
            ends_at=at(3, 16),
            capacity=4,
            points=10,
            eligible_identities=["legal_officer", "party_member"],
            description="面向居民讲解婚姻家庭编、继承编常见问题，现场答疑。",
        )
        visit = tasks.do_create_task(
            actor=staff,
            publish=True,
            title="探访独居老人",
            category=category["special_groups"],
            grid=grids["xingxing-3"],
            place_name="星兴社区第三网格",
            starts_at=at(2, 9),
            ends_at=at(2, 11),
            capacity=3,
            points=12,
            description="上门了解老人生活需求，检查燃气、用电安全。",
        )
        now_task = tasks.do_create_task(
            actor=staff,
            publish=True,
            title="为民代办：社保认证集中办理",
            category=category["errands"],
            grid=grids["xingxing-1"],
            place_name="星兴社区便民服务站",
            starts_at=at(5, 8),
            ends_at=at(5, 10),
            capacity=5,
            points=10,
            description="协助老人完成社保待遇资格认证。",
        )
        past = tasks.do_create_task(
            actor=staff,
            publish=True,
            title="文化广场环境整治",
            category=category["urban_affairs"],
            grid=grids["xingxing-1"],
            place_name="星兴文化广场",
            starts_at=at(6, 8),
            ends_at=at(6, 11),
            capacity=10,
            points=20,
            description="清理小广告、整理共享单车。",
        )
        volunteers = list(by_phone.values())
        for person in volunteers[:3]:
            tasks.do_sign_up(task_id=hazard.pk, person=person, acknowledged_notice=True)
        tasks.do_sign_up(task_id=publicity.pk, person=by_phone["13900000008"])
        for person in [*volunteers[3:], *residents[:2]]:  # three places, then the waitlist
            tasks.do_sign_up(task_id=visit.pk, person=person)
        for person in volunteers[:4]:
            tasks.do_sign_up(task_id=now_task.pk, person=person)
            tasks.do_sign_up(task_id=past.pk, person=person)

        # Move two tasks in time, as if the demo had been running: one under way, one last week.
        started = timezone.now() - timedelta(minutes=30)
        GridTask.objects.filter(pk=now_task.pk).update(
            starts_at=started, ends_at=started + timedelta(hours=2)
        )
        last_week = at(-7, 8)
        GridTask.objects.filter(pk=past.pk).update(
            starts_at=last_week, ends_at=last_week + timedelta(hours=3)
        )
        now_task.refresh_from_db()
        past.refresh_from_db()

        first = SignUp.objects.get(task=now_task, person=volunteers[0])
        tasks.record_scan(
            task=now_task, signup=first, kind="in", method="personal_qr", actor=staff, nonce=None
        )
        for i, signup in enumerate(SignUp.objects.filter(task=past).order_by("id")):
            if i == 3:
                continue  # a no-show
            arrived = last_week + timedelta(minutes=5 + i)
            left = last_week + timedelta(hours=3 if i != 2 else 1)  # the third left early: does not count
            tasks.record_scan(
                task=past,
                signup=signup,
                kind="in",
                method="personal_qr",
                actor=staff,
                nonce=None,
                scanned_at=arrived,
            )
            tasks.record_scan(
                task=past,
                signup=signup,
                kind="out",
                method="personal_qr",
                actor=staff,
                nonce=None,
                scanned_at=left,
            )
        tasks.finalise_task_attendance(task_id=past.pk)

    def _points(self, grids):
        """The points side: a default rule, the per-case reward table and budgets, two merchants with reward
        items, opening balances, an incident rewarded, a case waiting for approval, a reserved redemption."""
        if Merchant.objects.exists():
            return
        person = {p: User.objects.get(phone=f"+86{p}") for p in [f"139000000{n:02d}" for n in range(19)]}
        district_admin, street_staff = person["13900000001"], person["13900000002"]

        PointsRule.objects.create(
            name="默认积分规则",
            basis=PointsRule.Basis.TASK,
            min_minutes=30,
            night_multiplier=Decimal("1.5"),
            holiday_multiplier=Decimal("2"),
            identity_multipliers={"party_member": "1.2"},
            daily_cap=100,
            monthly_cap=1000,
        )
        table = {}
        for kind, name, points, split, description in [
            ("incident", "安全隐患排查上报", 20, "each", "发现并上报消防、燃气等安全隐患并督促整改。"),
            ("incident", "矛盾纠纷调解", 30, "each", "邻里、物业等矛盾纠纷调解成功。"),
            ("incident", "好人好事", 10, "each", "拾金不昧、见义勇为等。"),
            ("case", "协助破获案件", 200, "total", "提供线索或协助公安机关破获案件，按贡献份额分配。"),
            ("case", "法律援助结案", 100, "each", "为困难群众提供法律援助并结案。"),
        ]:
            table[name] = RewardCategory.objects.create(
                kind=kind, name=name, points=points, split=split, description=description
            )
        for street in Street.objects.all():
            Budget.objects.create(street=street, year=timezone.localdate().year, amount=20000)

        centre = Merchant.objects.create(
            name="星甸街道党群服务中心",
            kind=Merchant.Kind.SERVICE_CENTRE,
            street=Street.objects.get(code="xingdian"),
            address="星甸街道星甸路 18 号",
            opening_hours="周一至周五 9:00–17:00",
        )
        shop = Merchant.objects.create(
            name="星兴便民超市",
            kind=Merchant.Kind.PARTNER,
            street=Street.objects.get(code="xingdian"),
            community=Community.objects.get(code="xingxing"),
            address="星兴社区文化广场东侧",
            opening_hours="每天 7:30–21:30",
        )
        MerchantStaff.objects.create(merchant=shop, person=person["13900000018"], added_by=street_staff)
        items = {}
        for merchant, name, price, stock, limit, description in [
            (centre, "爱心理发券", 30, 50, 2, "凭券到服务中心理发一次。"),
            (centre, "定制保温杯", 120, 10, 1, "共治志愿服务纪念款。"),
            (shop, "洗衣液 2kg", 50, 20, None, "到店领取。"),
            (shop, "东北大米 5kg", 150, 8, 1, "到店领取，每人限一袋。"),
            (shop, "抽纸 6 包", 40, 0, None, "本月已兑完，补货后上架。"),
        ]:
            items[name] = RewardItem.objects.create(
                merchant=merchant,
                name=name,
                price=price,
                stock=stock,
                per_person_limit=limit,
                description=description,
            )

        # Balances carried over from the paper ledger, posted as adjustments with a reason.
        for phone, amount in [
            ("13900000006", 260),
            ("13900000007", 180),
            ("13900000008", 120),
            ("13900000009", 90),
            ("13900000010", 210),
            ("13900000012", 60),
        ]:
            do_adjust_points(
                person_id=person[phone].pk,
                amount=amount,
                reason="纸质台账积分迁移",
                actor=district_admin,
                key=f"demo-opening-{phone}",
            )

        worker, part_timer = person["13900000004"], person["13900000005"]
        mediation = cases.do_report_case(
            actor=worker,
            kind="incident",
            category_id=table["矛盾纠纷调解"].pk,
            grid_id=grids["xingxing-1"].pk,
            title="3 栋楼上漏水引发邻里纠纷",
            description="楼上住户卫生间漏水，双方多次争吵。网格员上门协调，约请物业检修，双方达成和解。",
            contributors=[cases.ContributorIn(part_timer.pk, Contributor.Role.ASSISTANT)],
        )
        cases.do_verify_case(case_id=mediation.pk, actor=street_staff)
        reward = cases.do_close_case(case_id=mediation.pk, actor=street_staff, reason="双方签署调解协议")
        cases.do_approve_reward(reward_id=reward.pk, actor=street_staff)

        hazard = cases.do_report_case(
            actor=worker,
            kind="incident",
            category_id=table["安全隐患排查上报"].pk,
            grid_id=grids["xingxing-1"].pk,
            title="楼道电动车飞线充电",
            description="5 栋 2 单元楼道内有电动车飞线充电，已劝导整改并拍照留存，物业已加装充电桩。",
        )
        cases.do_verify_case(case_id=hazard.pk, actor=street_staff)
        cases.do_close_case(case_id=hazard.pk, actor=street_staff)  # its reward waits for approval

        cases.do_report_case(
            actor=person["13900000008"],
            kind="case",
            category_id=table["法律援助结案"].pk,
            grid_id=grids["xingxing-1"].pk,
            title="农民工讨薪法律援助",
            description="为 6 名务工人员提供法律咨询并代写劳动仲裁申请书，正在仲裁中。",
        )

        redemption.do_redeem(
            item_code=items["洗衣液 2kg"].public_code, actor=person["13900000010"], key="demo-redeem-1"
        )
