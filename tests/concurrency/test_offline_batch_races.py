"""An offline batch of 500 scans uploaded three times at once, each copy shuffled: every nonce is stored
once, every scan that cannot be applied is flagged, and all three uploads agree on every answer."""

import random
from collections import Counter
from datetime import timedelta

import pytest
import time_machine

from tests.concurrency.support import errors, make_task, people, run_together
from volunteers.gridtasks import qr, services
from volunteers.gridtasks.models import Attendance, GridTask, Scan, SignUp

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _token(person, at) -> str:
    """The person's QR as their phone showed it at `at`."""
    code = services.personal_code_for(person)
    with time_machine.travel(at, tick=False):
        return qr.personal_qr_token(code)


def _scan(nonce, person, kind, at, token_at=None) -> dict:
    return {"nonce": nonce, "token": _token(person, token_at or at), "kind": kind, "scanned_at": at}


def test_batch_of_500_uploaded_three_times_in_parallel():
    rng = random.Random(500)
    task = make_task(starts_in=timedelta(hours=-3), hours=4, capacity=300, checkin_grace_minutes=30)
    start = task.starts_at
    crowd = people(260, "020")
    on_task, outsiders = crowd[:230], crowd[230:]
    for person in on_task:
        SignUp.objects.create(task=task, person=person, status=SignUp.Status.CONFIRMED)
    GridTask.objects.filter(pk=task.pk).update(taken=len(on_task))

    scans, bad = [], set()
    # 150 people checked in and out: 300 scans.
    for n, person in enumerate(on_task[:150]):
        scans.append(_scan(f"in-{n:04d}-nonce", person, "in", start + timedelta(minutes=n % 20)))
        scans.append(_scan(f"out-{n:04d}-nonce", person, "out", start + timedelta(hours=2, minutes=n % 30)))
    # 70 of them scanned in twice (a second device): harmless, answered "already checked in".
    for n, person in enumerate(on_task[:70]):
        scans.append(_scan(f"dup-{n:04d}-nonce", person, "in", start + timedelta(minutes=25)))
    # Bad scans, each to be refused and flagged:
    for n, person in enumerate(on_task[150:180]):  # check-out with no check-in
        nonce = f"out-only-{n:04d}"
        scans.append(_scan(nonce, person, "out", start + timedelta(hours=1)))
        bad.add(nonce)
    for n, person in enumerate(on_task[180:205]):  # long before the task (beyond the grace)
        nonce = f"too-early-{n:04d}"
        scans.append(_scan(nonce, person, "in", start - timedelta(minutes=45)))
        bad.add(nonce)
    for n, person in enumerate(on_task[205:230]):  # a personal QR already expired when it was scanned
        nonce = f"expired-qr-{n:04d}"
        at = start + timedelta(minutes=30)
        scans.append(_scan(nonce, person, "in", at, token_at=at - timedelta(minutes=11)))
        bad.add(nonce)
    for n, person in enumerate(outsiders):  # not signed up for this task
        nonce = f"not-mine-{n:04d}"
        scans.append(_scan(nonce, person, "in", start + timedelta(minutes=5)))
        bad.add(nonce)
    for n, person in enumerate(on_task[150:170]):  # a mangled code (a misread, or a forgery)
        nonce = f"mangled-{n:04d}"
        scan = _scan(nonce, person, "in", start + timedelta(minutes=40))
        scan["token"] = scan["token"][:-4] + ("AAAA" if not scan["token"].endswith("AAAA") else "BBBB")
        scans.append(scan)
        bad.add(nonce)
    assert len(scans) == 500 and len({s["nonce"] for s in scans}) == 500

    def upload(copy):
        return services.upload_offline_scans(task_id=task.pk, actor=task.created_by, scans=copy)

    copies = []
    for _ in range(3):
        copy = [dict(scan) for scan in scans]
        rng.shuffle(copy)
        copies.append(copy)
    outcomes = run_together([lambda copy=copy: upload(copy) for copy in copies], workers=3)
    assert errors(outcomes) == []

    # Stored once each; no duplicate rows whatever the interleaving.
    assert Scan.objects.filter(task=task).count() == 500
    assert Scan.objects.values("nonce").distinct().count() == 500
    # Every scan that could not be applied is flagged, and only those.
    refused = set(Scan.objects.filter(ok=False).values_list("nonce", flat=True))
    assert refused == bad
    assert set(Scan.objects.filter(conflict=True).values_list("nonce", flat=True)) == bad
    codes = Counter(Scan.objects.filter(ok=False).values_list("code", flat=True))
    assert codes == {
        "check_out_before_check_in": 30,
        "outside_window": 25,
        "stale_qr": 25,
        "not_signed_up": 30,
        "invalid_qr": 20,
    }

    # The three uploads gave the same answer for each nonce, and exactly one of them was not a replay.
    answers = {}
    first_time = Counter()
    for outcome in outcomes:
        for result in outcome.value:
            answers.setdefault(result["nonce"], set()).add((result["ok"], result["code"]))
            first_time[result["nonce"]] += not result["replay"]
    assert all(len(seen) == 1 for seen in answers.values())
    assert set(first_time.values()) == {1}

    attendance = Attendance.objects.filter(signup__task=task)
    assert attendance.count() == 150
    assert attendance.filter(checked_in_at__isnull=False, checked_out_at__isnull=False).count() == 150
    for row in attendance.select_related("signup"):
        assert row.checked_out_at > row.checked_in_at

    # A fourth, late upload changes nothing and answers from what is stored.
    again = upload(copies[0])
    assert all(result["replay"] for result in again)
    assert Scan.objects.count() == 500
