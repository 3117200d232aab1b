"""Redemption races on PostgreSQL with real threads: stock and points never go below zero and a
repeated request with one key makes one ledger entry, however the requests interleave."""

import pytest
from django.db.models import Sum

from points.exceptions import InsufficientPoints
from points.models import Account, Entry
from points.redemption import exceptions, services
from points.redemption.models import Redemption, RewardItem
from points.services.ledger import do_post
from tests.concurrency.support import errors, people, run_together
from tests.points.redemption.support import RewardItemFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def grant(person, amount):
    do_post(
        person_id=person.pk, amount=amount, kind=Entry.Kind.ADJUSTMENT, key=f"grant:{person.pk}", reason="t"
    )


def redeem(item, person, key):
    return lambda: services.do_redeem(item_code=item.public_code, actor=person, key=key)


def account(person) -> Account:
    return Account.objects.get(person=person, unit=Account.Unit.POINTS)


def test_100_redemptions_from_250_points_exactly_two_succeed():
    (person,) = people(1, "401")
    grant(person, 250)
    # Two items, so the account lock (not only the item lock) is what decides.
    items = [RewardItemFactory(price=100, stock=1000), RewardItemFactory(price=100, stock=1000)]
    outcomes = run_together([redeem(items[n % 2], person, f"race-key-{n:04d}") for n in range(100)])

    succeeded = [o.value for o in outcomes if o.error is None]
    assert len(succeeded) == 2
    assert all(isinstance(e, InsufficientPoints) for e in errors(outcomes))
    acc = account(person)
    assert acc.balance == 50 >= 0
    assert acc.entries.aggregate(total=Sum("amount"))["total"] == 50
    assert Redemption.objects.count() == 2
    assert sum(RewardItem.objects.get(pk=i.pk).stock for i in items) == 1998


def test_100_people_against_stock_10_exactly_ten_succeed():
    crowd = people(100, "402")
    for person in crowd:
        grant(person, 100)
    item = RewardItemFactory(price=100, stock=10)
    outcomes = run_together([redeem(item, person, "race-one-key") for person in crowd])

    assert len([o for o in outcomes if o.error is None]) == 10
    assert all(isinstance(e, exceptions.OutOfStock) for e in errors(outcomes))
    assert RewardItem.objects.get(pk=item.pk).stock == 0
    assert Redemption.objects.count() == 10
    assert Entry.objects.filter(kind=Entry.Kind.REDEMPTION).count() == 10
    assert not Account.objects.filter(balance__lt=0).exists()


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
def test_one_request_repeated_ten_times_makes_one_entry(parallel):
    (person,) = people(1, "403" if parallel else "404")
    grant(person, 1000)
    item = RewardItemFactory(price=100, stock=50)
    jobs = [redeem(item, person, "the-one-key-0001")] * 10
    if parallel:
        outcomes = run_together(jobs, workers=10)
        assert errors(outcomes) == []
        results = [o.value for o in outcomes]
    else:
        results = [job() for job in jobs]

    assert [r.created for r in results].count(True) == 1
    assert len({r.redemption.pk for r in results}) == 1
    assert Entry.objects.filter(kind=Entry.Kind.REDEMPTION).count() == 1
    assert account(person).balance == 900
    assert RewardItem.objects.get(pk=item.pk).stock == 49


def test_the_same_key_for_two_items_at_once_makes_one_redemption():
    (person,) = people(1, "405")
    grant(person, 1000)
    a, b = RewardItemFactory(price=100, stock=50), RewardItemFactory(price=100, stock=50)
    outcomes = run_together(
        [redeem(a if n % 2 else b, person, "shared-key-0001") for n in range(20)], workers=20
    )

    assert Redemption.objects.count() == 1
    assert Entry.objects.filter(kind=Entry.Kind.REDEMPTION).count() == 1
    assert account(person).balance == 900
    chosen = Redemption.objects.get().item_id
    for n, outcome in enumerate(outcomes):
        item = a if n % 2 else b
        if item.pk == chosen:
            assert outcome.error is None
        else:
            assert outcome.error is not None and outcome.error.code == "idempotency_key_reused"


def test_cancel_and_expiry_and_hand_over_racing_settle_on_one_outcome():
    from datetime import timedelta

    from django.utils import timezone

    from tests.points.redemption.support import merchant_staff

    (person,) = people(1, "406")
    grant(person, 100)
    item = RewardItemFactory(price=100, stock=1)
    r = services.do_redeem(item_code=item.public_code, actor=person, key="settle-key-01").redemption
    staff = merchant_staff(item.merchant)
    later = timezone.now() + timedelta(days=30)
    jobs = []
    for n in range(30):
        if n % 3 == 0:
            jobs.append(lambda: services.do_cancel(public_code=r.public_code, actor=person))
        elif n % 3 == 1:
            jobs.append(lambda: services.do_expire(redemption_id=r.pk, now=later))
        else:
            jobs.append(
                lambda: services.do_hand_over(
                    merchant_code=item.merchant.public_code, code=r.short_code, actor=staff
                )
            )
    run_together(jobs, workers=15)

    final = Redemption.objects.get(pk=r.pk)
    refunds = Entry.objects.filter(kind=Entry.Kind.REFUND).count()
    assert refunds == (0 if final.status == Redemption.Status.HANDED_OVER else 1)
    assert account(person).balance == (0 if final.status == Redemption.Status.HANDED_OVER else 100)
    assert RewardItem.objects.get(pk=item.pk).stock == (
        0 if final.status == Redemption.Status.HANDED_OVER else 1
    )
