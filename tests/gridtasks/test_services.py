"""The grid-task services: who may sign up and when, the waitlist, series, scans and attendance."""

from dataclasses import FrozenInstanceError
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.exceptions import GongzhiError
from core.models import Notification
from points.models import Award
from tests.factories import GridFactory, IdentityClaimFactory, UserFactory
from tests.gridtasks.factories import GridTaskFactory
from volunteers.exceptions import OutOfScope
from volunteers.gridtasks import exceptions, qr, services
from volunteers.gridtasks.models import (
    Attendance,
    AttendanceCorrection,
    GridTask,
    Scan,
    SignUp,
    SignUpEvent,
)
from volunteers.models import DutyCategory, IdentityClaim

pytestmark = pytest.mark.django_db


def _hold_place(task: GridTask, person=None) -> SignUp:
    """A confirmed place made directly, for tasks already under way (sign-up closes at the start)."""
    signup = SignUp.objects.create(task=task, person=person or UserFactory(), status=SignUp.Status.CONFIRMED)
    GridTask.objects.filter(pk=task.pk).update(
        taken=task.signups.filter(status=SignUp.Status.CONFIRMED).count()
    )
    return signup


def _running_task(**fields) -> GridTask:
    start = timezone.now() - timedelta(minutes=10)
    return GridTaskFactory(starts_at=start, ends_at=start + timedelta(hours=2), **fields)


def _token(person, at=None) -> str:
    """The person's QR as shown on their phone now, or at `at` (a scan is judged at its own time)."""
    if at is None:
        return qr.personal_qr_token(services.personal_code_for(person))
    with time_machine.travel(at, tick=False):
        return qr.personal_qr_token(services.personal_code_for(person))


def _scan(task, person, kind, nonce, **extra):
    return services.check_by_personal_qr(
        task_id=task.pk, token=_token(person), actor=task.created_by, kind=kind, nonce=nonce, **extra
    )


# --- eligibility ---------------------------------------------------------------------------------------
def test_home_grid_task_takes_only_residents_of_its_grid():
    task = GridTaskFactory(home_grid_only=True)
    outsider = UserFactory(home_grid=GridFactory())
    nowhere = UserFactory()
    resident = UserFactory(home_grid=task.grid)

    for person in (outsider, nowhere):
        with pytest.raises(exceptions.NotEligible):
            services.do_sign_up(task_id=task.pk, person=person)
    signup, created = services.do_sign_up(task_id=task.pk, person=resident)
    assert created and signup.status == SignUp.Status.CONFIRMED
    assert task.signups.count() == 1


def test_identity_task_needs_a_verified_identity_of_that_kind():
    task = GridTaskFactory(eligible_identities=["party_member", "deputy"])
    claimed_only = UserFactory()
    IdentityClaimFactory(person=claimed_only, kind="party_member", grid=task.grid)
    other_identity = UserFactory()
    IdentityClaimFactory(person=other_identity, kind="volunteer", status=IdentityClaim.Status.VERIFIED)
    deputy = UserFactory()
    IdentityClaimFactory(person=deputy, kind="deputy", grid=None, status=IdentityClaim.Status.VERIFIED)

    for person in (claimed_only, other_identity):
        with pytest.raises(exceptions.NotEligible) as refused:
            services.do_sign_up(task_id=task.pk, person=person)
        assert refused.value.code == "not_eligible" and refused.value.status == 403
    signup, _ = services.do_sign_up(task_id=task.pk, person=deputy)
    assert signup.status == SignUp.Status.CONFIRMED


# --- notice, window, cut-off ---------------------------------------------------------------------------
def test_must_read_notice_must_be_acknowledged_first():
    task = GridTaskFactory(notice="夜间巡逻请穿反光背心，两人一组。")
    person = UserFactory()
    with pytest.raises(exceptions.NoticeNotAcknowledged):
        services.do_sign_up(task_id=task.pk, person=person)
    assert not SignUp.objects.exists()

    signup, _ = services.do_sign_up(task_id=task.pk, person=person, acknowledged_notice=True)
    assert signup.notice_acknowledged_at is not None


def test_task_without_notice_records_no_acknowledgement():
    signup, _ = services.do_sign_up(
        task_id=GridTaskFactory().pk, person=UserFactory(), acknowledged_notice=True
    )
    assert signup.notice_acknowledged_at is None


def test_sign_up_only_inside_the_window_of_a_published_task():
    now = timezone.now()
    task = GridTaskFactory(
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=2),
        signup_opens_at=now + timedelta(days=1),
        signup_closes_at=now + timedelta(days=2),
    )
    person = UserFactory()
    with pytest.raises(exceptions.SignupNotOpen) as early:
        services.do_sign_up(task_id=task.pk, person=person)
    assert "报名将于" in str(early.value.message)  # "Sign-up opens on …", formatted when raised

    with (
        time_machine.travel(now + timedelta(days=2, minutes=1), tick=False),
        pytest.raises(exceptions.SignupNotOpen),
    ):
        services.do_sign_up(task_id=task.pk, person=person)

    with time_machine.travel(now + timedelta(days=1, hours=1), tick=False):
        signup, _ = services.do_sign_up(task_id=task.pk, person=person)
    assert signup.status == SignUp.Status.CONFIRMED

    draft = GridTaskFactory(status=GridTask.Status.DRAFT)
    with pytest.raises(exceptions.SignupNotOpen):
        services.do_sign_up(task_id=draft.pk, person=person)


def test_sign_up_closes_when_the_task_starts_without_a_closing_time():
    task = _running_task()
    with pytest.raises(exceptions.SignupNotOpen):
        services.do_sign_up(task_id=task.pk, person=UserFactory())


def test_confirmed_place_cannot_be_cancelled_after_the_cut_off():
    task = GridTaskFactory(
        starts_at=timezone.now() + timedelta(hours=3), cancel_cutoff_minutes=120, capacity=1
    )
    task.ends_at = task.starts_at + timedelta(hours=2)
    task.save()
    holder, waiting = UserFactory(), UserFactory()
    confirmed, _ = services.do_sign_up(task_id=task.pk, person=holder)
    queued, _ = services.do_sign_up(task_id=task.pk, person=waiting)

    with time_machine.travel(task.starts_at - timedelta(minutes=119), tick=False):
        with pytest.raises(exceptions.CancelTooLate):
            services.do_cancel_signup(signup_id=confirmed.pk, actor=holder)
        # Leaving the waitlist is always possible; the organiser may still remove someone.
        assert services.do_cancel_signup(signup_id=queued.pk, actor=waiting).status == SignUp.Status.CANCELLED
        removed = services.do_cancel_signup(signup_id=confirmed.pk, actor=task.created_by, reason="生病")
    assert removed.status == SignUp.Status.CANCELLED
    assert SignUpEvent.objects.filter(signup=removed, actor=task.created_by, reason="生病").exists()


def test_cancel_before_the_cut_off_frees_the_place():
    task = GridTaskFactory(capacity=1)
    person = UserFactory()
    signup, _ = services.do_sign_up(task_id=task.pk, person=person)
    services.do_cancel_signup(signup_id=signup.pk, actor=person)
    task.refresh_from_db()
    assert task.taken == 0
    with pytest.raises(GongzhiError) as again:
        services.do_cancel_signup(signup_id=signup.pk, actor=person)
    assert again.value.code == "signup_not_live"


def test_someone_else_cannot_cancel_my_sign_up():
    task = GridTaskFactory()
    signup, _ = services.do_sign_up(task_id=task.pk, person=UserFactory())
    with pytest.raises(OutOfScope):
        services.do_cancel_signup(signup_id=signup.pk, actor=UserFactory())


def test_unknown_sign_up_is_not_found_not_a_crash():
    with pytest.raises(GongzhiError) as missing:
        services.do_cancel_signup(signup_id=987654, actor=UserFactory())
    assert missing.value.status == 404
    with pytest.raises(GongzhiError) as missing:
        services.do_confirm_offer(signup_id=987654, person=UserFactory())
    assert missing.value.status == 404


# --- waitlist and offers -------------------------------------------------------------------------------
def test_waitlist_is_served_in_order_and_an_expired_offer_moves_on():
    task = GridTaskFactory(capacity=1, offer_minutes=60)
    holder, first, second, third = UserFactory(), UserFactory(), UserFactory(), UserFactory()
    held, _ = services.do_sign_up(task_id=task.pk, person=holder)
    queue = [services.do_sign_up(task_id=task.pk, person=p)[0] for p in (first, second, third)]
    assert [s.status for s in queue] == [SignUp.Status.WAITLISTED] * 3

    cancelled_at = timezone.now()
    services.do_cancel_signup(signup_id=held.pk, actor=holder)
    for signup in queue:
        signup.refresh_from_db()
    assert [s.status for s in queue] == [
        SignUp.Status.OFFERED,
        SignUp.Status.WAITLISTED,
        SignUp.Status.WAITLISTED,
    ]
    assert queue[0].offered_until - cancelled_at == pytest.approx(
        timedelta(minutes=60), abs=timedelta(seconds=5)
    )
    assert Notification.objects.filter(recipient=first, key__startswith="offer:").count() == 1

    # Not yet expired: nothing moves.
    assert services.expire_offers(now=queue[0].offered_until - timedelta(seconds=1)) == 0
    later = queue[0].offered_until + timedelta(seconds=1)
    assert services.expire_offers(now=later) == 1
    assert services.expire_offers(now=later) == 0  # a second run changes nothing
    for signup in queue:
        signup.refresh_from_db()
    assert [s.status for s in queue] == [
        SignUp.Status.EXPIRED,
        SignUp.Status.OFFERED,
        SignUp.Status.WAITLISTED,
    ]
    assert Notification.objects.filter(recipient=second, key__startswith="offer:").count() == 1

    with pytest.raises(exceptions.OfferNotOpen):
        services.do_confirm_offer(signup_id=queue[0].pk, person=first)
    with time_machine.travel(later, tick=False):
        confirmed = services.do_confirm_offer(signup_id=queue[1].pk, person=second)
    assert confirmed.status == SignUp.Status.CONFIRMED
    task.refresh_from_db()
    assert task.taken == 1
    assert SignUp.objects.get(pk=queue[2].pk).status == SignUp.Status.WAITLISTED


def test_offer_confirmed_after_its_deadline_is_refused_even_before_the_sweep():
    task = GridTaskFactory(capacity=1, offer_minutes=30)
    holder, waiting = UserFactory(), UserFactory()
    held, _ = services.do_sign_up(task_id=task.pk, person=holder)
    queued, _ = services.do_sign_up(task_id=task.pk, person=waiting)
    services.do_cancel_signup(signup_id=held.pk, actor=holder)
    queued.refresh_from_db()
    with (
        time_machine.travel(queued.offered_until + timedelta(seconds=1), tick=False),
        pytest.raises(exceptions.OfferNotOpen),
    ):
        services.do_confirm_offer(signup_id=queued.pk, person=waiting)


def test_full_task_signs_up_to_the_waitlist_and_overlap_is_refused():
    task = GridTaskFactory(capacity=2)
    people = [UserFactory() for _ in range(3)]
    statuses = [services.do_sign_up(task_id=task.pk, person=p)[0].status for p in people]
    assert statuses == [SignUp.Status.CONFIRMED, SignUp.Status.CONFIRMED, SignUp.Status.WAITLISTED]
    overlapping = GridTaskFactory(starts_at=task.starts_at + timedelta(hours=3))
    with pytest.raises(exceptions.Overlap):
        services.do_sign_up(task_id=overlapping.pk, person=people[2])  # waitlisted counts too


# --- task changes --------------------------------------------------------------------------------------
def test_capacity_cannot_go_below_the_places_taken():
    task = GridTaskFactory(capacity=3)
    for _ in range(2):
        services.do_sign_up(task_id=task.pk, person=UserFactory())
    with pytest.raises(GongzhiError) as refused:
        services.do_update_task(actor=task.created_by, task_id=task.pk, capacity=1)
    assert refused.value.code == "capacity_below_taken"
    task.refresh_from_db()
    assert task.capacity == 3 and task.taken == 2
    assert services.do_update_task(actor=task.created_by, task_id=task.pk, capacity=2).capacity == 2


def test_raising_capacity_offers_the_new_places_to_the_waitlist():
    task = GridTaskFactory(capacity=1)
    services.do_sign_up(task_id=task.pk, person=UserFactory())
    waiting, _ = services.do_sign_up(task_id=task.pk, person=UserFactory())
    services.do_update_task(actor=task.created_by, task_id=task.pk, capacity=2)
    waiting.refresh_from_db()
    task.refresh_from_db()
    assert waiting.status == SignUp.Status.OFFERED and task.taken == 2


def test_cancelling_a_task_tells_each_person_once():
    task = GridTaskFactory(capacity=2)
    people = [UserFactory() for _ in range(3)]  # two confirmed, one waitlisted
    for person in people:
        services.do_sign_up(task_id=task.pk, person=person)
    gone = UserFactory()
    left, _ = services.do_sign_up(
        task_id=GridTaskFactory(starts_at=task.starts_at + timedelta(days=2)).pk, person=gone
    )

    with pytest.raises(GongzhiError):
        services.do_cancel_task(actor=task.created_by, task_id=task.pk, reason="  ")
    services.do_cancel_task(actor=task.created_by, task_id=task.pk, reason="台风预警")
    services.do_cancel_task(actor=task.created_by, task_id=task.pk, reason="台风预警")  # twice: no effect

    task.refresh_from_db()
    assert task.status == GridTask.Status.CANCELLED and task.taken == 0
    assert set(task.signups.values_list("status", flat=True)) == {SignUp.Status.CANCELLED}
    for person in people:
        assert Notification.objects.filter(recipient=person, key__startswith="task-cancelled:").count() == 1
    assert not Notification.objects.filter(recipient=gone, key__startswith="task-cancelled:").exists()
    with pytest.raises(OutOfScope):
        services.do_cancel_task(actor=UserFactory(), task_id=left.task_id, reason="不是我的")


# --- series --------------------------------------------------------------------------------------------
def _grid_worker(grid):
    worker = UserFactory()
    IdentityClaimFactory(
        person=worker, kind="grid_worker_full", grid=grid, status=IdentityClaim.Status.VERIFIED
    )
    return worker


def _series_fields(grid):
    return {
        "title": "夜间巡防",
        "category": DutyCategory.objects.get(code="patrol"),
        "grid": grid,
        "place_name": "社区岗亭",
        "capacity": 4,
    }


def test_series_makes_two_night_shifts_on_the_chosen_weekdays():
    grid = GridFactory()
    worker = _grid_worker(grid)
    monday = date(2031, 3, 3)
    series = services.do_create_series(
        actor=worker,
        first_date=monday,
        last_date=monday + timedelta(days=13),
        weekdays=[0, 2, 4],
        shifts=[("19:00", "23:00"), ("23:00", "03:00")],
        publish=True,
        **_series_fields(grid),
    )
    tasks = list(series.tasks.order_by("starts_at"))
    assert len(tasks) == 6 * 2
    tz = timezone.get_current_timezone()
    for task in tasks:
        start, end = timezone.localtime(task.starts_at, tz), timezone.localtime(task.ends_at, tz)
        assert start.weekday() in (0, 2, 4)
        assert task.duration_minutes == 240
        assert task.status == GridTask.Status.PUBLISHED and task.grid == grid and task.created_by == worker
        if start.hour == 23:
            # The second shift crosses midnight: it ends at 03:00 the next day.
            assert (end.date() - start.date()).days == 1 and end.hour == 3
        else:
            assert (start.hour, end.hour, end.date()) == (19, 23, start.date())
    assert len({t.public_code for t in tasks}) == len(tasks)


def test_series_with_no_weekdays_runs_every_day_and_bad_input_is_refused():
    grid = GridFactory()
    worker = _grid_worker(grid)
    first = date(2031, 3, 3)
    series = services.do_create_series(
        actor=worker,
        first_date=first,
        last_date=first + timedelta(days=2),
        weekdays=[],
        shifts=[("08:00", "10:00")],
        **_series_fields(grid),
    )
    assert series.tasks.count() == 3 and set(series.tasks.values_list("status", flat=True)) == {"draft"}
    for kwargs, code in (
        ({"last_date": first - timedelta(days=1), "shifts": [("08:00", "10:00")]}, "bad_dates"),
        ({"last_date": first, "shifts": []}, "no_shifts"),
        ({"last_date": first, "shifts": [("25:00", "26:00")]}, "bad_shift"),
        ({"last_date": first + timedelta(days=400), "shifts": [("08:00", "10:00")]}, "series_too_long"),
    ):
        with pytest.raises(GongzhiError) as refused:
            services.do_create_series(
                actor=worker, first_date=first, weekdays=[], **kwargs, **_series_fields(grid)
            )
        assert refused.value.code == code
    with pytest.raises(OutOfScope):
        services.do_create_series(
            actor=UserFactory(),
            first_date=first,
            last_date=first,
            weekdays=[],
            shifts=[("08:00", "10:00")],
            **_series_fields(grid),
        )


# --- scans ---------------------------------------------------------------------------------------------
def test_check_out_before_check_in_is_refused_and_recorded():
    task = _running_task()
    person = UserFactory()
    _hold_place(task, person)
    result = _scan(task, person, "out", "early-out-1")
    assert not result.ok and result.code == "check_out_before_check_in" and result.status == 409
    assert not Attendance.objects.exists()
    scan = Scan.objects.get(nonce="early-out-1")
    assert not scan.ok and not scan.conflict  # online: the organiser saw the refusal at once
    # Replaying the nonce gets the same refusal, even once the person has checked in.
    assert _scan(task, person, "in", "in-1").ok
    replay = _scan(task, person, "out", "early-out-1")
    assert replay.replay and not replay.ok and replay.code == "check_out_before_check_in"


def test_check_out_earlier_than_the_check_in_is_refused():
    task = _running_task()
    person = UserFactory()
    signup = _hold_place(task, person)
    now = timezone.now()
    services.record_scan(
        task=task,
        signup=signup,
        kind="in",
        method=Scan.Method.OFFLINE,
        actor=task.created_by,
        nonce="offline-in-1",
        scanned_at=now,
        offline=True,
    )
    refused = services.record_scan(
        task=task,
        signup=signup,
        kind="out",
        method=Scan.Method.OFFLINE,
        actor=task.created_by,
        nonce="offline-out-1",
        scanned_at=now - timedelta(minutes=5),
        offline=True,
    )
    assert refused.code == "check_out_before_check_in"
    assert Scan.objects.get(nonce="offline-out-1").conflict


def test_a_scans_locked_look_up_reads_into_a_frozen_record_of_what_it_read():
    """No half-filled GridTask or SignUp: every field of the record holds what the database holds."""
    task = _running_task(geofence_radius_m=150, latitude=Decimal("32.0620"), longitude=Decimal("118.6301"))
    person = UserFactory(name="欧阳小明")
    signup = _hold_place(task, person)
    with transaction.atomic():
        place = services._lock_place(services._BY_ID, [signup.pk, task.pk])
    assert isinstance(place, services.ScanPlace)
    assert (place.signup_id, place.status, place.person_id, place.task_id, place.public_code) == (
        signup.pk,
        SignUp.Status.CONFIRMED,
        person.pk,
        task.pk,
        task.public_code,
    )
    assert (place.starts_at, place.ends_at) == (task.starts_at, task.ends_at)
    assert place.checkin_grace_minutes == task.checkin_grace_minutes and place.geofence_radius_m == 150
    assert Decimal(str(place.latitude)) == Decimal("32.0620") and place.masked_name == person.masked_name
    with pytest.raises(FrozenInstanceError):
        place.status = SignUp.Status.CANCELLED


def test_scans_are_accepted_within_the_grace_around_the_task_only():
    start = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    task = GridTaskFactory(starts_at=start, ends_at=start + timedelta(hours=2), checkin_grace_minutes=30)
    person = UserFactory()
    _hold_place(task, person)

    with time_machine.travel(start - timedelta(minutes=31), tick=False):
        early = _scan(task, person, "in", "too-early-1")
    assert early.code == "outside_window" and not early.ok
    with time_machine.travel(start - timedelta(minutes=29), tick=False):
        assert _scan(task, person, "in", "in-within-grace").code == "checked_in"
    with time_machine.travel(task.ends_at + timedelta(minutes=31), tick=False):
        assert _scan(task, person, "out", "too-late-1").code == "outside_window"
    with time_machine.travel(task.ends_at + timedelta(minutes=29), tick=False):
        assert _scan(task, person, "out", "out-within-grace").code == "checked_out"
    attendance = Attendance.objects.get()
    assert attendance.checked_in_at == start - timedelta(minutes=29)
    assert attendance.checked_out_at == task.ends_at + timedelta(minutes=29)


def _check_in_by_task_qr(task, person, location, nonce):
    """The person scans the task's QR (as shown now) with their phone, which sends `location` or None."""
    return services.check_by_task_qr(
        public_code=task.public_code,
        payload=qr.task_qr_payload(task.public_code),
        person=person,
        kind="in",
        nonce=nonce,
        location=location,
    )


def test_geofence_keeps_only_the_distance_and_the_verdict():
    task = _running_task(
        latitude=Decimal("32.061700"), longitude=Decimal("118.630000"), geofence_radius_m=200
    )
    near, far = UserFactory(), UserFactory()
    _hold_place(task, near)
    _hold_place(task, far)

    def check(person, location, nonce):
        return _check_in_by_task_qr(task, person, location, nonce)

    # About 111 m north of the place: inside the 200 m radius.
    ok = check(near, (32.0627, 118.63), "geo-near-1")
    assert ok.ok
    attendance = Attendance.objects.get(signup__person=near)
    assert attendance.check_in_geofence_ok is True and 100 <= attendance.check_in_distance_m <= 125

    refused = check(far, (32.0717, 118.63), "geo-far-1")  # about 1.1 km
    assert not refused.ok and refused.code == "outside_geofence" and refused.status == 403
    assert not Attendance.objects.filter(signup__person=far).exists()
    # Nothing anywhere holds the coordinates the phone sent.
    for model in (Attendance, Scan):
        names = {field.name for field in model._meta.get_fields()}
        assert not {n for n in names if "lat" in n or "lon" in n or "location" in n}, model
    assert "32.07" not in Scan.objects.get(nonce="geo-far-1").reason

    # Without consent (no location) the check-in is not blocked and no distance is stored.
    third = UserFactory()
    _hold_place(task, third)
    assert check(third, None, "geo-none-1").ok
    attendance = Attendance.objects.get(signup__person=third)
    assert attendance.check_in_distance_m is None and attendance.check_in_geofence_ok is None


def test_a_check_in_far_away_after_one_in_place_answers_already_checked_in():
    task = _running_task(
        latitude=Decimal("32.061700"), longitude=Decimal("118.630000"), geofence_radius_m=200
    )
    person = UserFactory()
    _hold_place(task, person)

    def check(location, nonce):
        return _check_in_by_task_qr(task, person, location, nonce)

    first = check((32.0627, 118.63), "geo-first-1")
    again = check((32.0717, 118.63), "geo-again-1")  # about 1.1 km away, once already in
    assert first.ok and again.ok and again.code == "already_checked_in" and again.at == first.at
    attendance = Attendance.objects.get(signup__person=person)
    assert attendance.checked_in_at == first.at and attendance.check_in_geofence_ok is True


def test_a_check_in_fills_in_attendance_a_correction_left_without_one():
    task = _running_task()
    person = UserFactory()
    signup = _hold_place(task, person)
    organiser = task.created_by
    services.do_correct_attendance(
        signup_id=signup.pk,
        actor=organiser,
        checked_in_at=None,
        checked_out_at=None,
        reason="扫错了人",
    )
    assert Attendance.objects.get(signup=signup).checked_in_at is None

    result = _scan(task, person, "in", "after-correction-1")
    assert result.ok and result.code == "checked_in"
    attendance = Attendance.objects.get(signup=signup)
    assert attendance.checked_in_at == result.at and attendance.corrections.count() == 1
    assert _scan(task, person, "in", "after-correction-2").code == "already_checked_in"


def test_a_check_in_at_a_busy_gate_is_one_locked_read_and_two_inserts():
    """With the organiser's right to scan remembered, the hot path finds the task, the person and their
    place in one locked query, then writes the attendance and the scan, however many came before."""
    task = _running_task()
    people = [UserFactory() for _ in range(3)]
    for person in people:
        _hold_place(task, person)
    tokens = [_token(person) for person in people]

    def scan(n):
        return services.check_by_personal_qr(
            public_code=task.public_code,
            token=tokens[n],
            actor=task.created_by,
            kind="in",
            nonce=f"gate-{n}-x",
        )

    assert scan(0).ok  # the first scan checks the organiser's scope, and remembers it
    for n in (1, 2):
        with CaptureQueriesContext(connection) as queries:
            assert scan(n).code == "checked_in"
        sql = [
            q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
        ]
        assert [statement.split()[0] for statement in sql] == ["SELECT", "INSERT", "INSERT"]
        assert "FOR UPDATE" in sql[0] or connection.vendor == "sqlite"  # SQLite locks the whole file


def test_qr_of_another_task_is_refused_and_nothing_is_recorded():
    task, other = _running_task(), _running_task()
    person = UserFactory()
    _hold_place(other, person)
    with pytest.raises(exceptions.InvalidQR):
        services.check_by_task_qr(
            public_code=task.public_code,
            payload=qr.task_qr_payload(other.public_code),
            person=person,
            kind="in",
            nonce="wrong-task-1",
        )
    # The person's own code scanned at a task they are not on.
    with pytest.raises(exceptions.NotSignedUp):
        _scan(task, person, "in", "wrong-task-2")
    assert not Scan.objects.exists() and not Attendance.objects.exists()


def test_only_an_organiser_of_the_task_may_scan_people_in():
    task = _running_task()
    person = UserFactory()
    _hold_place(task, person)
    with pytest.raises(OutOfScope):
        services.check_by_personal_qr(
            task_id=task.pk, token=_token(person), actor=person, kind="in", nonce="self-scan-1"
        )
    worker = _grid_worker(task.grid)
    result = services.check_by_personal_qr(
        task_id=task.pk, token=_token(person), actor=worker, kind="in", nonce="worker-scan-1"
    )
    assert result.ok and Scan.objects.get(nonce="worker-scan-1").actor == worker
    with pytest.raises(exceptions.TaskNotFound):
        services.check_by_personal_qr(
            task_id=987654, token=_token(person), actor=worker, kind="in", nonce="x" * 8
        )


def test_a_nonce_cannot_be_reused_for_another_person():
    task = _running_task()
    first, second = UserFactory(), UserFactory()
    _hold_place(task, first)
    _hold_place(task, second)
    assert _scan(task, first, "in", "shared-nonce").ok
    with pytest.raises(GongzhiError) as refused:
        _scan(task, second, "in", "shared-nonce")
    assert refused.value.code == "nonce_reused" and refused.value.status == 409
    assert not Attendance.objects.filter(signup__person=second).exists()


def test_offline_batch_is_applied_in_scan_order_and_counted_once():
    task = _running_task()
    people = [UserFactory() for _ in range(3)]
    for person in people:
        _hold_place(task, person)
    outsider = UserFactory()
    now = timezone.now()
    scans = []
    for n, person in enumerate(people):
        scans.append(
            {
                "nonce": f"out-{n}-nonce",
                "token": _token(person, now - timedelta(minutes=1)),
                "kind": "out",
                "scanned_at": now - timedelta(minutes=1),
            }
        )
        scans.append(
            {
                "nonce": f"in-{n}-nonce-",
                "token": _token(person, now - timedelta(minutes=9)),
                "kind": "in",
                "scanned_at": now - timedelta(minutes=9),
            }
        )
    scans.append({"nonce": "outsider-in", "token": _token(outsider), "kind": "in", "scanned_at": now})
    scans.append(
        {
            "nonce": "future-in-1",
            "token": _token(people[0], now + timedelta(hours=1)),
            "kind": "in",
            "scanned_at": now + timedelta(hours=1),
        }
    )

    first = services.upload_offline_scans(task_id=task.pk, actor=task.created_by, scans=scans)
    assert [r["nonce"] for r in first] == [s["nonce"] for s in scans]  # answered in the order sent
    codes = {r["nonce"]: r["code"] for r in first}
    assert codes["out-0-nonce"] == "checked_out" and codes["in-0-nonce-"] == "checked_in"
    assert codes["outsider-in"] == "not_signed_up"
    assert codes["future-in-1"] == "future_scan"
    assert not any(r["replay"] for r in first)

    second = services.upload_offline_scans(
        task_id=task.pk, actor=task.created_by, scans=list(reversed(scans))
    )
    assert all(r["replay"] for r in second)
    assert {r["nonce"]: r["code"] for r in second} == codes
    assert Scan.objects.count() == len(scans)
    assert set(Scan.objects.filter(ok=False).values_list("conflict", flat=True)) == {True}
    assert Attendance.objects.filter(checked_out_at__isnull=False).count() == 3


def test_offline_batch_larger_than_the_limit_is_refused_whole():
    task = _running_task()
    with pytest.raises(exceptions.BadBatch):
        services.upload_offline_scans(
            task_id=task.pk, actor=task.created_by, scans=[{}] * (services.MAX_BATCH + 1)
        )
    assert not Scan.objects.exists()


# --- corrections and attendance ------------------------------------------------------------------------
def test_staff_correction_is_logged_with_its_reason():
    start = timezone.now() - timedelta(hours=5)
    task = GridTaskFactory(starts_at=start, ends_at=start + timedelta(hours=2))
    person = UserFactory()
    signup = _hold_place(task, person)
    services.finalise_task_attendance(task_id=task.pk)
    signup.refresh_from_db()
    assert signup.status == SignUp.Status.NO_SHOW

    with pytest.raises(GongzhiError) as no_reason:
        services.do_correct_attendance(
            signup_id=signup.pk,
            actor=task.created_by,
            checked_in_at=start,
            checked_out_at=task.ends_at,
            reason="",
        )
    assert no_reason.value.code == "reason_required"
    with pytest.raises(OutOfScope):
        services.do_correct_attendance(
            signup_id=signup.pk,
            actor=person,
            checked_in_at=start,
            checked_out_at=task.ends_at,
            reason="我来过",
        )
    with pytest.raises(exceptions.CheckOutBeforeCheckIn):
        services.do_correct_attendance(
            signup_id=signup.pk,
            actor=task.created_by,
            checked_in_at=task.ends_at,
            checked_out_at=start,
            reason="录反了",
        )

    attendance = services.do_correct_attendance(
        signup_id=signup.pk,
        actor=task.created_by,
        checked_in_at=start,
        checked_out_at=task.ends_at,
        reason="手机没电，纸质签到表为证",
    )
    correction = AttendanceCorrection.objects.get()
    assert correction.actor == task.created_by and correction.reason == "手机没电，纸质签到表为证"
    assert correction.before == {"in": None, "out": None}
    assert correction.after == {"in": start.isoformat(), "out": task.ends_at.isoformat()}
    assert (
        attendance.status == Attendance.Status.FINAL
        and attendance.counts
        and attendance.verified_minutes == 120
    )
    signup.refresh_from_db()
    assert signup.status == SignUp.Status.ATTENDED
    assert Award.objects.filter(person=person).count() == 1


def test_finalisation_applies_the_presence_rule_and_records_no_shows():
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=4)
    task = GridTaskFactory(
        starts_at=start,
        ends_at=start + timedelta(minutes=100),
        min_presence_percent=60,
        checkin_grace_minutes=30,
    )
    enough, short, forgot, absent, waitlisted = (UserFactory() for _ in range(5))
    times = {
        enough: (start - timedelta(minutes=10), start + timedelta(minutes=60)),  # 60 of 100 minutes: counts
        short: (start + timedelta(minutes=41), task.ends_at),  # 59 minutes: does not
        forgot: (start + timedelta(minutes=5), None),  # never checked out
    }
    for person, (checked_in, checked_out) in times.items():
        Attendance.objects.create(
            signup=_hold_place(task, person), checked_in_at=checked_in, checked_out_at=checked_out
        )
    _hold_place(task, absent)
    SignUp.objects.create(task=task, person=waitlisted, status=SignUp.Status.WAITLISTED)

    assert services.finalise_task_attendance(task_id=task.pk, now=task.ends_at + timedelta(minutes=29)) == 0
    assert not Attendance.objects.filter(finalised_at__isnull=False).exists()

    assert services.finalise_task_attendance(task_id=task.pk) == 3
    assert services.finalise_task_attendance(task_id=task.pk) == 0  # idempotent

    def attendance(person):
        return Attendance.objects.get(signup__person=person)

    assert (attendance(enough).verified_minutes, attendance(enough).counts) == (60, True)
    assert attendance(enough).status == Attendance.Status.FINAL
    assert (attendance(short).verified_minutes, attendance(short).counts) == (59, False)
    closed = attendance(forgot)
    assert (
        closed.auto_closed
        and closed.checked_out_at == task.ends_at
        and closed.status == Attendance.Status.FLAGGED
    )
    assert closed.verified_minutes == 95
    statuses = dict(SignUp.objects.filter(task=task).values_list("person", "status"))
    assert statuses[absent.pk] == SignUp.Status.NO_SHOW
    assert statuses[enough.pk] == statuses[short.pk] == statuses[forgot.pk] == SignUp.Status.ATTENDED
    assert statuses[waitlisted.pk] == SignUp.Status.WAITLISTED
    # Points are asked for only the final attendance that counts (the flagged one waits for review).
    assert list(Award.objects.values_list("person", flat=True)) == [enough.pk]
    assert Award.objects.get().minutes == 60


# --- reminders -----------------------------------------------------------------------------------------
def test_reminders_go_out_once_each_however_often_the_job_runs():
    now = timezone.now()
    task = GridTaskFactory(starts_at=now + timedelta(hours=23), capacity=2)
    people = [UserFactory() for _ in range(3)]
    for person in people:
        services.do_sign_up(task_id=task.pk, person=person)  # the third is waitlisted

    def reminders():
        return Notification.objects.filter(key__startswith="reminder-")

    services.send_reminders(now=now)
    services.send_reminders(now=now + timedelta(minutes=5))
    assert reminders().filter(key__startswith="reminder-day:").count() == 2
    services.send_reminders(now=task.starts_at - timedelta(minutes=90))  # between the two: nothing new
    assert reminders().count() == 2

    services.send_reminders(now=task.starts_at - timedelta(minutes=55))
    services.send_reminders(now=task.starts_at - timedelta(minutes=50))
    assert reminders().filter(key__startswith="reminder-hour:").count() == 2
    assert reminders().count() == 4
    assert not reminders().filter(recipient=people[2]).exists()
    for person in people[:2]:
        signup = SignUp.objects.get(task=task, person=person)
        keys = set(reminders().filter(recipient=person).values_list("key", flat=True))
        assert keys == {f"reminder-day:{signup.pk}", f"reminder-hour:{signup.pk}"}


def test_started_or_cancelled_tasks_get_no_reminder():
    now = timezone.now()
    task = GridTaskFactory(starts_at=now + timedelta(hours=5))
    services.do_sign_up(task_id=task.pk, person=UserFactory())
    services.do_cancel_task(actor=task.created_by, task_id=task.pk, reason="取消")
    services.send_reminders(now=now)
    assert not Notification.objects.filter(key__startswith="reminder-").exists()


def test_scan_time_in_the_future_is_refused_for_offline_scans():
    task = _running_task()
    person = UserFactory()
    signup = _hold_place(task, person)
    result = services.record_scan(
        task=task,
        signup=signup,
        kind="in",
        method=Scan.Method.OFFLINE,
        actor=task.created_by,
        nonce="future-offline",
        scanned_at=timezone.now() + timedelta(minutes=10),
        offline=True,
    )
    assert result.code == "future_scan" and Scan.objects.get(nonce="future-offline").conflict


def test_unknown_kind_is_refused():
    task = _running_task()
    person = UserFactory()
    _hold_place(task, person)
    with pytest.raises(GongzhiError) as refused:
        _scan(task, person, "sideways", "kind-nonce-1")
    assert refused.value.code == "bad_kind"
