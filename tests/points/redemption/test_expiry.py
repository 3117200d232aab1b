"""Points expiry: points earned in year Y and unspent expire at the end of Y+1 (by default), spending
counts against the oldest points first, never below zero, once per person and year."""

import datetime as dt

import pytest
from django.utils import timezone

from points.models import Account, Entry
from points.redemption.tasks import expire_points
from points.services import expiry
from points.services.ledger import do_post
from tests.factories import UserFactory
from tests.points.redemption.support import balance

pytestmark = pytest.mark.django_db


@pytest.fixture
def at(monkeypatch):
    """Post entries as if at a given local date (created_at comes from timezone.now)."""

    def set_day(day: dt.date):
        moment = timezone.make_aware(dt.datetime(day.year, day.month, day.day, 12))
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_day


def earn(person, amount, day, key, at, kind=Entry.Kind.ATTENDANCE):
    at(day)
    return do_post(person_id=person.pk, amount=amount, kind=kind, key=key, reason="t").entry


def spend(person, amount, day, key, at, kind=Entry.Kind.REDEMPTION):
    at(day)
    return do_post(person_id=person.pk, amount=-amount, kind=kind, key=key, reason="t").entry


def run(day, **kwargs):
    return expiry.expire_points(today=day, force=True, **kwargs)


def test_unspent_points_of_the_expiring_year_expire_spending_the_oldest_first(at):
    person = UserFactory(notify_sms=False)
    earn(person, 100, dt.date(2024, 3, 1), "e1", at)
    earn(person, 50, dt.date(2025, 6, 1), "e2", at)
    spend(person, 70, dt.date(2025, 7, 1), "s1", at)  # takes 70 of 2024's 100
    at(dt.date(2026, 1, 1))

    assert run(dt.date(2026, 1, 1)) == 1
    entry = Entry.objects.get(kind=Entry.Kind.EXPIRY)
    assert entry.amount == -30 and entry.key == f"expiry:{person.pk}:2024"
    assert balance(person) == 50  # 2025's points are kept until the end of 2026


def test_expiry_is_idempotent_even_after_later_spending(at):
    person = UserFactory(notify_sms=False)
    earn(person, 100, dt.date(2024, 3, 1), "e1", at)
    earn(person, 100, dt.date(2025, 3, 1), "e2", at)
    at(dt.date(2026, 1, 2))
    assert run(dt.date(2026, 1, 2)) == 1
    spend(person, 60, dt.date(2026, 1, 3), "s1", at)
    assert run(dt.date(2026, 1, 3)) == 0
    assert expiry.expire_for(person_id=person.pk, year=2024) is None
    assert Entry.objects.filter(kind=Entry.Kind.EXPIRY).count() == 1
    assert balance(person) == 40


def test_the_next_year_counts_the_earlier_expiry_as_spent(at):
    person = UserFactory(notify_sms=False)
    earn(person, 100, dt.date(2024, 3, 1), "e1", at)
    earn(person, 80, dt.date(2025, 3, 1), "e2", at)
    spend(person, 30, dt.date(2025, 12, 1), "s1", at)
    at(dt.date(2026, 1, 1))
    run(dt.date(2026, 1, 1))  # 2024: 100 - 30 = 70 expire
    spend(person, 50, dt.date(2026, 5, 1), "s2", at)  # from 2025's 80
    at(dt.date(2027, 1, 1))
    run(dt.date(2027, 1, 1))  # 2025: 80 - 50 = 30 expire

    amounts = list(
        Entry.objects.filter(kind=Entry.Kind.EXPIRY).order_by("id").values_list("amount", flat=True)
    )
    assert amounts == [-70, -30]
    assert balance(person) == 0


def test_everything_spent_means_nothing_expires_and_never_below_zero(at):
    person = UserFactory(notify_sms=False)
    earn(person, 100, dt.date(2024, 3, 1), "e1", at)
    spend(person, 100, dt.date(2024, 4, 1), "s1", at)
    earn(person, 20, dt.date(2025, 3, 1), "e2", at)
    at(dt.date(2026, 1, 1))
    assert run(dt.date(2026, 1, 1)) == 0
    assert balance(person) == 20
    assert not Account.objects.filter(balance__lt=0).exists()


def test_refunds_and_reversals_give_back_spending_not_new_earnings(at):
    person = UserFactory(notify_sms=False)
    earn(person, 100, dt.date(2024, 3, 1), "e1", at)
    spend(person, 100, dt.date(2025, 3, 1), "s1", at)
    # A cancelled redemption refunded in 2025 returns 2024's points: they still expire at the end of 2025.
    at(dt.date(2025, 3, 2))
    do_post(person_id=person.pk, amount=100, kind=Entry.Kind.REFUND, key="r1", reason="t")
    at(dt.date(2026, 1, 1))
    assert run(dt.date(2026, 1, 1)) == 1
    assert balance(person) == 0


def test_verified_minutes_never_expire(at):
    person = UserFactory(notify_sms=False)
    at(dt.date(2024, 3, 1))
    do_post(
        person_id=person.pk,
        amount=120,
        kind=Entry.Kind.ATTENDANCE,
        key="m1",
        reason="t",
        unit=Account.Unit.MINUTES,
    )
    at(dt.date(2026, 1, 1))
    assert run(dt.date(2026, 1, 1)) == 0
    assert Account.objects.get(person=person, unit=Account.Unit.MINUTES).balance == 120


def test_the_years_setting_moves_the_deadline(at, settings):
    settings.POINTS_EXPIRY_YEARS = 3
    person = UserFactory(notify_sms=False)
    earn(person, 100, dt.date(2024, 3, 1), "e1", at)
    at(dt.date(2026, 6, 1))
    assert run(dt.date(2026, 6, 1)) == 0
    at(dt.date(2027, 1, 1))
    assert run(dt.date(2027, 1, 1)) == 1


def test_the_task_does_nothing_unless_enabled(at, settings):
    person = UserFactory(notify_sms=False)
    earn(person, 100, dt.date(2020, 3, 1), "e1", at)
    monkey_today = dt.date(2026, 1, 1)
    at(monkey_today)
    settings.POINTS_EXPIRY_ENABLED = False
    assert expire_points.delay().get() == 0
    settings.POINTS_EXPIRY_ENABLED = True
    assert expire_points.delay().get() == 1
    assert balance(person) == 0
