"""Per-case reward approvals racing on PostgreSQL with real threads: a street's budget is never
overspent, and one reward approved many times at once pays each contributor once."""

from collections import Counter

import pytest
from django.db.models import Sum

from points.cases import exceptions, selectors, services
from points.cases.models import Reward
from points.models import Account, Entry
from tests.concurrency.support import errors, run_together
from tests.factories import GridFactory, UserFactory
from tests.points.cases.support import budget, category, closed, grid_worker, report, street_staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _rewards(n, *, grid, staff, reporter, points, helpers_for=lambda i: []):
    cat = category(points=points)
    rewards = []
    for i in range(n):
        helpers = helpers_for(i)
        case = report(
            reporter,
            grid,
            cat,
            title=f"并发案件{i}",
            contributors=[services.ContributorIn(person_id=h.pk, role="handler") for h in helpers],
        )
        rewards.append(closed(case, staff))
    return rewards


def test_forty_approvals_against_a_budget_that_fits_ten_never_overspend():
    grid = GridFactory()
    street = grid.community.street
    staff = street_staff(street)
    reporter = grid_worker(grid)
    budget(street, 1000)
    rewards = _rewards(40, grid=grid, staff=staff, reporter=reporter, points=100)

    outcomes = run_together(
        [lambda rid=r.pk: services.do_approve_reward(reward_id=rid, actor=staff) for r in rewards]
    )

    refused = errors(outcomes)
    assert all(isinstance(e, exceptions.OverBudget) for e in refused), refused
    assert len(refused) == 30
    assert Reward.objects.filter(status=Reward.Status.APPROVED).count() == 10
    assert Reward.objects.filter(status=Reward.Status.PENDING).count() == 30
    figures = selectors.budgets_with_figures().get(street=street)
    assert figures.spent == 1000 and figures.remaining == 0
    assert Entry.objects.aggregate(total=Sum("amount"))["total"] == 1000
    assert Account.objects.get(person=reporter, unit=Account.Unit.POINTS).balance == 1000


def test_approvals_paying_overlapping_people_neither_deadlock_nor_overspend():
    grid = GridFactory()
    street = grid.community.street
    staff = street_staff(street)
    reporter = grid_worker(grid)
    pool = [UserFactory(notify_sms=False) for _ in range(4)]
    budget(street, 25 * 3 * 8)  # eight rewards of three people × 25 points fit
    # Each reward pays the reporter and two of the pool, listed in differing orders, so the accounts
    # locked by concurrent approvals overlap: lock_accounts' fixed order keeps them from deadlocking.
    rewards = _rewards(
        24,
        grid=grid,
        staff=staff,
        reporter=reporter,
        points=25,
        helpers_for=lambda i: [pool[i % 4], pool[(i + 1 + i % 2) % 4]][:: 1 if i % 2 else -1],
    )

    outcomes = run_together(
        [lambda rid=r.pk: services.do_approve_reward(reward_id=rid, actor=staff) for r in rewards]
    )

    refused = errors(outcomes)
    assert all(isinstance(e, exceptions.OverBudget) for e in refused), refused
    approved = Reward.objects.filter(status=Reward.Status.APPROVED)
    assert approved.count() == 8 and len(refused) == 16
    assert selectors.budgets_with_figures().get(street=street).spent == 600
    assert Entry.objects.aggregate(total=Sum("amount"))["total"] == 600
    for account in Account.objects.filter(unit=Account.Unit.POINTS):
        assert account.balance == account.entries.aggregate(total=Sum("amount"))["total"]


def test_one_reward_approved_by_twenty_requests_at_once_pays_each_contributor_once():
    grid = GridFactory()
    street = grid.community.street
    staff, second_staff = street_staff(street), street_staff(street)
    reporter = grid_worker(grid)
    helpers = [UserFactory(notify_sms=False) for _ in range(3)]
    budget(street, 10_000)
    (reward,) = _rewards(
        1, grid=grid, staff=staff, reporter=reporter, points=70, helpers_for=lambda i: helpers
    )

    outcomes = run_together(
        [
            lambda actor=(staff if n % 2 else second_staff): services.do_approve_reward(
                reward_id=reward.pk, actor=actor
            )
            for n in range(20)
        ],
        workers=20,
    )

    assert errors(outcomes) == []
    assert all(o.value.status == Reward.Status.APPROVED for o in outcomes)
    entries = Entry.objects.filter(source=f"reward:{reward.pk}")
    assert Counter(entries.values_list("account__person_id", flat=True)) == Counter(
        [reporter.pk, *(h.pk for h in helpers)]
    )
    assert all(e.amount == 70 for e in entries)
    assert reward.events.filter(status=Reward.Status.APPROVED).count() == 1
    assert selectors.budgets_with_figures().get(street=street).spent == 280
