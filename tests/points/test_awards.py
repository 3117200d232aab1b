"""Awards from attendance: computed by the rules, posted once (points and minutes), held for staff when
the rule says so, decided only by staff of the area, reversed and adjusted with a reason."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.exceptions import NotAllowed
from core.models import Notification
from points.exceptions import AwardNotPending, AwardNotPosted, InsufficientPoints, ReasonRequired
from points.models import Account, Award, AwardEvent, Entry, Holiday, PointsRule
from points.services import awards
from points.services.ledger import do_post
from tests.factories import CommunityFactory, IdentityClaimFactory, StaffPostFactory, UserFactory
from tests.points.support import category, finished_attendance, request
from volunteers.models import StaffPost

pytestmark = pytest.mark.django_db


def balances(person):
    return dict(Account.objects.filter(person=person).values_list("unit", "balance"))


def staff_of(grid, level=StaffPost.Level.COMMUNITY):
    return StaffPostFactory(level=level, community=grid.community).person


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the code defers to after commit (the post_award task, eager in tests)."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def test_an_automatic_award_posts_points_and_minutes_after_commit(committed):
    attendance = finished_attendance(minutes=90, points=20)
    person = attendance.signup.person

    assert committed(request, attendance) is True

    award = Award.objects.get()
    assert award.status == Award.Status.POSTED and award.points == 20 and award.minutes == 90
    assert award.key == f"attendance:{attendance.pk}" and award.grid == attendance.signup.task.grid
    assert balances(person) == {Account.Unit.POINTS: 20, Account.Unit.MINUTES: 90}
    entries = Entry.objects.filter(account__person=person).order_by("id")
    assert [(e.kind, e.amount, e.key) for e in entries] == [
        (Entry.Kind.ATTENDANCE, 20, f"award:{award.pk}:points"),
        (Entry.Kind.ATTENDANCE, 90, f"award:{award.pk}:minutes"),
    ]
    assert award.points_entry == entries[0] and award.minutes_entry == entries[1]
    assert Notification.objects.filter(recipient=person, key=f"award-posted:{award.pk}").exists()
    assert list(award.events.values_list("status", flat=True)) == ["approved", "posted"]


def test_nothing_is_posted_if_the_attendance_transaction_rolls_back(django_capture_on_commit_callbacks):
    attendance = finished_attendance()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request(attendance)
    assert len(callbacks) == 1  # the post waits for the commit, which never comes here
    assert not Entry.objects.exists()


def test_a_repeated_request_changes_nothing(committed):
    attendance = finished_attendance()
    assert committed(request, attendance) is True
    for _ in range(3):
        assert committed(request, attendance) is False
    assert Award.objects.count() == 1 and Entry.objects.count() == 2


def test_the_rule_of_the_category_decides_and_the_explanation_is_kept(committed):
    night = timezone.localtime().replace(hour=22, minute=0, second=0, microsecond=0) - timedelta(days=2)
    PointsRule.objects.create(
        name="夜巡",
        category=category(),
        basis=PointsRule.Basis.PER_HOUR,
        points_per_hour=10,
        night_multiplier=Decimal("1.5"),
        holiday_multiplier=Decimal("2"),
        identity_multipliers={"party_member": "1.2"},
    )
    PointsRule.objects.create(name="默认", basis=PointsRule.Basis.PER_ATTENDANCE, base_points=1)
    Holiday.objects.create(date=night.date(), name="国庆节")
    person = UserFactory()
    IdentityClaimFactory(person=person, kind="party_member", status="verified")
    attendance = finished_attendance(person, start=night, minutes=120)

    committed(request, attendance)

    award = Award.objects.get()
    # 10/h × 2 h × 1.5 × 2 × 1.2 = 72
    assert award.points == 72 and award.rule.name == "夜巡"
    assert [step["code"] for step in award.explanation] == [
        "rule",
        "base_per_hour",
        "night",
        "holiday",
        "identity",
        "result",
    ]


def test_the_default_rule_covers_categories_without_their_own(committed):
    PointsRule.objects.create(name="默认", basis=PointsRule.Basis.PER_ATTENDANCE, base_points=3)
    committed(request, finished_attendance(category=category("mediation")))
    assert Award.objects.get().points == 3


def test_the_daily_cap_counts_earlier_awards_of_that_day(committed):
    PointsRule.objects.create(name="封顶", category=category(), daily_cap=50)
    person = UserFactory()
    morning = (timezone.localtime() - timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    points = []
    for hours in (0, 3, 6):
        committed(request, finished_attendance(person, start=morning + timedelta(hours=hours), points=20))
        points.append(Award.objects.latest("id").points)
    assert points == [20, 20, 10]
    assert balances(person)[Account.Unit.POINTS] == 50


def test_a_held_award_waits_for_staff_and_posts_when_approved(committed):
    PointsRule.objects.create(name="需审核", category=category(), needs_approval=True)
    attendance = finished_attendance()
    committed(request, attendance)
    award = Award.objects.get()
    assert award.status == Award.Status.PENDING and not Entry.objects.exists()

    staff = staff_of(award.grid)
    committed(awards.do_approve_award, award_id=award.pk, actor=staff)

    award.refresh_from_db()
    assert award.status == Award.Status.POSTED and award.decided_by == staff
    assert Entry.objects.get(key=f"award:{award.pk}:points").actor == staff
    with pytest.raises(AwardNotPending):
        awards.do_approve_award(award_id=award.pk, actor=staff)
    assert Entry.objects.count() == 2


def test_rejecting_needs_a_reason_and_tells_the_person(committed):
    PointsRule.objects.create(name="需审核", category=category(), needs_approval=True)
    committed(request, finished_attendance())
    award = Award.objects.get()
    staff = staff_of(award.grid)

    with pytest.raises(ReasonRequired):
        awards.do_reject_award(award_id=award.pk, actor=staff, reason="   ")
    awards.do_reject_award(award_id=award.pk, actor=staff, reason="签到记录与现场照片不符")

    award.refresh_from_db()
    assert award.status == Award.Status.REJECTED and award.reason == "签到记录与现场照片不符"
    assert not Entry.objects.exists()
    note = Notification.objects.get(recipient=award.person, key=f"award-rejected:{award.pk}")
    assert note.body == "签到记录与现场照片不符"
    with pytest.raises(AwardNotPending):
        awards.do_approve_award(award_id=award.pk, actor=staff)


def test_staff_outside_the_area_and_non_staff_cannot_decide(committed):
    PointsRule.objects.create(name="需审核", category=category(), needs_approval=True)
    committed(request, finished_attendance())
    award = Award.objects.get()
    elsewhere = StaffPostFactory(level=StaffPost.Level.COMMUNITY, community=CommunityFactory()).person
    for actor in (elsewhere, award.person, UserFactory()):
        with pytest.raises(NotAllowed):
            awards.do_approve_award(award_id=award.pk, actor=actor)
        with pytest.raises(NotAllowed):
            awards.do_reject_award(award_id=award.pk, actor=actor, reason="不行")
    street_staff = StaffPostFactory(
        level=StaffPost.Level.STREET, street=award.grid.community.street, community=None
    ).person
    committed(awards.do_approve_award, award_id=award.pk, actor=street_staff)
    assert Award.objects.get().status == Award.Status.POSTED


def test_reversing_a_posted_award_takes_back_points_and_minutes(committed):
    committed(request, finished_attendance(minutes=60, points=20))
    award = Award.objects.get()
    staff = staff_of(award.grid)

    with pytest.raises(ReasonRequired):
        awards.do_reverse_award(award_id=award.pk, actor=staff, reason="")
    awards.do_reverse_award(award_id=award.pk, actor=staff, reason="重复签到")

    award.refresh_from_db()
    assert award.status == Award.Status.REVERSED
    assert balances(award.person) == {Account.Unit.POINTS: 0, Account.Unit.MINUTES: 0}
    reversals = Entry.objects.filter(kind=Entry.Kind.REVERSAL).order_by("id")
    assert [(e.amount, e.reason, e.actor) for e in reversals] == [
        (-20, "重复签到", staff),
        (-60, "重复签到", staff),
    ]
    with pytest.raises(AwardNotPosted):
        awards.do_reverse_award(award_id=award.pk, actor=staff, reason="再来一次")


def test_points_already_spent_cannot_be_reversed_and_nothing_changes(committed):
    committed(request, finished_attendance(minutes=60, points=20))
    award = Award.objects.get()
    do_post(person_id=award.person_id, amount=-15, kind=Entry.Kind.REDEMPTION, key="spend", reason="兑换")

    with pytest.raises(InsufficientPoints):
        awards.do_reverse_award(award_id=award.pk, actor=staff_of(award.grid), reason="重复签到")

    assert Award.objects.get().status == Award.Status.POSTED
    assert balances(award.person) == {Account.Unit.POINTS: 5, Account.Unit.MINUTES: 60}
    assert not AwardEvent.objects.filter(status=Award.Status.REVERSED).exists()


def test_staff_adjust_balances_in_their_area_once_per_key_with_a_reason():
    attendance = finished_attendance()
    person = attendance.signup.person
    person.home_grid = attendance.signup.task.grid
    person.save()
    staff = staff_of(person.home_grid)

    first = awards.do_adjust_points(
        person_id=person.pk, amount=30, reason="补录纸质签到", actor=staff, key="k1"
    )
    again = awards.do_adjust_points(
        person_id=person.pk, amount=30, reason="补录纸质签到", actor=staff, key="k1"
    )
    assert first.created and not again.created
    assert first.entry.kind == Entry.Kind.ADJUSTMENT and first.entry.actor == staff
    awards.do_adjust_points(person_id=person.pk, amount=-10, reason="多记", actor=staff, key="k2")
    assert balances(person)[Account.Unit.POINTS] == 20

    with pytest.raises(InsufficientPoints):
        awards.do_adjust_points(person_id=person.pk, amount=-21, reason="多记", actor=staff, key="k3")
    with pytest.raises(ReasonRequired):
        awards.do_adjust_points(person_id=person.pk, amount=5, reason="", actor=staff, key="k4")
    with pytest.raises(NotAllowed):
        awards.do_adjust_points(
            person_id=person.pk,
            amount=5,
            reason="x",
            actor=StaffPostFactory(community=CommunityFactory()).person,
            key="k5",
        )
    with pytest.raises(NotAllowed):  # nobody corrects their own balance
        awards.do_adjust_points(person_id=staff.pk, amount=5, reason="x", actor=staff, key="k6")
    assert balances(person)[Account.Unit.POINTS] == 20 and Entry.objects.count() == 2
