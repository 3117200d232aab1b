"""Sign-up races on PostgreSQL with real threads: places are never overbooked or duplicated."""

from datetime import timedelta

import pytest

from tests.concurrency.support import errors, make_task, people, run_together
from volunteers.gridtasks import services
from volunteers.gridtasks.models import GridTask, SignUp, SignUpEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 20
CAPACITY = 50
APPLICANTS = 200


def test_200_people_race_for_50_places_twenty_times():
    applicants = people(APPLICANTS, "001")
    for round_ in range(ROUNDS):
        # A new day each round: these people's earlier sign-ups must not count as overlapping.
        task = make_task(starts_in=timedelta(days=round_ + 1), capacity=CAPACITY)
        outcomes = run_together(
            [
                lambda person=person, task_id=task.pk: services.do_sign_up(task_id=task_id, person=person)
                for person in applicants
            ]
        )
        assert errors(outcomes) == [], f"round {round_}"
        answers = [outcome.value for outcome in outcomes]
        assert all(created for _signup, created in answers)
        statuses = [signup.status for signup, _created in answers]
        assert statuses.count(SignUp.Status.CONFIRMED) == CAPACITY, f"round {round_}"
        assert statuses.count(SignUp.Status.WAITLISTED) == APPLICANTS - CAPACITY, f"round {round_}"

        # What the database holds agrees with what the callers were told.
        rows = SignUp.objects.filter(task=task)
        assert rows.count() == APPLICANTS
        assert rows.values("person").distinct().count() == APPLICANTS
        assert rows.filter(status=SignUp.Status.CONFIRMED).count() == CAPACITY
        assert GridTask.objects.get(pk=task.pk).taken == CAPACITY
        assert SignUpEvent.objects.filter(signup__task=task).count() == APPLICANTS


def test_one_person_sending_20_sign_ups_at_once_gets_one():
    (person,) = people(1, "002")
    for round_ in range(5):
        task = make_task(starts_in=timedelta(days=round_ + 1), capacity=5)
        outcomes = run_together(
            [lambda task_id=task.pk: services.do_sign_up(task_id=task_id, person=person)] * 20, workers=20
        )
        assert errors(outcomes) == []
        signups = {outcome.value[0].pk for outcome in outcomes}
        created = [outcome.value[1] for outcome in outcomes]
        assert len(signups) == 1 and created.count(True) == 1
        assert SignUp.objects.filter(task=task, person=person).count() == 1
        assert GridTask.objects.get(pk=task.pk).taken == 1


def test_cancellations_and_sign_ups_racing_never_overbook():
    """People leave while others join: every freed place goes to the waitlist, never beyond capacity."""
    crowd = people(120, "003")
    task = make_task(starts_in=timedelta(days=2), capacity=30)
    first = [services.do_sign_up(task_id=task.pk, person=person)[0] for person in crowd[:60]]
    leaving = [signup for signup in first if signup.status == SignUp.Status.CONFIRMED][:20]
    jobs = [
        lambda signup=signup: services.do_cancel_signup(signup_id=signup.pk, actor=signup.person)
        for signup in leaving
    ] + [lambda person=person: services.do_sign_up(task_id=task.pk, person=person) for person in crowd[60:]]
    outcomes = run_together(jobs)
    assert errors(outcomes) == []
    task.refresh_from_db()
    holding = SignUp.objects.filter(task=task, status__in=SignUp.HOLDS_PLACE).count()
    assert task.taken == holding == 30
    assert SignUp.objects.filter(task=task, status__in=SignUp.LIVE).values("person").distinct().count() == (
        SignUp.objects.filter(task=task, status__in=SignUp.LIVE).count()
    )
