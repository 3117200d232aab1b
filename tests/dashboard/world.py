"""A known dataset for the dashboard: three communities (A and B in street S1, C in street S2), people,
identities, tasks, ledger entries, redemptions and service orders at chosen moments.

Every record is also written down here, in plain Python lists, so that the tests compute the expected
figures from these lists — independently of the dashboard's aggregate queries. Some moments sit right at a
month's edge in Shanghai time (23:30 on the last day, 00:30 on the first), where a UTC month would differ.
"""

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from points.models import Account, Entry
from points.redemption.models import Merchant, Redemption, RewardItem, new_short_code
from points.services.ledger import do_post, do_reverse
from services_catalog.models import Order, Service, ServiceCategory
from tests.factories import CommunityFactory, DistrictFactory, GridFactory, StreetFactory, UserFactory
from tests.gridtasks.factories import GridTaskFactory
from tests.points.support import category
from volunteers import services
from volunteers.gridtasks.models import GridTask, SignUp
from volunteers.models import IdentityClaim, IdentityEvent, User

SHANGHAI = ZoneInfo("Asia/Shanghai")
_keys = itertools.count()


def at(year, month, day, hour=10, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


NOW = at(2026, 3, 20, 12)
# The default period at NOW: the twelve months up to and including March 2026.
MONTHS = [date(2025, m, 1) for m in range(4, 13)] + [date(2026, m, 1) for m in range(1, 4)]


def local_month(moment: datetime) -> date:
    local = moment.astimezone(SHANGHAI)
    return date(local.year, local.month, 1)


def with_totp(user: User) -> User:
    TOTP.activate(user, generate_totp_secret())
    return user


def appoint(place, phone: str) -> User:
    person = UserFactory(name=f"干部{phone[-3:]}", phone=phone)
    services.do_appoint_staff(person=person, actor=None, place=place)
    return with_totp(User.objects.get(pk=person.pk))


@dataclass
class World:
    people: list = field(default_factory=list)  # (person, community, joined)
    verifications: list = field(default_factory=list)  # (community, when)
    claims: list = field(default_factory=list)  # (person, kind, community, status)
    tasks: list = field(default_factory=list)  # (community, starts_at, status)
    signups: list = field(default_factory=list)  # (community, task starts_at, task status, sign-up status)
    entries: list = field(default_factory=list)  # (community, unit, kind, amount, when)
    collected: list = field(default_factory=list)  # (community, when)
    orders: list = field(
        default_factory=list
    )  # (community, category pk, status, created, accepted, delivered, rating)

    def __post_init__(self):
        self.district = DistrictFactory()
        self.s1 = StreetFactory(district=self.district, name="星甸街道", code="s1")
        self.s2 = StreetFactory(district=self.district, name="汤泉街道", code="s2")
        self.a = CommunityFactory(street=self.s1, name="星兴社区", code="a")
        self.b = CommunityFactory(street=self.s1, name="星云社区", code="b")
        self.c = CommunityFactory(street=self.s2, name="汤泉社区", code="c")
        self.ga = GridFactory(community=self.a, name="星兴一网格")
        self.gb = GridFactory(community=self.b, name="星云一网格")
        self.gc = GridFactory(community=self.c, name="汤泉一网格")
        self.staff = {
            "community_a": appoint(self.a, "+8613922220001"),
            "community_b": appoint(self.b, "+8613922220002"),
            "street": appoint(self.s1, "+8613922220003"),
            "district": appoint(self.district, "+8613922220004"),
        }
        # The catalogue's migration seeds the categories; a transactional test before this one may have
        # flushed them.
        for position, name in enumerate(("老年助餐", "日间照料", "四点半课堂")):
            if ServiceCategory.objects.count() < 3:
                ServiceCategory.objects.get_or_create(slug=f"test-{position}", defaults={"name": name})
        self.categories = list(ServiceCategory.objects.order_by("position", "slug")[:3])
        self.services = {
            cat.pk: Service.objects.create(
                title=f"服务{cat.pk}",
                category=cat,
                street=self.s1,
                created_by=self.staff["district"],
                status=Service.Status.PUBLISHED,
            )
            for cat in self.categories
        }
        self.merchant = Merchant.objects.create(name="便民超市", street=self.s1)
        self.item = RewardItem.objects.create(merchant=self.merchant, name="洗衣液", price=30, stock=100)

    # --- people and identities -----------------------------------------------------------------------
    def person(self, grid, joined: datetime) -> User:
        person = UserFactory(home_grid=grid, date_joined=joined, notify_sms=False)
        self.people.append((person, grid.community, joined))
        return person

    def claim(self, person, kind, grid, when: datetime, *, verified=True, revoked_at: datetime | None = None):
        community = grid.community if grid else person.home_grid.community
        status = IdentityClaim.Status.VERIFIED if verified else IdentityClaim.Status.CLAIMED
        claim = IdentityClaim.objects.create(
            person=person, kind=kind, grid=grid, status=status, decided_at=when
        )
        if verified:
            with time_machine.travel(when, tick=False):
                IdentityEvent.objects.create(claim=claim, status=status)
            self.verifications.append((community, when))
        if revoked_at:
            claim.status = IdentityClaim.Status.REVOKED
            claim.save(update_fields=["status"])
            with time_machine.travel(revoked_at, tick=False):
                IdentityEvent.objects.create(claim=claim, status=claim.status)
        self.claims.append((person, kind, community, claim.status))

    # --- tasks ---------------------------------------------------------------------------------------
    def task(self, grid, starts_at: datetime, *signups, status=GridTask.Status.PUBLISHED):
        task = GridTaskFactory(
            grid=grid,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            status=status,
            category=category(),
            capacity=10,
        )
        self.tasks.append((grid.community, starts_at, status))
        for signup_status in signups:
            SignUp.objects.create(task=task, person=UserFactory(notify_sms=False), status=signup_status)
            self.signups.append((grid.community, starts_at, status, signup_status))
        return task

    # --- the ledger ----------------------------------------------------------------------------------
    def post(self, person, amount, kind, when, unit=Account.Unit.POINTS) -> Entry:
        with time_machine.travel(when, tick=False):
            entry = do_post(
                person_id=person.pk,
                amount=amount,
                kind=kind,
                key=f"test:{next(_keys)}",
                reason="测试",
                unit=unit,
            ).entry
        self.entries.append((person.home_grid.community, unit, kind, amount, when))
        return entry

    def reverse(self, person, entry, when) -> None:
        with time_machine.travel(when, tick=False):
            do_reverse(entry_id=entry.pk, actor=None, reason="更正")
        self.entries.append(
            (person.home_grid.community, entry.account.unit, Entry.Kind.REVERSAL, -entry.amount, when)
        )

    def redeem(self, person, when, handed_over_at: datetime | None = None) -> None:
        entry = self.post(person, -self.item.price, Entry.Kind.REDEMPTION, when)
        Redemption.objects.create(
            item=self.item,
            merchant=self.merchant,
            person=person,
            points=self.item.price,
            status=Redemption.Status.HANDED_OVER if handed_over_at else Redemption.Status.RESERVED,
            client_key=f"k{next(_keys)}",
            token_code=f"t{next(_keys)}",
            short_code=new_short_code(),
            entry=entry,
            expires_at=when + timedelta(days=7),
            handed_over_at=handed_over_at,
        )
        if handed_over_at:
            self.collected.append((person.home_grid.community, handed_over_at))

    # --- service orders ------------------------------------------------------------------------------
    def order(self, resident, cat, created, status, *, accept_h=None, deliver_h=None, rating=None) -> Order:
        accepted = created + timedelta(hours=accept_h) if accept_h is not None else None
        delivered = created + timedelta(hours=deliver_h) if deliver_h is not None else None
        with time_machine.travel(created, tick=False):
            order = Order.objects.create(
                service=self.services[cat.pk],
                resident=resident,
                placed_by=resident,
                grid=resident.home_grid,
                status=status,
                stage_started_at=created,
                accepted_at=accepted,
                delivered_at=delivered,
                rating=rating,
            )
        self.orders.append(
            (resident.home_grid.community, cat.pk, status, created, accepted, delivered, rating)
        )
        return order


def build_world() -> World:
    w = World()
    A, B, C = w.ga, w.gb, w.gc
    kid, dining, care = w.categories[0], w.categories[1], w.categories[2]

    # People. pa0 registered long before the period.
    pa0 = w.person(A, at(2024, 6, 1))
    pa1 = w.person(A, at(2025, 11, 10))
    pa2 = w.person(A, at(2026, 1, 31, 23, 30))  # still January in Shanghai
    pa3 = w.person(A, at(2026, 2, 1, 0, 30))  # February in Shanghai, January in UTC
    pa4 = w.person(A, at(2026, 3, 2))
    pb1 = w.person(B, at(2026, 2, 10))
    pb2 = w.person(B, at(2026, 3, 5))
    w.person(B, at(2026, 3, 6))
    pc1 = w.person(C, at(2026, 3, 1))

    # Identities: one without a grid (counted in the home grid's community), one claimed for a grid of
    # another community, one verified then revoked, one still waiting for verification.
    w.claim(pa1, "party_member", A, at(2026, 1, 10))
    w.claim(pa2, "deputy", None, at(2026, 2, 5))
    w.claim(pa2, "volunteer", B, at(2026, 2, 6))
    w.claim(pa3, "legal_officer", None, at(2026, 3, 1, 0, 10), revoked_at=at(2026, 3, 10))
    w.claim(pa1, "volunteer", A, at(2025, 12, 24))
    w.claim(pb1, "volunteer", B, at(2026, 3, 3))
    w.claim(pb1, "building_head", B, at(2026, 3, 3))
    w.claim(pb2, "party_member", B, at(2026, 3, 4), verified=False)
    w.claim(pc1, "grid_worker_full", C, at(2026, 2, 2))

    # Tasks: held ones, one in the future, one cancelled, one draft.
    S = SignUp.Status
    w.task(A, at(2026, 1, 15), S.ATTENDED, S.ATTENDED, S.NO_SHOW, S.CANCELLED, S.EXPIRED)
    w.task(A, at(2026, 3, 1, 0, 30), S.ATTENDED, S.CONFIRMED)
    w.task(A, at(2026, 3, 25), S.CONFIRMED)
    w.task(A, at(2026, 2, 10), S.CANCELLED, status=GridTask.Status.CANCELLED)
    w.task(A, at(2026, 1, 20), status=GridTask.Status.DRAFT)
    w.task(B, at(2026, 2, 20), S.ATTENDED, S.NO_SHOW, S.NO_SHOW)
    w.task(C, at(2026, 2, 20), S.ATTENDED)

    # The ledger.
    K, M = Entry.Kind, Account.Unit.MINUTES
    w.post(pa1, 10, K.ATTENDANCE, at(2025, 3, 20))  # before the period
    w.post(pa1, 120, K.ATTENDANCE, at(2026, 1, 15), unit=M)
    w.post(pa1, 20, K.ATTENDANCE, at(2026, 1, 15))
    w.post(pa1, 50, K.INCIDENT_REWARD, at(2026, 2, 1, 0, 30))
    w.redeem(pa1, at(2026, 2, 15), handed_over_at=at(2026, 2, 16))
    w.post(pa1, 7, K.ADJUSTMENT, at(2026, 3, 3))
    w.post(pa1, -3, K.ADJUSTMENT, at(2026, 3, 4))
    w.post(pa2, 90, K.ATTENDANCE, at(2026, 3, 1), unit=M)
    award = w.post(pa2, 20, K.ATTENDANCE, at(2026, 3, 1))
    w.reverse(pa2, award, at(2026, 3, 5))
    w.post(pb1, 40, K.CASE_REWARD, at(2026, 2, 20))
    w.post(pb1, 45, K.ATTENDANCE, at(2026, 2, 20), unit=M)
    w.redeem(pb1, at(2026, 3, 2))
    w.post(pb1, 30, K.REFUND, at(2026, 3, 8))
    w.post(pb1, -5, K.EXPIRY, at(2026, 3, 10))
    w.post(pb2, 15, K.ORDER_SERVICE, at(2026, 2, 28, 23, 45))
    w.post(pc1, 100, K.ATTENDANCE, at(2026, 2, 20))
    w.post(pc1, 60, K.ATTENDANCE, at(2026, 2, 20), unit=M)

    # Service orders.
    Status = Order.Status
    w.order(pa1, dining, at(2026, 1, 20), Status.COMPLETED, accept_h=2, deliver_h=26, rating=5)
    w.order(pa2, care, at(2026, 2, 10), Status.COMPLETED, accept_h=4.5, deliver_h=30, rating=3)
    w.order(pa3, dining, at(2026, 3, 1, 0, 30), Status.ORDERED)
    w.order(pa4, kid, at(2026, 3, 5), Status.CANCELLED)
    w.order(pb1, dining, at(2026, 2, 25), Status.COMPLETED, accept_h=1, deliver_h=5, rating=4)
    w.order(pb2, kid, at(2026, 3, 10), Status.ACCEPTED, accept_h=3)
    w.order(pc1, dining, at(2026, 3, 2), Status.COMPLETED, accept_h=1, deliver_h=2, rating=1)
    # Before the period:
    w.order(pa0, care, at(2025, 2, 1), Status.COMPLETED, accept_h=1, deliver_h=2, rating=2)
    return w
