"""Grid-task pages: the list, a task's page with sign-up, the organiser's pages (edit, series, attendance,
the rotating task QR, the kiosk scanner), the volunteer's QR and the pages QR codes open.

Views are thin: every change goes through services.py; a refusal (GongzhiError) is shown on the page it
came from with its message and 4xx status.
"""

import time
import uuid
from datetime import timedelta

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core import links
from core.exceptions import GongzhiError
from core.shortcuts import signin_first
from volunteers.models import IdentityKind
from volunteers.scopes import scope_for

from . import exceptions, ical, qr, selectors, services
from .forms import CancelTaskForm, CorrectionForm, SeriesForm, SignUpForm, TaskFilterForm, TaskForm
from .models import GridTask, PersonalCode, SignUp

# A volunteer's page that opened a valid task QR may finish checking in this long after (sign-in by
# SMS code takes longer than a QR lives). A forwarded screenshot opened later is still refused.
SEEN_MAX_AGE = 5 * 60
_SEEN_SALT = "gongzhi.gridtasks.task-qr-seen"
_CALENDAR_SALT = "gongzhi.gridtasks.calendar"


# --- helpers ---------------------------------------------------------------------------------------------
def _task_or_404(request, code) -> GridTask:
    task = selectors.task_for_page(code=code, viewer=request.user)
    if task is None:
        raise Http404(_("This task does not exist or is not published."))
    return task


def _managed_task(request, code) -> GridTask:
    """A task the user may manage: 404 if they cannot see it, 403 if they see but cannot change it."""
    task = _task_or_404(request, code)
    if not scope_for(request.user).can_change(task):
        raise PermissionDenied(_("Only the task's organisers can do this."))
    return task


def _nonce(raw) -> str | None:
    raw = (raw or "").strip()
    return raw if 8 <= len(raw) <= 64 and raw.replace("-", "").replace("_", "").isalnum() else None


def _json_error(message, status, code="error"):
    return JsonResponse({"ok": False, "code": code, "message": str(message)}, status=status)


def _identity_labels(task) -> list[str]:
    labels = dict(IdentityKind.choices)
    return [str(labels.get(code, code)) for code in task.eligible_identities]


# --- lists -----------------------------------------------------------------------------------------------
def task_list(request):
    form = TaskFilterForm(request.GET, choices=selectors.filter_choices())
    page = Paginator(selectors.task_list(viewer=request.user, filters=form.filters()), 30).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "gridtasks/task_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "chips": _category_chips(form, query),
            "can_create": selectors.can_create_tasks(request.user),
        },
    )


def _category_chips(form, query) -> list[dict]:
    """One link per duty category (and "all"), keeping the other filters."""
    current = form.cleaned_data.get("category") or ""
    chips = []
    for value, label in form.fields["category"].choices:
        q = query.copy()
        q.pop("category", None)
        if value:
            q["category"] = value
        chips.append(
            {"label": label if value else _("All"), "query": q.urlencode(), "active": value == current}
        )
    return chips


def my_tasks(request):
    if not request.user.is_authenticated:
        return signin_first(request)
    token = links.sign(services.personal_code_for(request.user), salt=_CALENDAR_SALT)
    feed = request.build_absolute_uri(reverse("gridtasks:calendar", args=[token]))
    return render(
        request,
        "gridtasks/my_tasks.html",
        {"my": selectors.my_tasks(person=request.user), "feed_url": feed, "now": timezone.now()},
    )


def manage_list(request):
    if not request.user.is_authenticated:
        return signin_first(request)
    if not selectors.can_create_tasks(request.user):
        raise PermissionDenied(_("Only staff, grid workers and organisation administrators manage tasks."))
    return render(
        request, "gridtasks/manage_list.html", {"tasks": selectors.managed_tasks(actor=request.user)}
    )


# --- a task's page and sign-up ---------------------------------------------------------------------------
def task_detail(request, code):
    return _render_detail(request, _task_or_404(request, code))


def _render_detail(request, task, *, status=200, error=None, form=None):
    user = request.user
    now = timezone.now()
    signup = selectors.signup_of(task=task, person=user)
    closed_reason = None
    if signup is None or signup.status not in SignUp.LIVE:
        try:
            services.check_signup_open(task=task, now=now)
            if user.is_authenticated:
                services.check_eligible(task=task, person=user)
        except GongzhiError as exc:
            closed_reason = exc.message
    cutoff = task.starts_at - timedelta(minutes=task.cancel_cutoff_minutes)
    return render(
        request,
        "gridtasks/task_detail.html",
        {
            "task": task,
            "signup": signup,
            "can_manage": user.is_authenticated and scope_for(user).can_change(task),
            "form": form or SignUpForm(),
            "error": error,
            "closed_reason": closed_reason,
            "cutoff": cutoff,
            "can_cancel": signup is not None
            and (signup.status != SignUp.Status.CONFIRMED or now <= cutoff)
            and signup.status in SignUp.LIVE,
            "identities": _identity_labels(task),
        },
        status=status,
    )


def _post_on_task(view):
    """A sign-up action: POST only (a GET shows the task page); signed-out people sign in and come back."""

    def wrapper(request, code):
        if not request.user.is_authenticated:
            return signin_first(request, reverse("gridtasks:detail", args=[code]))
        if request.method != "POST":
            return redirect("gridtasks:detail", code)
        task = _task_or_404(request, code)
        try:
            return view(request, task)
        except GongzhiError as exc:
            return _render_detail(request, task, status=exc.status, error=exc, form=SignUpForm(request.POST))

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _live_signup(task, person) -> SignUp:
    signup = SignUp.objects.filter(task=task, person=person, status__in=SignUp.LIVE).first()
    if signup is None:
        raise GongzhiError(_("You have no active sign-up for this task."), code="signup_not_live", status=409)
    return signup


@_post_on_task
def sign_up(request, task):
    form = SignUpForm(request.POST)
    acknowledged = form.is_valid() and form.cleaned_data["acknowledged"]
    signup, created = services.do_sign_up(
        task_id=task.pk, person=request.user, acknowledged_notice=acknowledged
    )
    if not created:
        messages.info(request, _("You have already signed up for this task."))
    elif signup.status == SignUp.Status.CONFIRMED:
        messages.success(request, _("You have a place. See you there!"))
    else:
        messages.warning(
            request, _("The task is full: you are on the waitlist and will be told if a place frees up.")
        )
    return redirect("gridtasks:detail", task.public_code)


@_post_on_task
def cancel_signup(request, task):
    signup = _live_signup(task, request.user)
    was_waiting = signup.status == SignUp.Status.WAITLISTED
    services.do_cancel_signup(signup_id=signup.pk, actor=request.user)
    messages.success(
        request, _("You have left the waitlist.") if was_waiting else _("Your sign-up is cancelled.")
    )
    return redirect("gridtasks:detail", task.public_code)


@_post_on_task
def confirm_offer(request, task):
    signup = _live_signup(task, request.user)
    services.do_confirm_offer(signup_id=signup.pk, person=request.user)
    messages.success(request, _("The place is yours. See you there!"))
    return redirect("gridtasks:detail", task.public_code)


@_post_on_task
def decline_offer(request, task):
    signup = _live_signup(task, request.user)
    if signup.status != SignUp.Status.OFFERED:
        raise exceptions.OfferNotOpen()
    services.do_cancel_signup(signup_id=signup.pk, actor=request.user, reason="declined the offered place")
    messages.success(request, _("You declined the place; it goes to the next person."))
    return redirect("gridtasks:detail", task.public_code)


# --- organisers: create, edit, publish, cancel ------------------------------------------------------------
def _save_form(request, form, save, template, context, *, status_ok_redirect):
    """Run `save()` for a valid form; show its refusal on the form with the refusal's status."""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = save()
            except GongzhiError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            except ValidationError as exc:
                form.add_error(None, exc.messages)  # the model's own checks, after the form's
                status = 400
            else:
                return status_ok_redirect(result)
        else:
            status = 400
    return render(request, template, {"form": form, **context}, status=status)


def task_create(request):
    if not request.user.is_authenticated:
        return signin_first(request)
    if not selectors.can_create_tasks(request.user):
        raise PermissionDenied(_("Only staff, grid workers and organisation administrators create tasks."))
    form = TaskForm(request.POST or None, actor=request.user)

    def save():
        return services.do_create_task(
            actor=request.user, publish=form.cleaned_data["publish"], **form.task_fields()
        )

    def done(task):
        messages.success(
            request, _("Task published.") if task.status == GridTask.Status.PUBLISHED else _("Draft saved.")
        )
        return redirect("gridtasks:detail", task.public_code)

    return _save_form(
        request, form, save, "gridtasks/task_form.html", {"task": None}, status_ok_redirect=done
    )


def task_edit(request, code):
    if not request.user.is_authenticated:
        return signin_first(request)
    task = _managed_task(request, code)
    form = TaskForm(request.POST or None, instance=task, actor=request.user)

    def save():
        return services.do_update_task(actor=request.user, task_id=task.pk, **form.task_fields())

    def done(saved):
        messages.success(request, _("Task saved."))
        return redirect("gridtasks:detail", saved.public_code)

    return _save_form(
        request, form, save, "gridtasks/task_form.html", {"task": task}, status_ok_redirect=done
    )


def series_create(request):
    if not request.user.is_authenticated:
        return signin_first(request)
    if not selectors.can_create_tasks(request.user):
        raise PermissionDenied(_("Only staff, grid workers and organisation administrators create tasks."))
    form = SeriesForm(request.POST or None, actor=request.user)

    def save():
        data = form.cleaned_data
        return services.do_create_series(
            actor=request.user,
            first_date=data["first_date"],
            last_date=data["last_date"],
            weekdays=sorted(data["weekdays"]),
            shifts=data["shifts"],
            publish=data["publish"],
            **form.task_fields(),
        )

    def done(series):
        count = series.tasks.count()
        if count == 0:
            messages.warning(
                request, _("No day in that range matches the chosen weekdays: no task was created.")
            )
        else:
            messages.success(request, _("%(n)d tasks created.") % {"n": count})
        return redirect("gridtasks:manage")

    return _save_form(request, form, save, "gridtasks/series_form.html", {}, status_ok_redirect=done)


@require_POST
def task_publish(request, code):
    if not request.user.is_authenticated:
        return signin_first(request, reverse("gridtasks:detail", args=[code]))
    task = _managed_task(request, code)
    try:
        services.do_publish_task(actor=request.user, task_id=task.pk)
    except GongzhiError as exc:
        return _render_detail(request, task, status=exc.status, error=exc)
    messages.success(request, _("Task published: volunteers can sign up."))
    return redirect("gridtasks:detail", task.public_code)


def task_cancel(request, code):
    if not request.user.is_authenticated:
        return signin_first(request)
    task = _managed_task(request, code)
    form = CancelTaskForm(request.POST or None)

    def save():
        return services.do_cancel_task(
            actor=request.user, task_id=task.pk, reason=form.cleaned_data["reason"]
        )

    def done(cancelled):
        messages.success(request, _("Task cancelled; everyone signed up has been told."))
        return redirect("gridtasks:detail", cancelled.public_code)

    return _save_form(
        request, form, save, "gridtasks/task_cancel.html", {"task": task}, status_ok_redirect=done
    )


# --- organisers: attendance -------------------------------------------------------------------------------
def attendance(request, code):
    if not request.user.is_authenticated:
        return signin_first(request)
    task = _managed_task(request, code)
    status, form = 200, None
    if request.method == "POST":
        form = CorrectionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if not SignUp.objects.filter(pk=data["signup"], task=task).exists():
                raise Http404(_("This person is not signed up for this task."))
            try:
                services.do_correct_attendance(
                    signup_id=data["signup"],
                    actor=request.user,
                    checked_in_at=data["checked_in_at"],
                    checked_out_at=data["checked_out_at"],
                    reason=data["reason"],
                )
            except GongzhiError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(request, _("Attendance corrected; the reason is logged."))
                return redirect("gridtasks:attendance", task.public_code)
        else:
            status = 400
    sheet = selectors.attendance_sheet(task=task)
    failed = form.cleaned_data.get("signup") if form is not None and hasattr(form, "cleaned_data") else None
    return render(
        request,
        "gridtasks/attendance.html",
        {"task": task, "failed_form": form, "failed_signup": failed, **sheet},
        status=status,
    )


# --- organisers: the rotating task QR and the kiosk scanner ------------------------------------------------
def _task_qr_state(task) -> dict:
    now = time.time()
    url = qr.task_qr_url(task.public_code, now=now)
    left = qr.WINDOW_SECONDS - (now % qr.WINDOW_SECONDS)
    # Fetch the next code as its window starts (the shown one stays valid one window more); at most 25 s.
    return {"svg": links.qr_svg(url), "url": url, "refresh_in": round(min(left + 0.5, 25), 1)}


@never_cache
def task_qr(request, code):
    if not request.user.is_authenticated:
        return signin_first(request)
    task = _managed_task(request, code)
    return render(request, "gridtasks/task_qr.html", {"task": task, "qr": _task_qr_state(task)})


@never_cache
def task_qr_json(request, code):
    if not request.user.is_authenticated:
        return _json_error(_("Sign in again."), 401, "signed_out")
    task = _managed_task(request, code)
    if task.status != GridTask.Status.PUBLISHED:
        return _json_error(
            _("Publish the task first: its QR code only works for a published task."), 409, "not_published"
        )
    return JsonResponse(_task_qr_state(task))


@never_cache
def kiosk(request, code):
    """The organiser's scanner page. It only renders: its scans go to the API (/api/v1/tasks/<code>/scan
    and …/offline-scans) with the page's session cookie and CSRF token, as the app's go with its token."""
    if not request.user.is_authenticated:
        return signin_first(request)
    task = _managed_task(request, code)
    return render(request, "gridtasks/kiosk.html", {"task": task})


# --- volunteers: my QR ------------------------------------------------------------------------------------
def _personal_qr_state(person) -> dict:
    url = qr.personal_qr_url(services.personal_code_for(person))
    # Renew well before expiry, so a code on screen is always valid for a scan uploaded minutes later.
    return {"svg": links.qr_svg(url), "refresh_in": max(qr.PERSONAL_QR_MAX_AGE // 2, 30)}


@never_cache
def my_qr(request):
    if not request.user.is_authenticated:
        return signin_first(request)
    upcoming = selectors.my_tasks(person=request.user).upcoming[:3]
    return render(
        request, "gridtasks/my_qr.html", {"qr": _personal_qr_state(request.user), "upcoming": upcoming}
    )


@never_cache
def my_qr_json(request):
    if not request.user.is_authenticated:
        return _json_error(_("Sign in again."), 401, "signed_out")
    return JsonResponse(_personal_qr_state(request.user))


# --- what QR codes open -----------------------------------------------------------------------------------
def _seen_ticket(code, payload) -> str:
    return signing.dumps({"c": code, "p": payload, "t": int(time.time())}, salt=_SEEN_SALT)


def _seen_at(ticket, code, payload) -> float | None:
    """When this page first saw the QR as valid, if the ticket proves it (and is recent)."""
    if not ticket:
        return None
    try:
        data = signing.loads(ticket, salt=_SEEN_SALT, max_age=SEEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("c") != code or data.get("p") != payload:
        return None
    return float(data.get("t", 0)) or None


@never_cache
def scan_task_qr(request, code, payload):
    """The page a volunteer's phone opens from the task's QR. GET shows the task and a button (never
    changes anything); POST checks in or out, once per nonce."""
    task = GridTask.objects.filter(public_code=code).select_related("grid__community", "category").first()
    ticket = request.POST.get("seen") or request.GET.get("seen")
    seen_at = _seen_at(ticket, code, payload)
    context = {"task": task, "code": code, "payload": payload}
    if task is None or task.status != GridTask.Status.PUBLISHED:
        error = (
            exceptions.InvalidQR()
            if task is None
            else exceptions.SignupNotOpen(_("This task is not running."))
        )
        return render(
            request, "gridtasks/scan_task_qr.html", {**context, "error": error}, status=error.status
        )

    if request.method == "POST" and request.user.is_authenticated:
        nonce = _nonce(request.POST.get("nonce"))
        if nonce is None:
            error = GongzhiError(
                _("This check-in form is incomplete: scan the code again."), code="bad_nonce"
            )
            return render(request, "gridtasks/scan_task_qr.html", {**context, "error": error}, status=400)
        location = None
        if request.POST.get("share_location") and task.geofence_radius_m:
            try:
                lat, lng = float(request.POST.get("lat", "")), float(request.POST.get("lng", ""))
            except ValueError:
                pass
            else:
                if -90 <= lat <= 90 and -180 <= lng <= 180:
                    location = (lat, lng)
        try:
            result = services.check_by_task_qr(
                public_code=code,
                payload=payload,
                person=request.user,
                kind=request.POST.get("kind", ""),
                nonce=nonce,
                location=location,
                qr_seen_at=seen_at,
            )
        except GongzhiError as exc:
            return render(
                request, "gridtasks/scan_task_qr.html", {**context, "error": exc}, status=exc.status
            )
        return render(
            request, "gridtasks/scan_task_qr.html", {**context, "result": result}, status=result.status
        )

    # GET (or a POST from someone whose session ended): is the code genuine and fresh?
    try:
        qr.verify_task_qr(code, payload, now=seen_at)
    except GongzhiError as exc:
        return render(request, "gridtasks/scan_task_qr.html", {**context, "error": exc}, status=exc.status)
    ticket = ticket if seen_at else _seen_ticket(code, payload)
    if not request.user.is_authenticated:
        return signin_first(request, f"{request.path}?seen={ticket}")
    signup = selectors.signup_of(task=task, person=request.user)
    attendance = getattr(signup, "attendance", None) if signup else None
    kind = "out" if attendance and attendance.checked_in_at and not attendance.checked_out_at else "in"
    return render(
        request,
        "gridtasks/scan_task_qr.html",
        {
            **context,
            "signup": signup,
            "attendance": attendance,
            "kind": kind,
            "seen": ticket,
            "nonce": uuid.uuid4().hex,
        },
    )


@never_cache
def personal_qr(request, token):
    """The page a phone camera opens from a volunteer's personal QR. Meant for the organiser's scanner; it
    names the person only to someone who manages a task they hold a place on."""
    context = {"token": token}
    try:
        person = services.person_from_personal_qr(token)
    except GongzhiError as exc:
        return render(
            request, "gridtasks/personal_qr_landing.html", {**context, "error": exc}, status=exc.status
        )
    user = request.user
    tasks = selectors.tasks_managed_for_person(actor=user, person=person) if user.is_authenticated else []
    context.update(
        {"person": person if tasks else None, "tasks": tasks, "own": user.is_authenticated and user == person}
    )
    if request.method == "POST":
        if not user.is_authenticated:
            return signin_first(request)
        task = next((t for t in tasks if t.public_code == request.POST.get("task")), None)
        nonce = _nonce(request.POST.get("nonce"))
        if task is None or nonce is None:
            error = exceptions.NotSignedUp()
            return render(
                request, "gridtasks/personal_qr_landing.html", {**context, "error": error}, status=403
            )
        try:
            result = services.check_by_personal_qr(
                task_id=task.pk, token=token, actor=user, kind=request.POST.get("kind", ""), nonce=nonce
            )
        except GongzhiError as exc:
            return render(
                request, "gridtasks/personal_qr_landing.html", {**context, "error": exc}, status=exc.status
            )
        context.update({"result": result, "result_task": task})
        return render(request, "gridtasks/personal_qr_landing.html", context, status=result.status)
    for task in tasks:
        task.nonce = uuid.uuid4().hex  # one per form: each task's check-in is its own scan
    return render(request, "gridtasks/personal_qr_landing.html", context)


# --- the calendar feed ------------------------------------------------------------------------------------
def calendar_feed(request, token):
    """A person's tasks as iCalendar. The URL is the credential: a signature over the person's random
    personal code (no id, no personal data); renewing the personal code voids it."""
    try:
        personal_code = links.unsign(token, salt=_CALENDAR_SALT)
    except links.BadToken:
        raise Http404(_("This calendar link is not valid.")) from None
    owner = (
        PersonalCode.objects.filter(code=personal_code, person__is_active=True)
        .select_related("person")
        .first()
    )
    if owner is None:
        raise Http404(_("This calendar link is not valid."))
    body = ical.feed(
        person=owner.person,
        signups=selectors.calendar_signups(person=owner.person),
        url_for=lambda task: request.build_absolute_uri(reverse("gridtasks:detail", args=[task.public_code])),
        host=request.get_host().split(":")[0],
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="gongzhi-tasks.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response
