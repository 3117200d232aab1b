"""Awards from attendance on PostgreSQL with real threads: however often and however concurrently an
award is requested or posted, each attendance gives exactly one points entry and one minutes entry."""

import random
from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from points import tasks
from points.exceptions import KeyReused
from points.models import Account, Award, Entry
from points.services import awards
from points.services.ledger import do_post
from tests.concurrency.support import errors, make_task, people, run_together
from volunteers.gridtasks import services as gridtasks
from volunteers.gridtasks.models import Attendance, GridTask, SignUp

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def ended_task_with_attendance(volunteers, *, minutes=90):
    """A task that ended two hours ago, each volunteer checked in and out."""
    task = make_task(starts_in=timedelta(hours=-4), hours=2, capacity=len(volunteers), points=15)
    GridTask.objects.filter(pk=task.pk).update(taken=len(volunteers))
    for person in volunteers:
        signup = SignUp.objects.create(task=task, person=person, status=SignUp.Status.CONFIRMED)
        Attendance.objects.create(
            signup=signup,
            checked_in_at=task.starts_at,
            checked_out_at=task.starts_at + timedelta(minutes=minutes),
        )
    return task


def finished(volunteers, minutes=90):
    """Final, counting attendances whose award has not been requested yet."""
    task = ended_task_with_attendance(volunteers, minutes=minutes)
    Attendance.objects.filter(signup__task=task).update(
        verified_minutes=minutes, counts=True, status=Attendance.Status.FINAL, finalised_at=timezone.now()
    )
    return task, list(Attendance.objects.filter(signup__task=task).select_related("signup").order_by("pk"))


def request_in_transaction(attendance, *, minutes=None):
    with transaction.atomic():  # the contract: inside the transaction that made the attendance final
        return awards.request_attendance_award(
            attendance_id=attendance.pk,
            person_id=attendance.signup.person_id,
            minutes=attendance.verified_minutes if minutes is None else minutes,
            points=15,
            category_id=attendance.signup.task.category_id,
        )


def requested_but_not_posted(attendances) -> list[int]:
    """Awards requested with their post_award task held back, so the test runs the task itself."""
    with mock.patch.object(tasks.post_award, "delay_on_commit"):
        for attendance in attendances:
            request_in_transaction(attendance)
    assert not Entry.objects.exists()
    return [Award.objects.get(key=f"attendance:{a.pk}").pk for a in attendances]


def assert_each_posted_once(attendances, *, points=15, minutes=90):
    for attendance in attendances:
        award = Award.objects.get(key=f"attendance:{attendance.pk}")
        assert award.status == Award.Status.POSTED
        person = attendance.signup.person_id
        assert (
            Entry.objects.filter(account__person_id=person, key__startswith=f"award:{award.pk}:").count() == 2
        )
        assert dict(Account.objects.filter(person_id=person).values_list("unit", "balance")) == {
            "points": points,
            "minutes": minutes,
        }


def test_every_award_request_repeated_ten_times_in_parallel_makes_one_entry_each():
    volunteers = people(8, "401")
    _task, attendances = finished(volunteers)
    jobs = [lambda a=a: request_in_transaction(a) for a in attendances for _ in range(10)]
    random.Random(4).shuffle(jobs)

    outcomes = run_together(jobs)

    assert errors(outcomes) == []
    assert [o.value for o in outcomes].count(True) == len(attendances)
    assert Award.objects.count() == len(attendances)
    assert Entry.objects.count() == 2 * len(attendances)
    assert_each_posted_once(attendances)


def test_a_repeated_request_with_a_different_body_changes_nothing():
    volunteers = people(1, "402")
    _task, (attendance,) = finished(volunteers)
    jobs = [
        lambda m=m: request_in_transaction(attendance, minutes=m) for m in [90] * 5 + [10, 20, 30, 40, 50]
    ]
    outcomes = run_together(jobs)
    assert errors(outcomes) == []
    assert [o.value for o in outcomes].count(True) == 1
    award = Award.objects.get()
    assert Entry.objects.get(key=f"award:{award.pk}:minutes").amount == award.minutes
    assert Entry.objects.count() == 2


def test_the_same_ledger_key_with_a_different_body_is_refused_under_concurrency():
    (person,) = people(1, "403")

    def post(amount):
        return do_post(
            person_id=person.pk, amount=amount, kind=Entry.Kind.ATTENDANCE, key="award:x:points", reason="r"
        )

    outcomes = run_together([lambda a=a: post(a) for a in [10] * 10 + [11] * 10])
    entry = Entry.objects.get(key="award:x:points")
    created = [o.value.created for o in outcomes if o.error is None]
    assert created.count(True) == 1
    for outcome in outcomes:
        if outcome.error is not None:
            assert isinstance(outcome.error, KeyReused)
        else:
            assert outcome.value.entry.pk == entry.pk
    refused_amount = 11 if entry.amount == 10 else 10
    assert sum(1 for o in outcomes if o.error is not None) == 10  # every request of the other body
    assert refused_amount != entry.amount
    assert Account.objects.get(person=person).balance == entry.amount


def test_post_award_run_concurrently_posts_exactly_once():
    volunteers = people(5, "404")
    _task, attendances = finished(volunteers)
    award_ids = requested_but_not_posted(attendances)

    jobs = [
        lambda pk=pk: tasks.post_award.apply(args=[pk], throw=True).result
        for pk in award_ids
        for _ in range(10)
    ]
    random.Random(5).shuffle(jobs)
    outcomes = run_together(jobs)

    assert errors(outcomes) == []
    assert Entry.objects.count() == 2 * len(award_ids)
    assert_each_posted_once(attendances)


class WorkerDied(Exception):
    pass


def test_a_worker_dying_mid_task_then_reruns_in_parallel_still_post_once(monkeypatch):
    volunteers = people(3, "405")
    _task, attendances = finished(volunteers)
    award_ids = requested_but_not_posted(attendances)

    real_mark = awards._mark_posted

    def die(award):  # after the points (and minutes) entries were written, before the award is marked
        assert Entry.objects.filter(key=f"award:{award.pk}:points").exists()
        raise WorkerDied

    monkeypatch.setattr(awards, "_mark_posted", die)
    for pk in award_ids:
        with pytest.raises(WorkerDied):
            tasks.post_award.apply(args=[pk], throw=True)
    assert not Entry.objects.exists()  # the dead worker's transaction took its entries with it
    assert set(Award.objects.values_list("status", flat=True)) == {Award.Status.APPROVED}

    monkeypatch.setattr(awards, "_mark_posted", real_mark)
    outcomes = run_together(
        [lambda pk=pk: tasks.post_award.apply(args=[pk], throw=True).result for pk in award_ids * 8]
    )
    assert errors(outcomes) == []
    assert Entry.objects.count() == 2 * len(award_ids)
    assert_each_posted_once(attendances)


def test_finalising_a_task_from_many_workers_awards_each_attendance_once():
    volunteers = people(10, "406")
    task = ended_task_with_attendance(volunteers, minutes=120)
    outcomes = run_together([lambda: gridtasks.finalise_task_attendance(task_id=task.pk)] * 10, workers=10)
    assert errors(outcomes) == []
    assert sorted(o.value for o in outcomes) == [0] * 9 + [10]
    attendances = list(Attendance.objects.filter(signup__task=task).select_related("signup"))
    assert Award.objects.count() == 10
    assert_each_posted_once(attendances, points=15, minutes=120)
