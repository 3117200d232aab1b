"""Grid-task operations: create and publish tasks, sign up with a waitlist, check in and out by QR,
and turn scans into attendance.

Locking: every operation that changes a task's places takes row locks in one order — the person, then
the task, then the sign-up — and checks only after it holds them, so concurrent requests line up
instead of overbooking. The database backs this: `taken <= capacity` and one live sign-up per person
and task are constraints.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import GongzhiError, NotFound
from core.masking import mask_name
from core.notifications import notify
from volunteers.exceptions import OutOfScope
from volunteers.models import IdentityClaim, User
from volunteers.scopes import scope_for
from volunteers.signals import VerifiedWork, work_verified

from . import exceptions, qr
from .models import (
    Attendance,
    AttendanceCorrection,
    GridTask,
    PersonalCode,
    Scan,
    SignUp,
    SignUpEvent,
    TaskSeries,
)

LIVE = SignUp.LIVE
HOLDS_PLACE = SignUp.HOLDS_PLACE
# A cancellation of a task starting sooner than this is sent even in the volunteers' quiet hours.
URGENT_CANCELLATION = timedelta(hours=12)


# --- tasks ----------------------------------------------------------------------------------------------
def check_can_manage_task(*, actor: User, task: GridTask) -> None:
    if not scope_for(actor).can_change(task):
        raise OutOfScope()


def check_can_create_in(*, actor: User, grid, organisation=None) -> None:
    """Staff and grid workers create tasks in grids they manage; organisation admins for their own."""
    scope = scope_for(actor)
    if organisation is not None:
        if organisation.pk in scope.admin_org_ids or scope.can_change(organisation):
            return
        raise OutOfScope()
    if not scope.managed_grids().filter(pk=grid.pk).exists():
        raise OutOfScope()


def do_create_task(*, actor: User, publish: bool = False, **fields) -> GridTask:
    """Create a task from validated fields (see forms.TaskForm). Scope: see check_can_create_in."""
    check_can_create_in(actor=actor, grid=fields["grid"], organisation=fields.get("organisation"))
    task = GridTask(created_by=actor, **fields)
    task.status = GridTask.Status.PUBLISHED if publish else GridTask.Status.DRAFT
    task.full_clean(exclude=["public_code"])
    task.save()
    return task


def do_update_task(*, actor: User, task_id: int, **fields) -> GridTask:
    with transaction.atomic():
        task = GridTask.objects.select_for_update().get(pk=task_id)
        check_can_manage_task(actor=actor, task=task)
        if task.status == GridTask.Status.CANCELLED:
            raise GongzhiError(_("A cancelled task cannot be edited."), code="task_cancelled")
        if "capacity" in fields and fields["capacity"] < task.taken:
            raise GongzhiError(
                _("%(n)d people already hold a place: the capacity cannot be lower.") % {"n": task.taken},
                code="capacity_below_taken",
            )
        for name, value in fields.items():
            setattr(task, name, value)
        task.full_clean(exclude=["public_code"])
        task.save()
        if task.status == GridTask.Status.PUBLISHED:
            _promote_waitlist(task, timezone.now())
    return task


def do_publish_task(*, actor: User, task_id: int) -> GridTask:
    with transaction.atomic():
        task = GridTask.objects.select_for_update().get(pk=task_id)
        check_can_manage_task(actor=actor, task=task)
        if task.status != GridTask.Status.DRAFT:
            raise GongzhiError(_("Only a draft can be published."), code="not_draft")
        task.status = GridTask.Status.PUBLISHED
        task.save(update_fields=["status", "updated_at"])
    return task


def do_cancel_task(*, actor: User, task_id: int, reason: str) -> GridTask:
    """Cancel a task; everyone signed up or waiting is told (once each)."""
    if not reason.strip():
        raise GongzhiError(_("Give the volunteers a reason."), code="reason_required")
    with transaction.atomic():
        task = GridTask.objects.select_for_update().get(pk=task_id)
        check_can_manage_task(actor=actor, task=task)
        if task.status == GridTask.Status.CANCELLED:
            return task
        task.status = GridTask.Status.CANCELLED
        task.taken = 0
        task.save(update_fields=["status", "taken", "updated_at"])
        for signup in (
            SignUp.objects.select_for_update().filter(task=task, status__in=LIVE).select_related("person")
        ):
            _set_status(signup, SignUp.Status.CANCELLED, actor, reason)
            notify(
                recipient=signup.person,
                category="task",
                title=_("Task cancelled: %(title)s") % {"title": task.title},
                body=reason,
                url=reverse("gridtasks:detail", args=[task.public_code]),
                key=f"task-cancelled:{signup.pk}",
                # Past the quiet hours the volunteer might already be on the way.
                urgent=task.starts_at - timezone.now() < URGENT_CANCELLATION,
            )
    return task


def do_create_series(
    *,
    actor: User,
    first_date,
    last_date,
    weekdays: list[int],
    shifts: list[tuple[str, str]],
    publish=False,
    **fields,
) -> TaskSeries:
    """Create a recurring task: one occurrence per chosen day and shift (a shift may end after midnight)."""
    check_can_create_in(actor=actor, grid=fields["grid"], organisation=fields.get("organisation"))
    if last_date < first_date:
        raise GongzhiError(_("The last day is before the first day."), code="bad_dates")
    days = (last_date - first_date).days + 1
    if days > 366:
        raise GongzhiError(_("A series can cover at most a year."), code="series_too_long")
    if not shifts:
        raise GongzhiError(_("Add at least one shift."), code="no_shifts")
    tz = timezone.get_current_timezone()
    with transaction.atomic():
        series = TaskSeries.objects.create(
            title=fields["title"],
            first_date=first_date,
            last_date=last_date,
            weekdays=weekdays,
            shifts=[list(s) for s in shifts],
            created_by=actor,
        )
        for offset in range(days):
            day = first_date + timedelta(days=offset)
            if weekdays and day.weekday() not in weekdays:
                continue
            for start, end in shifts:
                starts_at = datetime.combine(day, _parse_time(start), tzinfo=tz)
                ends_at = datetime.combine(day, _parse_time(end), tzinfo=tz)
                if ends_at <= starts_at:
                    ends_at += timedelta(days=1)
                task = GridTask(
                    created_by=actor,
                    series=series,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    status=GridTask.Status.PUBLISHED if publish else GridTask.Status.DRAFT,
                    **fields,
                )
                task.full_clean(exclude=["public_code"])
                task.save()
    return series


def _parse_time(value: str):
    try:
        return datetime.strptime(value, "%H:%M").time()
    except (TypeError, ValueError):
        raise GongzhiError(_("Shift times look like 19:00."), code="bad_shift") from None


# --- sign-up ----------------------------------------------------------------------------------------------
def _set_status(signup: SignUp, status: str, actor, reason: str = "") -> None:
    signup.status = status
    signup.save(update_fields=["status", "offered_until", "updated_at"])
    SignUpEvent.objects.create(signup=signup, status=status, actor=actor, reason=reason)


def _lock(person_id: int, task_id: int) -> GridTask:
    """Take the locks of a sign-up change in the one fixed order: person, then task."""
    User.objects.select_for_update().filter(pk=person_id).values_list("pk").get()
    try:
        return GridTask.objects.select_for_update().get(pk=task_id)
    except GridTask.DoesNotExist:
        raise exceptions.TaskNotFound() from None


def check_eligible(*, task: GridTask, person: User) -> None:
    if task.home_grid_only and person.home_grid_id != task.grid_id:
        raise exceptions.NotEligible(_("This task is for residents of %(grid)s.") % {"grid": task.grid})
    if (
        task.eligible_identities
        and not IdentityClaim.objects.filter(
            person=person, status=IdentityClaim.Status.VERIFIED, kind__in=task.eligible_identities
        ).exists()
    ):
        raise exceptions.NotEligible()


def check_signup_open(*, task: GridTask, now: datetime) -> None:
    if task.status != GridTask.Status.PUBLISHED:
        raise exceptions.SignupNotOpen()
    if task.signup_opens_at and now < task.signup_opens_at:
        raise exceptions.SignupNotOpen(
            _("Sign-up opens at %(at)s.")
            % {"at": timezone.localtime(task.signup_opens_at).strftime("%m-%d %H:%M")}
        )
    if now >= (task.signup_closes_at or task.starts_at):
        raise exceptions.SignupNotOpen(_("Sign-up for this task has closed."))


def do_sign_up(*, task_id: int, person: User, acknowledged_notice: bool = False) -> tuple[SignUp, bool]:
    """Sign `person` up: a confirmed place if one is free, else the waitlist.

    Idempotent: a person who already has a live sign-up gets it back with created=False. Takes the
    person and task locks (in that order) before any check.
    """
    now = timezone.now()
    with transaction.atomic():
        task = _lock(person.pk, task_id)
        existing = SignUp.objects.filter(task=task, person=person, status__in=LIVE).first()
        if existing:
            return existing, False
        check_signup_open(task=task, now=now)
        check_eligible(task=task, person=person)
        if task.notice and not acknowledged_notice:
            raise exceptions.NoticeNotAcknowledged()
        if (
            SignUp.objects.filter(
                person=person,
                status__in=LIVE,
                task__starts_at__lt=task.ends_at,
                task__ends_at__gt=task.starts_at,
            )
            .exclude(task=task)
            .exists()
        ):
            raise exceptions.Overlap()
        confirmed = task.taken < task.capacity
        signup = SignUp.objects.create(
            task=task,
            person=person,
            status=SignUp.Status.CONFIRMED if confirmed else SignUp.Status.WAITLISTED,
            notice_acknowledged_at=now if task.notice else None,
        )
        SignUpEvent.objects.create(signup=signup, status=signup.status, actor=person)
        if confirmed:
            GridTask.objects.filter(pk=task.pk).update(taken=F("taken") + 1)
        notify(
            recipient=person,
            category="task",
            title=(_("Signed up: %(title)s") if confirmed else _("On the waitlist: %(title)s"))
            % {"title": task.title},
            body=_("%(when)s at %(place)s")
            % {"when": timezone.localtime(task.starts_at).strftime("%m-%d %H:%M"), "place": task.place_name},
            url=reverse("gridtasks:detail", args=[task.public_code]),
            key=f"signup:{signup.pk}",
        )
    return signup, True


def do_cancel_signup(*, signup_id: int, actor: User, reason: str = "") -> SignUp:
    """The person cancels (before the cut-off) or an organiser removes them; the place goes on."""
    signup = _signup_or_404(SignUp.objects.filter(pk=signup_id))
    now = timezone.now()
    with transaction.atomic():
        task = _lock(signup.person_id, signup.task_id)
        signup = SignUp.objects.select_for_update().get(pk=signup_id)
        if actor.pk != signup.person_id:
            check_can_manage_task(actor=actor, task=task)
        elif signup.status == SignUp.Status.CONFIRMED and now > task.starts_at - timedelta(
            minutes=task.cancel_cutoff_minutes
        ):
            # Only a confirmed place is bound by the cut-off: declining an offer (which may arrive after
            # the cut-off) or leaving the waitlist leaves the organiser no worse off.
            raise exceptions.CancelTooLate()
        if signup.status not in LIVE:
            raise GongzhiError(_("This sign-up is no longer active."), code="signup_not_live")
        held = signup.status in HOLDS_PLACE
        signup.offered_until = None
        _set_status(signup, SignUp.Status.CANCELLED, actor, reason)
        if held:
            GridTask.objects.filter(pk=task.pk).update(taken=F("taken") - 1)
            task.refresh_from_db(fields=["taken"])
            _promote_waitlist(task, now)
    return signup


def _promote_waitlist(task: GridTask, now: datetime) -> None:
    """Offer free places to the waitlist in order. Caller holds the task lock."""
    if task.status != GridTask.Status.PUBLISHED or now >= task.starts_at:
        return
    free = task.capacity - task.taken
    if free <= 0:
        return
    waiting = list(
        SignUp.objects.select_for_update()
        .filter(task=task, status=SignUp.Status.WAITLISTED)
        .select_related("person")
        .order_by("created_at", "id")[:free]
    )
    for signup in waiting:
        signup.offered_until = min(now + timedelta(minutes=task.offer_minutes), task.starts_at)
        _set_status(signup, SignUp.Status.OFFERED, None)
        notify(
            recipient=signup.person,
            category="task",
            title=_("A place is free: %(title)s") % {"title": task.title},
            body=_("Confirm by %(until)s or it goes to the next person.")
            % {"until": timezone.localtime(signup.offered_until).strftime("%m-%d %H:%M")},
            url=reverse("gridtasks:detail", args=[task.public_code]),
            key=f"offer:{signup.pk}:{signup.offered_until.timestamp()}",
            urgent=True,  # the offer lapses at its deadline: held until morning it would be worthless
        )
    if waiting:
        GridTask.objects.filter(pk=task.pk).update(taken=F("taken") + len(waiting))
        task.refresh_from_db(fields=["taken"])


def _signup_or_404(qs) -> SignUp:
    signup = qs.first()
    if signup is None:
        raise NotFound(_("This sign-up does not exist."), code="signup_not_found")
    return signup


def do_confirm_offer(*, signup_id: int, person: User) -> SignUp:
    signup = _signup_or_404(SignUp.objects.filter(pk=signup_id, person=person))
    now = timezone.now()
    with transaction.atomic():
        _lock(person.pk, signup.task_id)
        signup = SignUp.objects.select_for_update().get(pk=signup_id)
        if signup.status == SignUp.Status.CONFIRMED:
            return signup
        if (
            signup.status != SignUp.Status.OFFERED
            or signup.offered_until is None
            or signup.offered_until <= now
        ):
            raise exceptions.OfferNotOpen()
        signup.offered_until = None
        _set_status(signup, SignUp.Status.CONFIRMED, person)
    return signup


def expire_offers(now: datetime | None = None) -> int:
    """Offers not confirmed in time move on to the next person. Run by Celery beat."""
    now = now or timezone.now()
    expired = 0
    task_ids = set(
        SignUp.objects.filter(status=SignUp.Status.OFFERED, offered_until__lte=now).values_list(
            "task_id", flat=True
        )
    )
    for task_id in task_ids:
        with transaction.atomic():
            task = GridTask.objects.select_for_update().get(pk=task_id)
            stale = list(
                SignUp.objects.select_for_update().filter(
                    task=task, status=SignUp.Status.OFFERED, offered_until__lte=now
                )
            )
            for signup in stale:
                signup.offered_until = None
                _set_status(signup, SignUp.Status.EXPIRED, None, "offer expired")
            if stale:
                GridTask.objects.filter(pk=task.pk).update(taken=F("taken") - len(stale))
                task.refresh_from_db(fields=["taken"])
                expired += len(stale)
                _promote_waitlist(task, now)
    return expired


# --- check-in and check-out -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScanResult:
    ok: bool
    code: str
    message: str
    kind: str
    at: datetime | None
    replay: bool = False
    person_name: str = ""

    @property
    def status(self) -> int:
        if self.ok:
            return 200
        return 403 if self.code in {"not_signed_up", "outside_geofence"} else 409


def _result_of(scan: Scan, replay: bool) -> ScanResult:
    """The answer stored with a scan. `at` is the check-in or check-out time a successful scan reports."""
    at = None
    if scan.ok and hasattr(scan.signup, "attendance"):
        attendance = scan.signup.attendance
        at = attendance.checked_in_at if scan.kind == Scan.Kind.IN else attendance.checked_out_at
    return ScanResult(
        ok=scan.ok,
        code=scan.code,
        message=scan.reason,
        kind=scan.kind,
        at=at,
        replay=replay,
        person_name=scan.signup.person.masked_name if scan.signup_id else "",
    )


def personal_code_for(person: User) -> str:
    code, _created = PersonalCode.objects.get_or_create(person=person)
    return code.code


def distance_m(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6_371_000
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lon2) - float(lon1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@dataclass(frozen=True, slots=True)
class ScanPlace:
    """What a scan's locked look-up read, and nothing more: the sign-up (locked), its task's window and
    place, and the person's name for the answer. Not a model: a GridTask or SignUp built from these few
    columns would hold defaults (status draft, title "") in every field the query did not read."""

    signup_id: int
    status: str  # the sign-up's
    person_id: int
    person_name: str
    task_id: int
    public_code: str
    starts_at: datetime
    ends_at: datetime
    checkin_grace_minutes: int
    geofence_radius_m: int | None
    latitude: Decimal | float | None  # as the driver reads a numeric: PostgreSQL's Decimal, SQLite's float
    longitude: Decimal | float | None

    @property
    def masked_name(self) -> str:
        return mask_name(self.person_name)


# A first check-in inserts the attendance row, and an existing row (an earlier check-in, or one a staff
# correction made) leaves it alone: one statement for the common case instead of a read and a write.
_FIRST_CHECK_IN = """
    INSERT INTO gridtasks_attendance
        (signup_id, checked_in_at, check_in_distance_m, check_in_geofence_ok, auto_closed, counts, status)
    VALUES (%s, %s, %s, %s, false, false, 'present')
    ON CONFLICT (signup_id) DO NOTHING
    RETURNING id
"""


def _first_check_in(signup_id: int, at: datetime, distance, ok) -> bool:
    """Insert the attendance row of a first check-in; False if the sign-up already has one."""
    with connection.cursor() as cursor:
        cursor.execute(
            _FIRST_CHECK_IN, [signup_id, connection.ops.adapt_datetimefield_value(at), distance, ok]
        )
        return cursor.fetchone() is not None


def _apply_scan(*, place: ScanPlace, kind: str, at: datetime, location) -> tuple[str, str, datetime]:
    """Change attendance for one scan. Caller holds the sign-up lock. Returns (code, message, the time the
    answer reports) or raises; every refusal is raised before anything is written, so a refused scan
    changes nothing."""
    if place.status not in (SignUp.Status.CONFIRMED, SignUp.Status.ATTENDED):
        raise exceptions.NotSignedUp()
    grace = timedelta(minutes=place.checkin_grace_minutes)
    if not (place.starts_at - grace <= at <= place.ends_at + grace):
        raise exceptions.OutsideWindow()
    if kind == Scan.Kind.IN:
        distance = ok = None
        if place.geofence_radius_m and place.latitude is not None and location is not None:
            distance = round(distance_m(place.latitude, place.longitude, *location))
            ok = distance <= place.geofence_radius_m
        if ok is not False and _first_check_in(place.signup_id, at, distance, ok):
            return "checked_in", _("Checked in."), at
    # Read after the lock, never joined to it: under READ COMMITTED a row joined to a locked row comes from
    # the snapshot taken before the wait, so it would miss the check-in the lock holder just committed.
    attendance = Attendance.objects.filter(signup_id=place.signup_id).first()
    if kind == Scan.Kind.IN:
        if attendance and attendance.checked_in_at:
            return "already_checked_in", _("Already checked in."), attendance.checked_in_at
        if ok is False:
            raise exceptions.OutsideGeofence(
                _("You are about %(d)d m from the task's place (allowed: %(r)d m).")
                % {"d": distance, "r": place.geofence_radius_m}
            )
        # A row without a check-in: a staff correction made it before the person arrived.
        attendance.checked_in_at = at
        attendance.check_in_distance_m = distance
        attendance.check_in_geofence_ok = ok
        attendance.save(update_fields=["checked_in_at", "check_in_distance_m", "check_in_geofence_ok"])
        return "checked_in", _("Checked in."), at
    if attendance is None or attendance.checked_in_at is None:
        raise exceptions.CheckOutBeforeCheckIn()
    if attendance.checked_out_at:
        return "already_checked_out", _("Already checked out."), attendance.checked_out_at
    if at < attendance.checked_in_at:
        raise exceptions.CheckOutBeforeCheckIn()
    attendance.checked_out_at = at
    attendance.save(update_fields=["checked_out_at"])
    return "checked_out", _("Checked out."), at


# A scan locks the sign-up it is for and reads, in the same statement, what judging it takes: the sign-up's
# status, its task's window and place, and the person's name for the answer. Written out rather than built
# with the ORM because it is the hot path of a busy gate: building the query cost more than running it.
# The columns are ScanPlace's fields, in order.
_LOCK_PLACE = """
    SELECT s.id, s.status, s.person_id, u.name,
           t.id, t.public_code, t.starts_at, t.ends_at, t.checkin_grace_minutes, t.geofence_radius_m,
           t.latitude, t.longitude
    FROM gridtasks_signup s
    JOIN gridtasks_gridtask t ON t.id = s.task_id
    JOIN volunteers_user u ON u.id = s.person_id
    WHERE {which}
    ORDER BY s.created_at DESC, s.id DESC
    LIMIT 1
"""
# Which sign-up a scan is for (the newest that matches): one by its id, or the live place of a person,
# named as such or by their personal code (of an active account). A live place is any but a cancelled one
# or an expired offer (SignUp.Status).
_BY_ID = "s.id = %s AND s.task_id = %s"
_PLACE_OF_PERSON = "s.task_id = %s AND s.person_id = %s AND s.status NOT IN ('cancelled', 'expired')"
_PLACE_OF_CODE = (
    "t.public_code = %s AND u.is_active AND s.status NOT IN ('cancelled', 'expired')"
    " AND s.person_id = (SELECT person_id FROM gridtasks_personalcode WHERE code = %s)"
)


def _lock_place(which: str, params: list) -> ScanPlace | None:
    """The sign-up `which` (one of the conditions above) picks, locked, with what its scan is judged by."""
    sql = _LOCK_PLACE.format(which=which)
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF s"  # SQLite has no row locks: it writes one transaction at a time
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    (signup_id, status, person_id, name, task_id, code, starts_at, ends_at, grace, radius, lat, lon) = row
    return ScanPlace(
        signup_id=signup_id,
        status=status,
        person_id=person_id,
        person_name=name,
        task_id=task_id,
        public_code=code,
        starts_at=_aware(starts_at),
        ends_at=_aware(ends_at),
        checkin_grace_minutes=grace,
        geofence_radius_m=radius,
        latitude=lat,
        longitude=lon,
    )


def _aware(value: datetime) -> datetime:
    """SQLite hands a raw query's datetimes back naive (stored in UTC); PostgreSQL's are aware."""
    return value.replace(tzinfo=UTC) if timezone.is_naive(value) else value


def record_scan(
    *,
    task: GridTask,
    signup: SignUp,
    kind: str,
    method: str,
    actor: User,
    nonce: str | None,
    scanned_at: datetime | None = None,
    location=None,
    offline: bool = False,
) -> ScanResult:
    """Check a sign-up of `task` in or out, once per nonce (see _record_scan)."""
    result = _record_scan(
        _BY_ID,
        [signup.pk, task.pk],
        kind=kind,
        method=method,
        actor=actor,
        nonce=nonce,
        scanned_at=scanned_at,
        location=location,
        offline=offline,
    )
    if result is None:
        raise exceptions.NotSignedUp()
    return result


def _record_scan(
    which, params, *, kind, method, actor, nonce, scanned_at=None, location=None, offline=False
) -> ScanResult | None:
    """Check in or out the sign-up `which` picks (see _lock_place), once per nonce; None if none matches.

    The sign-up row is locked, with its task and person read in the same query, before anything is
    judged. Scans of one sign-up therefore line up: two devices sending the same nonce at the same moment
    both write, the second one's scan hits the nonce's UNIQUE constraint, its transaction is rolled back
    and it answers with the stored result. A refused scan is stored too (its replay gets the same
    refusal); an offline scan that is refused is flagged for review.
    """
    if kind not in Scan.Kind.values:
        raise GongzhiError(_("Unknown scan type."), code="bad_kind")
    nonce = nonce or uuid.uuid4().hex
    received = timezone.now()
    at = scanned_at or received
    place = None
    try:
        with transaction.atomic():
            place = _lock_place(which, params)
            if place is None:
                return None
            try:
                # No savepoint needed: _apply_scan raises before it writes.
                if offline and at > received + timedelta(minutes=5):
                    raise GongzhiError(_("The scan time is in the future."), code="future_scan")
                code, message, answer_at = _apply_scan(place=place, kind=kind, at=at, location=location)
                ok = True
            except GongzhiError as exc:
                code, message, ok, answer_at = exc.code, str(exc.message), False, None
            Scan.objects.create(
                nonce=nonce,
                task_id=place.task_id,
                signup_id=place.signup_id,
                kind=kind,
                method=method,
                actor=actor,
                scanned_at=at,
                ok=ok,
                code=code,
                reason=message,
                conflict=offline and not ok,
            )
    except IntegrityError:
        # The nonce was used before: by a replay of this scan (everything above was rolled back, and
        # the stored answer decides), or by a client that reuses nonces across sign-ups.
        previous = _stored_scans([nonce]).first()
        if previous is None or place is None:
            raise
        return _replay(previous, task_id=place.task_id, signup_id=place.signup_id)
    return ScanResult(
        ok=ok,
        code=code,
        message=message,
        kind=kind,
        at=answer_at,
        person_name=place.masked_name,
    )


def _stored_scans(nonces):
    return Scan.objects.filter(nonce__in=nonces).select_related("signup__attendance", "signup__person")


def _replay(previous: Scan, *, task_id: int, signup_id: int | None) -> ScanResult:
    """The stored answer for a nonce seen before, if it was for this scan's task and person."""
    if previous.task_id != task_id or (
        signup_id is not None and previous.signup_id is not None and previous.signup_id != signup_id
    ):
        # Answering with another person's result would leak it; a nonce is meant to be used once.
        raise GongzhiError(
            _("This scan's nonce was already used for another scan."), code="nonce_reused", status=409
        )
    return _result_of(previous, replay=True)


def check_by_task_qr(
    *,
    public_code: str,
    payload: str,
    person: User,
    kind: str,
    nonce: str | None,
    location=None,
    qr_seen_at: float | None = None,
) -> ScanResult:
    """The volunteer scanned the task's rotating QR on the organiser's phone.

    `qr_seen_at` (a Unix time) judges the QR at the moment the volunteer's page first opened it, for a
    caller that can prove that moment (the web page signs it): signing in, or deciding to tap, may take
    longer than the QR lives. A nonce already answered gets its answer back even once the QR has expired.
    """
    task = GridTask.objects.filter(public_code=public_code, status=GridTask.Status.PUBLISHED).first()
    if task is None:
        raise exceptions.InvalidQR()
    if nonce:
        previous = (
            Scan.objects.filter(nonce=nonce, task=task, signup__person=person)
            .select_related("signup__attendance", "signup__person")
            .first()
        )
        if previous is not None:
            return _result_of(previous, replay=True)
    qr.verify_task_qr(public_code, payload, now=qr_seen_at)
    result = _record_scan(
        _PLACE_OF_PERSON,
        [task.pk, person.pk],
        kind=kind,
        method=Scan.Method.TASK_QR,
        actor=person,
        nonce=nonce,
        location=location,
    )
    if result is None:
        raise exceptions.NotSignedUp(_("You have no place on this task."))
    return result


def person_from_personal_qr(token: str, *, scanned_at: datetime | None = None) -> User:
    code = qr.read_personal_qr(token, scanned_at=scanned_at)
    person = User.objects.filter(personal_code__code=code, is_active=True).first()
    if person is None:
        raise exceptions.InvalidQR()
    return person


def check_by_personal_qr(
    *,
    task_id: int | None = None,
    public_code: str | None = None,
    token: str,
    actor: User,
    kind: str,
    nonce: str | None,
    scanned_at=None,
    offline=False,
) -> ScanResult:
    """The organiser scanned the volunteer's personal QR for this task (named by id or public code).

    The hot path of a busy gate: once the organiser's right to scan is remembered (_check_can_scan), one
    locked query finds the task, the person and their place, and two inserts record the check-in."""
    if not public_code or not cache.get(_may_scan_key(actor, public_code)):
        task = _task_or_404(task_id, public_code)
        _check_can_scan(actor=actor, task=task)
        public_code = task.public_code
    return _check_personal(
        public_code=public_code,
        token=token,
        actor=actor,
        kind=kind,
        nonce=nonce,
        scanned_at=scanned_at,
        offline=offline,
    )


def _task_or_404(task_id=None, public_code=None) -> GridTask:
    if task_id is not None:
        task = GridTask.objects.filter(pk=task_id).first()
    else:
        task = GridTask.objects.filter(public_code=public_code).first() if public_code else None
    if task is None:
        raise exceptions.TaskNotFound()
    return task


SCAN_PERMISSION_SECONDS = 60


def _may_scan_key(actor: User, public_code: str) -> str:
    return f"gridtasks:may-scan:{actor.pk}:{public_code}"


def _check_can_scan(*, actor: User, task: GridTask) -> None:
    """check_can_manage_task on the scanner's hot path. A gate scans hundreds of people for one task in
    minutes, and the scope rule costs several queries, so a yes is remembered for a minute: someone whose
    role is withdrawn can go on scanning for that long, which is why a no is never remembered."""
    key = _may_scan_key(actor, task.public_code)
    if cache.get(key):
        return
    check_can_manage_task(actor=actor, task=task)
    cache.set(key, True, SCAN_PERMISSION_SECONDS)


def _check_personal(
    *, public_code: str, token: str, actor: User, kind: str, nonce, scanned_at, offline
) -> ScanResult:
    """check_by_personal_qr once the caller has checked that `actor` manages the task."""
    code = qr.read_personal_qr(token, scanned_at=scanned_at)
    result = _record_scan(
        _PLACE_OF_CODE,
        [public_code, code],
        kind=kind,
        method=Scan.Method.OFFLINE if offline else Scan.Method.PERSONAL_QR,
        actor=actor,
        nonce=nonce,
        scanned_at=scanned_at,
        offline=offline,
    )
    if result is None:
        # Nobody's place: tell a code of no one (or of a withdrawn account) from a person without a place.
        person_from_personal_qr(token, scanned_at=scanned_at)
        raise exceptions.NotSignedUp(_("You have no place on this task."))
    return result


MAX_BATCH = 1000
# A phone's clock this close to the server's is taken as right: the time a batch spends on the way.
CLOCK_TOLERANCE = timedelta(minutes=1)


def _clock_skew(sent_at: datetime | None, *, now: datetime) -> timedelta:
    """How far the sending phone's clock is behind the server's (negative: ahead), judged by the time it
    says it sent a batch; nothing within CLOCK_TOLERANCE, or without that time."""
    if sent_at is None or timezone.is_naive(sent_at):
        return timedelta(0)
    difference = now - sent_at
    return difference if abs(difference) > CLOCK_TOLERANCE else timedelta(0)


def _on_server_clock(item, skew: timedelta) -> dict:
    item = dict(item) if isinstance(item, dict) else {}
    at = item.get("scanned_at")
    if skew and isinstance(at, datetime) and not timezone.is_naive(at):
        item["scanned_at"] = at + skew
    return item


def upload_offline_scans(
    *, task_id: int, actor: User, scans: list[dict], sent_at: datetime | None = None
) -> list[dict]:
    """Accept scans queued on an organiser's phone while it had no signal. Each nonce counts once;
    a scan that cannot be applied is stored as a conflict for staff to review.

    The phone's clock may be wrong: `sent_at` is its own time of sending, and when that differs from the
    server's clock by more than CLOCK_TOLERANCE every scan time is shifted by the difference, so scans
    are judged (the task's window, the personal QR's age) at the time they were really made.

    Scans are applied in the order they were made, not the order they arrive in: a phone may send its
    queue in any order, and a check-out applied before its check-in would be refused. So one batch
    uploaded several times, in any order or at the same time, comes to the same result. Results are
    returned in the order of `scans`.
    """
    task = _task_or_404(task_id)
    _check_can_scan(actor=actor, task=task)
    if not isinstance(scans, list) or len(scans) > MAX_BATCH:
        raise exceptions.BadBatch(_("Upload at most %(n)d scans at a time.") % {"n": MAX_BATCH})
    skew = _clock_skew(sent_at, now=timezone.now())
    items = [_on_server_clock(item, skew) for item in scans]
    # One query for the nonces already answered (a re-upload), instead of one per scan; a nonce that
    # another upload stores meanwhile is caught by record_scan's locked look-up or _flag_unmatched.
    nonces = [item.get("nonce") for item in items if isinstance(item.get("nonce"), str)]
    seen = {scan.nonce: scan for scan in _stored_scans(nonces)}
    results: list[dict | None] = [None] * len(items)
    for index in sorted(range(len(items)), key=lambda i: _made_order(items[i])):
        item = items[index]
        nonce = item.get("nonce")
        try:
            if not isinstance(nonce, str) or not 8 <= len(nonce) <= 64:
                raise exceptions.BadBatch(_("Each scan needs a nonce of 8 to 64 characters."))
            if nonce in seen:
                result = _replay(seen[nonce], task_id=task.pk, signup_id=None)
            else:
                scanned_at = item.get("scanned_at")
                if not isinstance(scanned_at, datetime) or timezone.is_naive(scanned_at):
                    raise exceptions.BadBatch(_("Each scan needs its scan time."))
                result = _check_personal(
                    public_code=task.public_code,
                    token=str(item.get("token", "")),
                    actor=actor,
                    kind=item.get("kind", ""),
                    nonce=nonce,
                    scanned_at=scanned_at,
                    offline=True,
                )
            results[index] = {
                "nonce": nonce,
                "ok": result.ok,
                "code": result.code,
                "message": result.message,
                "replay": result.replay,
            }
        except GongzhiError as exc:
            replay = _flag_unmatched(task, actor, nonce, item, exc)
            results[index] = {
                "nonce": nonce,
                "ok": False,
                "code": exc.code,
                "message": str(exc.message),
                "replay": replay,
            }
    return results


def _made_order(item: dict):
    """Sort key: scan time, a check-in before a check-out made in the same second, then the nonce."""
    at = item.get("scanned_at")
    valid = isinstance(at, datetime) and not timezone.is_naive(at)
    return (
        0 if valid else 1,
        at if valid else datetime.min.replace(tzinfo=UTC),
        0 if item.get("kind") == Scan.Kind.IN else 1,
        str(item.get("nonce")),
    )


def _flag_unmatched(task, actor, nonce, item, exc) -> bool:
    """A scan that matched no sign-up (bad or expired code, not signed up) is kept as a conflict, once.
    Returns True if that nonce was already stored (this is a replay)."""
    if not isinstance(nonce, str) or not 8 <= len(nonce) <= 64 or exc.code == "nonce_reused":
        return False
    at = item.get("scanned_at")
    scanned_at = at if isinstance(at, datetime) and not timezone.is_naive(at) else timezone.now()
    kind = item.get("kind") if item.get("kind") in Scan.Kind.values else Scan.Kind.IN
    try:
        with transaction.atomic():
            Scan.objects.create(
                nonce=nonce,
                task=task,
                signup=None,
                kind=kind,
                method=Scan.Method.OFFLINE,
                actor=actor,
                scanned_at=scanned_at,
                ok=False,
                code=exc.code,
                reason=str(exc.message),
                conflict=True,
            )
    except IntegrityError:
        return True  # this nonce was already recorded by an earlier (or a parallel) upload
    return False


# --- attendance -------------------------------------------------------------------------------------------
def _verified_minutes(task: GridTask, attendance: Attendance) -> int:
    start = max(attendance.checked_in_at, task.starts_at)
    end = min(attendance.checked_out_at, task.ends_at)
    return max(int((end - start).total_seconds() // 60), 0)


def _finalise(task: GridTask, attendance: Attendance, now: datetime) -> None:
    attendance.verified_minutes = _verified_minutes(task, attendance)
    attendance.counts = attendance.verified_minutes * 100 >= task.min_presence_percent * task.duration_minutes
    attendance.finalised_at = now
    if attendance.status != Attendance.Status.FLAGGED:
        attendance.status = Attendance.Status.FINAL
    attendance.save()
    if attendance.status == Attendance.Status.FINAL and attendance.counts:
        # Inside the caller's transaction: the award (points.apps receives this) is made with the
        # attendance or not at all. Exactly once per attendance: its source key is unique there.
        start = max(attendance.checked_in_at or task.starts_at, task.starts_at)
        end = min(attendance.checked_out_at or task.ends_at, task.ends_at)
        work_verified.send(
            sender=Attendance,
            work=VerifiedWork(
                person_id=attendance.signup.person_id,
                source=f"attendance:{attendance.pk}",
                grid_id=task.grid_id,
                category_id=task.category_id,
                start=start,
                end=max(end, start),
                minutes=attendance.verified_minutes,
                points=task.points,
            ),
        )


def finalise_task_attendance(*, task_id: int, now: datetime | None = None) -> int:
    """After a task ends (plus grace): record no-shows, close forgotten check-outs at the task's end
    (flagged for review), compute verified minutes and whether each attendance counts. Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        task = GridTask.objects.select_for_update().get(pk=task_id)
        if now < task.ends_at + timedelta(minutes=task.checkin_grace_minutes):
            return 0
        done = 0
        signups = (
            SignUp.objects.select_for_update()
            .filter(task=task, status=SignUp.Status.CONFIRMED)
            .select_related("person")
        )
        for signup in signups:
            attendance = Attendance.objects.filter(signup=signup).first()
            if attendance is None or attendance.checked_in_at is None:
                _set_status(signup, SignUp.Status.NO_SHOW, None)
                continue
            if attendance.checked_out_at is None:
                attendance.checked_out_at = task.ends_at
                attendance.auto_closed = True
                attendance.status = Attendance.Status.FLAGGED
            _finalise(task, attendance, now)
            _set_status(signup, SignUp.Status.ATTENDED, None)
            done += 1
    return done


def do_correct_attendance(
    *,
    signup_id: int,
    actor: User,
    checked_in_at: datetime | None,
    checked_out_at: datetime | None,
    reason: str,
) -> Attendance:
    """Staff set the times of a person's attendance, with a reason that is logged; final if the task ended."""
    if not reason.strip():
        raise GongzhiError(_("Say why the attendance is corrected."), code="reason_required")
    if checked_out_at and (checked_in_at is None or checked_out_at < checked_in_at):
        raise exceptions.CheckOutBeforeCheckIn()
    now = timezone.now()
    with transaction.atomic():
        signup = SignUp.objects.select_for_update().select_related("task", "person").get(pk=signup_id)
        task = signup.task
        check_can_manage_task(actor=actor, task=task)
        if signup.status not in (SignUp.Status.CONFIRMED, SignUp.Status.ATTENDED, SignUp.Status.NO_SHOW):
            raise exceptions.NotSignedUp()
        attendance, _created = Attendance.objects.get_or_create(signup=signup)
        before = {"in": _iso(attendance.checked_in_at), "out": _iso(attendance.checked_out_at)}
        attendance.checked_in_at, attendance.checked_out_at = checked_in_at, checked_out_at
        attendance.auto_closed = False
        attendance.status = Attendance.Status.PRESENT
        attendance.save()
        AttendanceCorrection.objects.create(
            attendance=attendance,
            actor=actor,
            reason=reason,
            before=before,
            after={"in": _iso(checked_in_at), "out": _iso(checked_out_at)},
        )
        if now >= task.ends_at and checked_in_at and checked_out_at:
            _finalise(task, attendance, now)
            _set_status(signup, SignUp.Status.ATTENDED, actor, reason)
    return attendance


def _iso(value):
    return value.isoformat() if value else None


def send_reminders(now: datetime | None = None) -> int:
    """The day-before and hour-before reminders; the notification key makes each go out once."""
    now = now or timezone.now()
    sent = 0
    due = SignUp.objects.filter(
        status=SignUp.Status.CONFIRMED,
        task__status=GridTask.Status.PUBLISHED,
        task__starts_at__gt=now,
        task__starts_at__lte=now + timedelta(hours=24),
    ).select_related("task", "person")
    for signup in due:
        task = signup.task
        hour = task.starts_at - now <= timedelta(hours=1)
        if not hour and task.starts_at - now < timedelta(hours=2):
            continue  # too late for the day-before message, too early for the hour-before one
        notify(
            recipient=signup.person,
            category="task",
            title=(_("In an hour: %(title)s") if hour else _("Tomorrow: %(title)s")) % {"title": task.title},
            body=_("%(when)s at %(place)s")
            % {"when": timezone.localtime(task.starts_at).strftime("%m-%d %H:%M"), "place": task.place_name},
            url=reverse("gridtasks:detail", args=[task.public_code]),
            key=f"reminder-{'hour' if hour else 'day'}:{signup.pk}",
            urgent=hour,  # "in an hour" is useless after the quiet hours; "tomorrow" can wait
        )
        sent += 1
    return sent
