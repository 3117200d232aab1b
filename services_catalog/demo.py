"""Demo data for the services catalogue (called by the seed_demo command; only adds what is missing).

The current orders go through the same services real people use, so every stage has its events, inbox
messages and points; the months of history behind the insight charts are written directly, dated in the
past, because the services (rightly) refuse to book sessions that have already happened.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from volunteers.models import Community, Grid, Organisation, Street, User

from . import services
from .models import Beneficiary, Order, OrderEvent, Service, ServiceCategory, Session, SubsidyGroup

WEEKDAYS = [0, 1, 2, 3, 4]


def _person(phone: str) -> User:
    return User.objects.get(phone=f"+86{phone}")


def _service(actor, *, areas, publish_by, **fields) -> Service:
    streets, communities = areas
    service = services.do_save_service(
        actor=actor,
        area_streets=Street.objects.filter(code__in=streets),
        area_communities=Community.objects.filter(code__in=communities),
        **fields,
    )
    if publish_by is not None:
        if service.status == Service.Status.DRAFT:
            services.do_submit_service(actor=actor, service_id=service.pk)
        services.do_review_service(actor=publish_by, service_id=service.pk, decision="publish")
    return Service.objects.get(pk=service.pk)


def seed() -> None:
    if Service.objects.exists():
        return
    category = {c.slug: c for c in ServiceCategory.objects.all()}
    volunteer_team = Organisation.objects.get(name="星甸联勤志愿服务队")
    womens_federation = Organisation.objects.get(name="星甸街道妇联")
    social_work = Organisation.objects.get(name="暖阳社会工作服务中心")
    xingdian = Street.objects.get(code="xingdian")
    team_admin, team_member = _person("13900000009"), _person("13900000010")
    social_admin = _person("13900000014")
    street_staff, tangquan_staff = _person("13900000002"), _person("13900000017")
    # The federation has no admin among the demo people: street staff list its services for it.
    federation_admin = street_staff
    grid_worker, resident = _person("13900000004"), _person("13900000011")

    with transaction.atomic():
        dining = _service(
            team_admin,
            areas=([], ["xingxing", "xingdian-c"]),
            publish_by=street_staff,
            organisation=volunteer_team,
            category=category["elder_dining"],
            title="星兴社区长者助餐点",
            description="两荤一素一汤，少油少盐，可按饮食禁忌备餐。行动不便的老人可由志愿者送餐上门。",
            place="星兴社区党群服务中心一楼（星甸大街 18 号）",
            latitude=Decimal("32.0915"),
            longitude=Decimal("118.6262"),
            hours="工作日 11:00–12:30",
            contact_phone="025-58811234",
            price_kind=Service.Price.SUBSIDISED,
            price=Decimal("8.00"),
            price_note="60 岁以上每餐 8 元，低保、特困老人免费",
            min_age=60,
            mode=Service.Mode.SESSIONS,
            weekdays=WEEKDAYS,
            session_start=time(11, 0),
            session_end=time(12, 30),
            session_capacity=30,
            points_per_delivery=5,
        )
        home_help = _service(
            team_admin,
            areas=(["xingdian"], []),
            publish_by=street_staff,
            organisation=volunteer_team,
            category=category["home_help"],
            title="助老上门帮扶",
            description="为独居、高龄老人上门打扫、代购、小家电维修、陪同就医。",
            place="上门服务",
            hours="每天 8:00–18:00 预约",
            price_kind=Service.Price.FREE,
            mode=Service.Mode.ON_DEMAND,
            points_per_delivery=10,
        )
        _service(
            federation_admin,
            areas=(["xingdian"], []),
            publish_by=street_staff,
            organisation=womens_federation,
            category=category["after_school"],
            title="星甸“四点半课堂”",
            description="放学后托管：作业辅导、阅读、手工和体育游戏，由妇联志愿者和大学生志愿者授课。",
            place="星甸社区新时代文明实践站",
            hours="上学日 16:30–18:00",
            price_kind=Service.Price.FREE,
            max_age=14,
            mode=Service.Mode.SESSIONS,
            weekdays=WEEKDAYS,
            session_start=time(16, 30),
            session_end=time(18, 0),
            session_capacity=25,
            points_per_delivery=5,
        )
        _service(
            social_admin,
            areas=(["tangquan"], []),
            publish_by=tangquan_staff,
            organisation=social_work,
            category=category["day_care"],
            title="汤泉日间照料中心",
            description="白天托老：午餐、午休、康复训练、健康监测和文娱活动，专业社工值守。",
            place="汤泉社区养老服务中心",
            hours="周一至周六 9:00–16:00",
            price_kind=Service.Price.PAID,
            price=Decimal("30.00"),
            price_note="含午餐；特困老人由政府购买服务",
            min_age=60,
            mode=Service.Mode.SESSIONS,
            weekdays=[0, 1, 2, 3, 4, 5],
            session_start=time(9, 0),
            session_end=time(16, 0),
            session_capacity=20,
            points_per_delivery=5,
        )
        legal = _service(
            street_staff,
            areas=(["xingdian"], []),
            publish_by=street_staff,
            organisation=None,
            street=xingdian,
            category=category["legal_aid"],
            title="法律咨询预约",
            description="婚姻家庭、劳动争议、邻里纠纷等法律咨询，由街道派单给律师事务所和法律服务志愿者。",
            place="星甸街道公共法律服务工作站，或上门",
            price_kind=Service.Price.FREE,
            mode=Service.Mode.ON_DEMAND,
            points_per_delivery=10,
        )
        _service(
            street_staff,
            areas=(["xingdian"], []),
            publish_by=street_staff,
            organisation=None,
            street=xingdian,
            category=category["health"],
            title="家庭医生上门随访",
            description="慢病老人血压血糖监测、用药指导，由社区全科助理医生上门。",
            place="上门服务",
            price_kind=Service.Price.FREE,
            mode=Service.Mode.ON_DEMAND,
            points_per_delivery=10,
        )
        lecture = services.do_save_service(
            actor=federation_admin,
            area_streets=[xingdian],
            organisation=womens_federation,
            category=category["other"],
            title="家庭教育公益讲座",
            description="每月一次，邀请心理咨询师讲亲子沟通。",
            place="星甸社区新时代文明实践站",
            price_kind=Service.Price.FREE,
            mode=Service.Mode.ON_DEMAND,
        )
        services.do_submit_service(actor=federation_admin, service_id=lecture.pk)

    with transaction.atomic():
        services.do_update_beneficiary(
            actor=grid_worker,
            person=resident,
            birth_date=date(1948, 5, 12),
            subsidy_group=SubsidyGroup.LIVING_ALONE,
            address="星兴社区 3 栋 2 单元 101 室",
            dietary_notes="低盐、软食",
        )
        granny = services.do_register_resident(
            actor=grid_worker,
            consented=True,
            name="周桂芳",
            grid=resident.home_grid,
            birth_date=date(1941, 9, 3),
            subsidy_group=SubsidyGroup.LOW_INCOME,
            address="星兴社区 5 栋 1 单元 302 室",
            dietary_notes="糖尿病，少糖",
        )

    # What is happening now: a lunch booked for tomorrow waiting for the team to accept, one booked on a
    # grandmother's behalf and accepted, a legal-aid request in the pool, and last week's home help rated.
    first, second = Session.objects.filter(service=dining, starts_at__gt=timezone.now()).order_by(
        "starts_at"
    )[:2]
    services.do_place_order(actor=resident, service_id=dining.pk, session_id=first.pk, note="想吃软一点的")
    proxy = services.do_place_order(
        actor=grid_worker, service_id=dining.pk, resident=granny, session_id=first.pk
    )
    services.do_accept_order(actor=team_admin, order_id=proxy.pk)
    services.do_place_order(actor=resident, service_id=dining.pk, session_id=second.pk)
    services.do_place_order(actor=resident, service_id=legal.pk, note="儿子不赡养，想咨询怎么办")
    helped = services.do_place_order(
        actor=resident, service_id=home_help.pk, note="厨房水龙头漏水，想请人修一下"
    )
    services.do_accept_order(actor=team_admin, order_id=helped.pk)
    services.do_assign_volunteers(actor=team_admin, order_id=helped.pk, person_ids=[team_member.pk])
    services.do_deliver_order(actor=team_member, order_id=helped.pk, note="已更换水龙头阀芯")
    services.do_confirm_order(actor=resident, order_id=helped.pk, rating=5, comment="小郑很细心，谢谢！")
    _history(dining, home_help, legal)


def _history(dining: Service, home_help: Service, legal: Service) -> None:
    """A year of finished orders (dated in the past) so the insight charts and the subsidy report show
    something real: lunches attended, home help and legal aid delivered and rated."""
    rng = random.Random(2026)
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    residents = list(
        User.objects.filter(
            home_grid__community__street__code="xingdian", phone__startswith="+86137"
        ).order_by("pk")[:24]
    )
    staff = _person("13900000009")
    for person in residents:
        Beneficiary.objects.get_or_create(
            person=person,
            defaults={
                "birth_date": date(rng.randint(1938, 1962), rng.randint(1, 12), rng.randint(1, 28)),
                "subsidy_group": rng.choice(["", "", SubsidyGroup.LOW_INCOME, SubsidyGroup.LIVING_ALONE]),
            },
        )
    dining_ids = set(dining.area_communities.values_list("pk", flat=True))
    diners = [p for p in residents if Grid.objects.get(pk=p.home_grid_id).community_id in dining_ids][:10]
    orders = []
    for days_ago in range(1, 60):
        day = today - timedelta(days=days_ago)
        if day.weekday() not in WEEKDAYS:
            continue
        starts = datetime.combine(day, time(11, 0), tzinfo=tz)
        session = Session.objects.create(
            service=dining, starts_at=starts, ends_at=starts + timedelta(minutes=90), capacity=30, booked=0
        )
        for person in rng.sample(diners, k=min(len(diners), rng.randint(3, 8))):
            orders.append(
                Order(
                    service=dining,
                    session=session,
                    resident=person,
                    placed_by=person,
                    grid_id=person.home_grid_id,
                    organisation=dining.organisation,
                    status=Order.Status.COMPLETED,
                    stage_started_at=starts,
                    dispatched_at=starts - timedelta(days=1),
                    accepted_at=starts - timedelta(hours=20),
                    delivered_at=starts + timedelta(minutes=20),
                    attended_at=starts + timedelta(minutes=10),
                    finished_at=starts + timedelta(hours=2),
                    delivered_by=staff,
                    rating=rng.choice([4, 5, 5, 5]),
                    confirmed_via=Order.ConfirmedVia.CARD,
                )
            )
    for months_ago in range(12):
        for _ in range(rng.randint(2, 6)):
            service = rng.choice([home_help, legal])
            person = rng.choice(residents)
            ordered = timezone.now() - timedelta(
                days=30 * months_ago + rng.randint(3, 28), hours=rng.randint(0, 8)
            )
            accepted = ordered + timedelta(hours=rng.randint(1, 30))
            delivered = accepted + timedelta(hours=rng.randint(2, 70))
            orders.append(
                Order(
                    service=service,
                    resident=person,
                    placed_by=person,
                    grid_id=person.home_grid_id,
                    organisation=service.organisation or dining.organisation,
                    status=Order.Status.COMPLETED,
                    stage_started_at=delivered,
                    dispatched_at=ordered + timedelta(minutes=30),
                    accepted_at=accepted,
                    delivered_at=delivered,
                    finished_at=delivered + timedelta(hours=5),
                    delivered_by=staff,
                    rating=rng.choice([2, 3, 4, 4, 5, 5, 5]),
                    confirmed_via=Order.ConfirmedVia.WEB,
                )
            )
    with transaction.atomic():
        created = Order.objects.bulk_create(orders)
        # auto_now_add overrides given values on insert; bulk_update writes the past dates afterwards.
        events, times = [], []
        for order in created:
            order.created_at = order.dispatched_at - timedelta(minutes=0 if order.session_id else 30)
            for kind, at in [
                (OrderEvent.Kind.ORDERED, order.created_at),
                (OrderEvent.Kind.ACCEPTED, order.accepted_at),
                (OrderEvent.Kind.DELIVERED, order.delivered_at),
                (OrderEvent.Kind.CONFIRMED, order.finished_at),
            ]:
                events.append(OrderEvent(order=order, kind=kind, organisation=order.organisation))
                times.append(at)
        Order.objects.bulk_update(created, ["created_at"], batch_size=200)
        events = OrderEvent.objects.bulk_create(events)
        for event, at in zip(events, times, strict=True):
            event.at = at
        OrderEvent.objects.bulk_update(events, ["at"], batch_size=200)
        for session in Session.objects.filter(service=dining, starts_at__lt=timezone.now()):
            session.booked = session.orders.count()
            session.save(update_fields=["booked"])
