"""Scores stay equal to the ledger when posts race on PostgreSQL (real threads, real row locks)."""

import pytest
from django.db.models import Sum

from points.leaderboards.models import Score
from points.leaderboards.services import rebuild_scores
from points.models import Entry
from points.services.ledger import do_post, do_reverse
from tests.concurrency.support import errors, run_together
from tests.factories import GridFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_racing_awards_and_reversals_leave_scores_equal_to_the_ledger():
    grid = GridFactory()
    people = [UserFactory(home_grid=grid) for _ in range(3)]
    first = [
        do_post(
            person_id=p.pk, amount=7, kind=Entry.Kind.ATTENDANCE, key=f"race-first:{p.pk}", reason="t"
        ).entry
        for p in people
    ]
    jobs = [
        (
            lambda n=n: do_post(
                person_id=people[n % 3].pk,
                amount=1 + n % 5,
                kind=Entry.Kind.CASE_REWARD if n % 2 else Entry.Kind.ATTENDANCE,
                key=f"race:{n}",
                reason="race",
            )
        )
        for n in range(60)
    ]
    jobs += [lambda e=e: do_reverse(entry_id=e.pk, actor=None, reason="race") for e in first]

    outcomes = run_together(jobs)

    assert errors(outcomes) == []
    for person in people:
        earned = Entry.objects.filter(account__person=person, kind__in=["attendance", "case"])
        total = earned.exclude(reversed_by__isnull=False).aggregate(s=Sum("amount"))["s"]
        assert Score.objects.get(person=person, period="all").points == total
    kept = sorted(Score.objects.values_list("person_id", "period", "points", "last_earned_at"))
    rebuild_scores()
    assert sorted(Score.objects.values_list("person_id", "period", "points", "last_earned_at")) == kept
