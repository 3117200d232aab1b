"""Check-in races on PostgreSQL with real threads: one check-in however many devices scan at once, and
a replayed nonce always gets the first answer."""

import random
from datetime import timedelta

import pytest

from tests.concurrency.support import errors, make_task, people, run_together
from volunteers.gridtasks import qr, services
from volunteers.gridtasks.models import Attendance, GridTask, Scan, SignUp

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _running_task_with(person) -> tuple[GridTask, SignUp]:
    task = make_task(starts_in=timedelta(minutes=-10))
    signup = SignUp.objects.create(task=task, person=person, status=SignUp.Status.CONFIRMED)
    GridTask.objects.filter(pk=task.pk).update(taken=1)
    return task, signup


def test_100_devices_and_100_replays_make_one_check_in():
    (volunteer,) = people(1, "010")
    task, signup = _running_task_with(volunteer)
    organiser = task.created_by
    payload = qr.task_qr_payload(task.public_code)
    token = qr.personal_qr_token(services.personal_code_for(volunteer))

    def volunteer_scans(nonce):
        return services.check_by_task_qr(
            public_code=task.public_code, payload=payload, person=volunteer, kind="in", nonce=nonce
        )

    def organiser_scans(nonce):
        return services.check_by_personal_qr(
            task_id=task.pk, token=token, actor=organiser, kind="in", nonce=nonce
        )

    # Several devices: the volunteer's phone on the task QR, the organiser's kiosk on the personal QR.
    devices = [
        (lambda n=n: (volunteer_scans if n % 2 else organiser_scans)(f"device-{n:04d}-nonce"))
        for n in range(100)
    ]
    replays = [lambda: volunteer_scans("the-one-replayed-nonce")] * 100
    jobs = devices + replays
    order = list(range(len(jobs)))
    random.Random(7).shuffle(order)
    outcomes = run_together([jobs[i] for i in order])
    assert errors(outcomes) == []
    results = [None] * len(jobs)
    for position, index in enumerate(order):
        results[index] = outcomes[position].value

    attendance = Attendance.objects.get(signup=signup)
    assert attendance.checked_in_at is not None
    assert Scan.objects.filter(signup=signup, code="checked_in").count() == 1
    assert Scan.objects.filter(signup=signup).count() == 101  # 100 device nonces + the replayed one
    for result in results:
        assert result.ok and result.code in ("checked_in", "already_checked_in")
        assert result.at == attendance.checked_in_at  # every answer names the one check-in time

    device_results, replay_results = results[:100], results[100:]
    # One nonce made the check-in: either one device, or the replayed nonce (then all of its 100
    # answers repeat the recorded "checked_in", which is what an idempotent replay must do).
    nonces_that_checked_in = [r.code for r in device_results].count("checked_in") + (
        replay_results[0].code == "checked_in"
    )
    assert nonces_that_checked_in == 1
    first = [r for r in replay_results if not r.replay]
    assert len(first) == 1, "exactly one of the replays was the original"
    for result in replay_results:
        assert (result.ok, result.code, result.at) == (first[0].ok, first[0].code, first[0].at)


def test_check_in_and_check_out_racing_keep_the_order():
    """Check-outs sent while the check-in is still on its way are refused, never stored without it."""
    (volunteer,) = people(1, "011")
    task, signup = _running_task_with(volunteer)
    token = qr.personal_qr_token(services.personal_code_for(volunteer))
    jobs = [
        lambda n=n: services.check_by_personal_qr(
            task_id=task.pk,
            token=token,
            actor=task.created_by,
            kind="in" if n % 2 else "out",
            nonce=f"mixed-{n:05d}",
        )
        for n in range(60)
    ]
    outcomes = run_together(jobs)
    assert errors(outcomes) == []
    attendance = Attendance.objects.get(signup=signup)
    assert attendance.checked_in_at is not None
    if attendance.checked_out_at is not None:
        assert attendance.checked_out_at >= attendance.checked_in_at
    codes = [outcome.value.code for outcome in outcomes]
    assert codes.count("checked_in") == 1 and codes.count("checked_out") <= 1
    assert set(codes) <= {
        "checked_in",
        "already_checked_in",
        "checked_out",
        "already_checked_out",
        "check_out_before_check_in",
    }
