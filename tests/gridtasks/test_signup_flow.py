from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from points.models import Account, Award
from tests.factories import UserFactory
from tests.gridtasks.factories import GridTaskFactory
from volunteers.gridtasks import exceptions, qr, services
from volunteers.gridtasks.models import Attendance, GridTask, SignUp

pytestmark = pytest.mark.django_db


def test_full_task_waitlists_then_promotes_on_cancel():
    task = GridTaskFactory(capacity=1)
    first, second = UserFactory(), UserFactory()
    s1, created = services.do_sign_up(task_id=task.pk, person=first)
    assert created and s1.status == SignUp.Status.CONFIRMED
    s2, _ = services.do_sign_up(task_id=task.pk, person=second)
    assert s2.status == SignUp.Status.WAITLISTED

    services.do_cancel_signup(signup_id=s1.pk, actor=first)
    s2.refresh_from_db()
    task.refresh_from_db()
    assert s2.status == SignUp.Status.OFFERED and task.taken == 1
    services.do_confirm_offer(signup_id=s2.pk, person=second)
    s2.refresh_from_db()
    assert s2.status == SignUp.Status.CONFIRMED


def test_signing_up_twice_returns_the_same_signup():
    task = GridTaskFactory()
    person = UserFactory()
    a, created_a = services.do_sign_up(task_id=task.pk, person=person)
    b, created_b = services.do_sign_up(task_id=task.pk, person=person)
    assert a.pk == b.pk and created_a and not created_b
    task.refresh_from_db()
    assert task.taken == 1


def test_overlapping_tasks_are_refused():
    person = UserFactory()
    a = GridTaskFactory()
    b = GridTaskFactory(starts_at=a.starts_at + timedelta(hours=1), ends_at=a.ends_at + timedelta(hours=1))
    services.do_sign_up(task_id=a.pk, person=person)
    with pytest.raises(exceptions.Overlap):
        services.do_sign_up(task_id=b.pk, person=person)


def test_task_qr_check_in_and_out_then_final_attendance_requests_points_once(
    django_capture_on_commit_callbacks,
):
    task = GridTaskFactory(starts_at=timezone.now() - timedelta(minutes=5))
    task.ends_at = task.starts_at + timedelta(hours=2)
    task.save()
    person = UserFactory()
    SignUp.objects.create(task=task, person=person, status=SignUp.Status.CONFIRMED)
    GridTask.objects.filter(pk=task.pk).update(taken=1)

    payload = qr.task_qr_payload(task.public_code)
    result = services.check_by_task_qr(
        public_code=task.public_code, payload=payload, person=person, kind="in", nonce="nonce-in-1"
    )
    assert result.ok and result.code == "checked_in"
    replay = services.check_by_task_qr(
        public_code=task.public_code, payload=payload, person=person, kind="in", nonce="nonce-in-1"
    )
    assert replay.replay and replay.ok and replay.at == result.at

    with time_machine.travel(task.ends_at - timedelta(minutes=1)):
        payload = qr.task_qr_payload(task.public_code)
        out = services.check_by_task_qr(
            public_code=task.public_code, payload=payload, person=person, kind="out", nonce="nonce-out-1"
        )
        assert out.ok and out.code == "checked_out"

    later = task.ends_at + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):  # the award is posted after commit
        assert services.finalise_task_attendance(task_id=task.pk, now=later) == 1
    assert services.finalise_task_attendance(task_id=task.pk, now=later) == 0
    attendance = Attendance.objects.get(signup__person=person)
    assert attendance.counts and attendance.verified_minutes >= 100
    assert Award.objects.filter(person=person).count() == 1
    # With no points rule configured the task's own points are posted, with the verified minutes.
    award = Award.objects.get(person=person)
    assert award.status == Award.Status.POSTED and award.points == task.points
    balances = dict(Account.objects.filter(person=person).values_list("unit", "balance"))
    assert balances == {Account.Unit.POINTS: task.points, Account.Unit.MINUTES: attendance.verified_minutes}


def test_stale_and_forged_task_qr_are_refused():
    task = GridTaskFactory()
    old = qr.task_qr_payload(task.public_code, now=time_machine_now() - 120)
    with pytest.raises(exceptions.StaleQR):
        qr.verify_task_qr(task.public_code, old)
    good = qr.task_qr_payload(task.public_code)
    forged = good[:-1] + ("A" if good[-1] != "A" else "B")
    with pytest.raises(exceptions.InvalidQR):
        qr.verify_task_qr(task.public_code, forged)
    with pytest.raises(exceptions.InvalidQR):
        qr.verify_task_qr(GridTaskFactory().public_code, good)


def time_machine_now():
    import time

    return time.time()
