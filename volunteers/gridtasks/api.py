"""Grid tasks over the API (/api/v1/tasks): the list and a task's page, sign-up, cancel and offers,
"my tasks", and check-in/out both ways — the volunteer with the task's rotating QR, the organiser with
the volunteer's personal QR, online or as a batch of scans queued offline.

Endpoints are thin: reads go through `selectors` (already joined, so a page's query count does not grow
with its rows), changes through `services`, exactly as the web pages do. A task is addressed by its
random public code, never by its database id. A refused scan answers 4xx with the stored reason, and a
repeat of its nonce gets the same answer.
"""

import datetime as dt
from typing import Literal
from urllib.parse import urlsplit

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.responses import Status
from pydantic import AwareDatetime, ConfigDict, StrictBool, StrictStr, model_validator

from core.api import AppTokenAuth, InvalidInput, error_responses
from volunteers.models import DutyCategory
from volunteers.scopes import scope_for

from . import exceptions, selectors, services
from .models import GridTask, SignUp

router = Router(tags=["grid tasks"])

NONCE = Field(
    pattern=r"^[A-Za-z0-9_.:-]{8,64}$",
    description="A random id the client makes for this scan (8-64 of A-Z a-z 0-9 _ . : -). Sending it again "
    "— a double tap, another device, a retried upload — changes nothing and returns the first answer.",
)
KIND = Field(description='"in" to check in, "out" to check out.')


# --- shapes ----------------------------------------------------------------------------------------
class PlaceRef(Schema):
    id: int
    name: str


class GridBrief(Schema):
    id: int
    name: str
    code: str
    community: PlaceRef


class CategoryRef(Schema):
    code: str
    name: str


class TaskBrief(Schema):
    code: str = Field(description="The task's public code: its name in URLs and QR codes.")
    title: str
    category: CategoryRef
    grid: GridBrief
    place_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str = Field(description="draft, published or cancelled.")
    url: str = Field(description="The task's web page.")

    @staticmethod
    def resolve_code(obj) -> str:
        return obj.public_code

    @staticmethod
    def resolve_url(obj) -> str:
        return reverse("gridtasks:detail", args=[obj.public_code])


class TaskOut(TaskBrief):
    organisation: PlaceRef | None
    latitude: float | None
    longitude: float | None
    geofence_radius_m: int | None = Field(
        description="Check-in must be this close to the place; null: no check."
    )
    capacity: int
    places_left: int
    signup_opens_at: dt.datetime | None
    signup_closes_at: dt.datetime | None = Field(description="null: sign-up closes when the task starts.")
    cancel_cutoff_minutes: int
    eligible_identities: list[str] = Field(description="Identity codes that may sign up; empty: anyone.")
    home_grid_only: bool
    points: int
    has_notice: bool = Field(description="A must-read notice that must be acknowledged when signing up.")
    my_status: str | None = Field(
        None, description="The caller's sign-up status on this task (null: none, or not signed in)."
    )

    @staticmethod
    def resolve_latitude(obj):
        return float(obj.latitude) if obj.latitude is not None else None

    @staticmethod
    def resolve_longitude(obj):
        return float(obj.longitude) if obj.longitude is not None else None

    @staticmethod
    def resolve_has_notice(obj) -> bool:
        return bool(obj.notice)

    @staticmethod
    def resolve_my_status(obj):
        return getattr(obj, "my_status", None)


class AttendanceOut(Schema):
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    check_in_distance_m: int | None = Field(description="Distance from the place at check-in, if shared.")
    check_in_geofence_ok: bool | None
    auto_closed: bool = Field(description="The check-out was forgotten and closed at the task's end.")
    verified_minutes: int | None
    counts: bool = Field(description="Final and present long enough to count.")
    status: str = Field(description="present, final or flagged (needs review).")


class MySignUpOut(Schema):
    id: int
    status: str = Field(
        description="confirmed, waitlisted, offered, cancelled, expired, no_show or attended."
    )
    status_label: str
    offered_until: dt.datetime | None = Field(description="For an offered place: confirm before this.")
    ahead: int | None = Field(None, description="On the waitlist: how many are before the caller.")
    notice_acknowledged_at: dt.datetime | None
    created_at: dt.datetime
    attendance: AttendanceOut | None

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_ahead(obj):
        return getattr(obj, "ahead", None) if obj.status == SignUp.Status.WAITLISTED else None

    @staticmethod
    def resolve_attendance(obj):
        return getattr(obj, "attendance", None)


class TaskDetailOut(TaskOut):
    description: str
    notice: str
    confirmed: int = Field(description="People with a confirmed place.")
    waiting: int = Field(description="People on the waitlist.")
    checkin_grace_minutes: int
    min_presence_percent: int
    offer_minutes: int
    my_signup: MySignUpOut | None
    can_manage: bool = Field(description="The caller may edit the task and scan volunteers in.")

    @staticmethod
    def resolve_confirmed(obj) -> int:
        return obj.n_confirmed

    @staticmethod
    def resolve_waiting(obj) -> int:
        return obj.n_waiting


class MyTaskOut(MySignUpOut):
    task: TaskBrief


class MyTasksOut(Schema):
    offers: list[MyTaskOut] = Field(description="Places offered from the waitlist: confirm them in time.")
    upcoming: list[MyTaskOut]
    waiting: list[MyTaskOut]
    past: list[MyTaskOut] = Field(description="Most recent first, with attendance.")
    minutes: int = Field(description="Verified minutes of all attendance that counts.")
    attended: int


class TaskListQuery(Schema):
    grid: int | None = Field(None, description="A grid id (see /places).")
    community: int | None = Field(None, description="A community id (see /places).")
    category: str | None = Field(None, max_length=40, description='A duty category code, e.g. "patrol".')
    date: dt.date | None = Field(None, description="Tasks starting on this day (Asia/Shanghai).")
    open: bool = Field(False, description="Only tasks with places left.")
    q: str | None = Field(
        None, max_length=200, description="Words to find in title, description, place or duty (Chinese too)."
    )


class SignUpIn(Schema):
    model_config = ConfigDict(extra="forbid")

    acknowledged_notice: StrictBool = Field(
        False, description="The volunteer has read the task's must-read notice (required if it has one)."
    )


class SignUpResultOut(Schema):
    created: bool = Field(description="False if the caller was already signed up (nothing changed).")
    signup: MySignUpOut


class CancelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: StrictStr = Field("", max_length=200)


class TaskQRScanIn(Schema):
    model_config = ConfigDict(extra="forbid")

    payload: StrictStr = Field(
        min_length=1,
        max_length=300,
        description="What the task's QR carries: its URL, or the last part of it (window-mac).",
    )
    kind: Literal["in", "out"] = KIND
    nonce: StrictStr = NONCE
    latitude: float | None = Field(None, ge=-90, le=90, description="Only with the volunteer's consent.")
    longitude: float | None = Field(None, ge=-180, le=180)

    @model_validator(mode="after")
    def _both_or_neither(self):
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together")
        return self


class PersonalScanIn(Schema):
    model_config = ConfigDict(extra="forbid")

    token: StrictStr = Field(
        min_length=1,
        max_length=500,
        description="What the volunteer's personal QR carries: its URL or token.",
    )
    kind: Literal["in", "out"] = KIND
    nonce: StrictStr = NONCE


class OfflineScanIn(Schema):
    model_config = ConfigDict(extra="forbid")

    nonce: StrictStr = NONCE
    token: StrictStr = Field(min_length=1, max_length=500, description="The personal QR that was scanned.")
    kind: Literal["in", "out"] = KIND
    scanned_at: AwareDatetime = Field(description="When the scan was made, with its UTC offset.")


class OfflineBatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    scans: list[OfflineScanIn] = Field(
        json_schema_extra={"maxItems": services.MAX_BATCH},
        description=f"At most {services.MAX_BATCH} scans; a longer batch is refused (code bad_batch).",
    )
    sent_at: AwareDatetime | None = Field(
        None,
        description="The phone's clock when it sent the batch. When it differs from the server's by more "
        "than a minute, every scan time is shifted by the difference (a phone with a wrong clock).",
    )


class ScanOut(Schema):
    ok: bool
    code: str = Field(description="checked_in, checked_out, already_checked_in or already_checked_out.")
    message: str
    kind: str
    at: dt.datetime | None = Field(description="The recorded check-in or check-out time.")
    replay: bool = Field(description="This nonce was answered before; this is that answer.")
    person_name: str = Field(description="The volunteer's masked name.")


class BatchItemOut(Schema):
    nonce: str | None
    ok: bool
    code: str = Field(description="The outcome, or the reason the scan was refused and flagged for review.")
    message: str
    replay: bool


class BatchOut(Schema):
    results: list[BatchItemOut] = Field(description="One per scan sent, in the same order.")
    accepted: int
    refused: int = Field(description="Refused scans, kept as conflicts for the organiser to review.")
    replays: int


# --- helpers ---------------------------------------------------------------------------------------
_app_token = AppTokenAuth()


def _viewer(request):
    """The caller on a public endpoint: the app's token if it sent one, else the browser session."""
    if request.headers.get("X-Session-Token"):
        return _app_token(request) or AnonymousUser()
    return request.user


def _task(code: str, viewer) -> GridTask:
    task = selectors.task_for_page(code=code, viewer=viewer)
    if task is None:
        raise exceptions.TaskNotFound()
    return task


def _task_id(code: str) -> int:
    """Just the id, for the organiser's endpoints: the service checks that the caller manages the task
    (the hot path of a busy gate needs no counts)."""
    task_id = GridTask.objects.filter(public_code=code).values_list("pk", flat=True).first()
    if task_id is None:
        raise exceptions.TaskNotFound()
    return task_id


def _task_code_and_payload(code: str, payload: str) -> str:
    """The window-mac part of a scanned task QR; a URL of another task's QR is refused as such."""
    if "/" not in payload:
        return payload
    parts = [part for part in urlsplit(payload).path.split("/") if part]
    prefix = [part for part in reverse("gridtasks:scan_task_qr", args=["C", "P"]).split("/") if part][:-2]
    if len(parts) != len(prefix) + 2 or parts[: len(prefix)] != prefix:
        raise exceptions.InvalidQR()
    if parts[-2] != code:
        raise exceptions.WrongTask()
    return parts[-1]


def _scan_answer(result: services.ScanResult) -> ScanOut:
    if not result.ok:
        # A refused scan (stored, so its replay gets the same refusal) is an error like any other.
        raise exceptions.ScanRefused(
            message=result.message, code=result.code, status=result.status, person_name=result.person_name
        )
    return result


# --- reads -----------------------------------------------------------------------------------------
@router.get(
    "",
    response={200: list[TaskOut], **error_responses(422)},
    auth=None,
    summary="Open tasks",
    description="Published tasks that have not ended, soonest first. Signed-in callers get `my_status`.",
)
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def list_tasks(request, filters: Query[TaskListQuery]):
    category = None
    if filters.category:
        category = DutyCategory.objects.filter(code=filters.category).first()
        if category is None:
            raise InvalidInput({"category": [str(_("Unknown duty category."))]})
    # Ids are enough to filter on: an unknown grid or community lists nothing, as a filter should.
    chosen = selectors.TaskFilters(
        grid=filters.grid,
        community=filters.community,
        category=category,
        day=filters.date,
        open_only=filters.open,
        q=(filters.q or "").strip(),
    )
    return selectors.task_list(viewer=_viewer(request), filters=chosen)


@router.get("/mine", response={200: MyTasksOut, **error_responses(401)}, summary="My tasks")
def my_tasks(request):
    return selectors.my_tasks(person=request.user)


@router.get("/{code}", response={200: TaskDetailOut, **error_responses(404)}, auth=None, summary="A task")
def task_detail(request, code: str):
    viewer = _viewer(request)
    task = _task(code, viewer)
    task.my_signup = selectors.signup_of(task=task, person=viewer)
    task.can_manage = viewer.is_authenticated and scope_for(viewer).can_change(task)
    return task


# --- sign-up ---------------------------------------------------------------------------------------
@router.post(
    "/{code}/signup",
    response={
        200: SignUpResultOut,
        201: SignUpResultOut,
        **error_responses(400, 401, 403, 404, 409, 415, 422),
    },
    summary="Sign up",
    description="A confirmed place if one is free, else the waitlist. Signing up again returns the same "
    "sign-up (200). Refusals: signup_not_open, not_eligible, notice_not_acknowledged, overlapping_task.",
)
def sign_up(request, code: str, payload: SignUpIn | None = None):
    task = _task(code, request.user)
    signup, created = services.do_sign_up(
        task_id=task.pk,
        person=request.user,
        acknowledged_notice=bool(payload and payload.acknowledged_notice),
    )
    signup = selectors.signup_of(task=task, person=request.user)
    return Status(201 if created else 200, {"created": created, "signup": signup})


def _my_live_signup(task: GridTask, person) -> SignUp:
    signup = SignUp.objects.filter(task=task, person=person, status__in=SignUp.LIVE).first()
    if signup is None:
        raise exceptions.NotSignedUp(_("You have no place on this task."))
    return signup


@router.post(
    "/{code}/cancel",
    response={200: MySignUpOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Cancel my sign-up",
    description="Before the cut-off for a confirmed place (cancel_too_late after it); a waitlisted or "
    "offered place can always be given up. A freed place is offered to the waitlist.",
)
def cancel_signup(request, code: str, payload: CancelIn | None = None):
    task = _task(code, request.user)
    signup = _my_live_signup(task, request.user)
    return services.do_cancel_signup(
        signup_id=signup.pk, actor=request.user, reason=payload.reason if payload else ""
    )


@router.post(
    "/{code}/confirm",
    response={200: MySignUpOut, **error_responses(401, 403, 404, 409)},
    summary="Confirm an offered place",
    description="A place offered from the waitlist must be confirmed before `offered_until` "
    "(offer_not_open after that, when it has moved on to the next person).",
)
def confirm_offer(request, code: str):
    task = _task(code, request.user)
    services.do_confirm_offer(signup_id=_my_live_signup(task, request.user).pk, person=request.user)
    return selectors.signup_of(task=task, person=request.user)


# --- check-in and check-out ------------------------------------------------------------------------
_SCAN_REFUSALS = (
    "Refusals (the reason is stored, and a repeat of the nonce gets it again): invalid_qr, stale_qr, "
    "wrong_task, not_signed_up, outside_window, check_out_before_check_in, outside_geofence."
)


@router.post(
    "/{code}/check",
    response={200: ScanOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Check in or out with the task's QR",
    description="The volunteer scanned the rotating QR on the organiser's phone. The location is "
    "optional and only sent with consent; only the distance and pass/fail are kept. " + _SCAN_REFUSALS,
)
def check_by_task_qr(request, code: str, payload: TaskQRScanIn):
    location = (payload.latitude, payload.longitude) if payload.latitude is not None else None
    result = services.check_by_task_qr(
        public_code=code,
        payload=_task_code_and_payload(code, payload.payload),
        person=request.user,
        kind=payload.kind,
        nonce=payload.nonce,
        location=location,
    )
    return _scan_answer(result)


@router.post(
    "/{code}/scan",
    response={200: ScanOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Check a volunteer in or out (organiser)",
    description="The organiser scanned the volunteer's personal QR. Only someone who manages the task "
    "may do this. " + _SCAN_REFUSALS,
)
def scan_personal_qr(request, code: str, payload: PersonalScanIn):
    result = services.check_by_personal_qr(
        public_code=code,
        token=payload.token,
        actor=request.user,
        kind=payload.kind,
        nonce=payload.nonce,
    )
    return _scan_answer(result)


@router.post(
    "/{code}/offline-scans",
    response={200: BatchOut, **error_responses(400, 401, 403, 404, 413, 415, 422)},
    summary="Upload scans made offline (organiser)",
    description="Scans queued on the organiser's phone without signal, each with its nonce and scan time. "
    "Each nonce counts once however often the batch is sent; a scan that cannot be applied is refused in "
    "its result and flagged for review. The batch as a whole is refused only when it cannot be read.",
)
def upload_offline_scans(request, code: str, payload: OfflineBatchIn):
    if len(payload.scans) > services.MAX_BATCH:
        raise exceptions.BadBatch(_("Upload at most %(n)d scans at a time.") % {"n": services.MAX_BATCH})
    results = services.upload_offline_scans(
        task_id=_task_id(code),
        actor=request.user,
        scans=[scan.model_dump() for scan in payload.scans],
        sent_at=payload.sent_at,
    )
    accepted = sum(1 for result in results if result["ok"])
    return {
        "results": results,
        "accepted": accepted,
        "refused": len(results) - accepted,
        "replays": sum(1 for result in results if result["replay"]),
    }
