"""Dining points and classes: the page a resident's QR card opens, session rosters with attendance
(camera scanning and a button per row), cancelling a session, the monthly subsidy report (XLSX), and the
staff's insight into orders, response times, ratings and the seed's two rankings (page and XLSX).

Views are thin: every change goes through services.py, which checks who may do it; a refusal
(GongzhiError) is shown on the page it came from with its message and its 4xx status.

The card's token is a credential that never expires (it is printed): it appears only in the card's own
URL, which the phone camera opens. It is never written into a page, a link, a message or a log (see
services_catalog/redaction.py), and the card page tells browsers not to send it on as a referrer.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from core import xlsx
from core.exceptions import GongzhiError, NotAllowed
from core.periods import month_key
from core.reports import FilterForm, tables_workbook
from core.shortcuts import signin_first
from volunteers.exceptions import OutOfScope
from volunteers.models import Community
from volunteers.scopes import scope_for

from .. import exceptions, selectors, services
from ..forms import DeliverForm, RateForm
from ..models import Order, Service, Session, SubsidyGroup
from . import first_error


# --- helpers ---------------------------------------------------------------------------------------------
def _local_time(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M") if moment else ""


# --- the resident's QR card ------------------------------------------------------------------------------
@dataclass
class CardPanel:
    """What the viewer may do with this resident's card now, order by order."""

    door: list[Order] = field(default_factory=list)  # accepted requests to check in at / deliver
    to_confirm: list[Order] = field(default_factory=list)  # delivered, to confirm and rate here
    sessions: list[Order] = field(default_factory=list)  # today's session bookings to mark attended
    grid_worker: bool = False  # the viewer looks after the resident's grid

    @property
    def may_act(self) -> bool:
        return bool(self.door or self.to_confirm or self.sessions or self.grid_worker)

    def find(self, code: str, action: str) -> Order | None:
        lists = {
            "check_in": self.door,
            "deliver": self.door,
            "confirm": self.to_confirm,
            "attend": self.sessions,
        }
        return next((order for order in lists.get(action, []) if order.code == code), None)


def _card_panel(viewer, beneficiary) -> CardPanel:
    """The resident's orders the viewer may act on, by the services' own rules (can_deliver for the
    door and the confirmation, can_run_sessions for a session). A resident has a handful of orders open
    at a time, so asking the rule order by order stays cheap."""
    person = beneficiary.person
    panel = CardPanel(grid_worker=person.home_grid_id in scope_for(viewer).grid_ids)
    runs: dict[int, bool] = {}
    today = timezone.localdate()
    for order in selectors.card_orders(resident=person, today=today):
        if order.session_id and timezone.localdate(order.session.starts_at) == today:
            if order.service_id not in runs:
                runs[order.service_id] = services.can_run_sessions(viewer, order.service)
            if runs[order.service_id]:
                panel.sessions.append(order)
        if order.status == Order.Status.DELIVERED and services.can_deliver(viewer, order):
            panel.to_confirm.append(order)
        elif (
            order.status == Order.Status.ACCEPTED
            and not order.session_id
            and services.can_deliver(viewer, order)
        ):
            panel.door.append(order)
    return panel


def _card_action(request, token: str, beneficiary, panel: CardPanel) -> str:
    """Carry out the posted action; returns the message to show. Raises GongzhiError when refused."""
    action = request.POST.get("action", "")
    code = request.POST.get("order", "")
    order = panel.find(code, action)
    if order is None:
        known = Order.objects.filter(resident=beneficiary.person, code=code).select_related("service").first()
        if known is None:
            raise exceptions.OrderNotFound(_("This order is not on this card."))
        if not (
            services.can_deliver(request.user, known)
            or services.can_run_sessions(request.user, known.service)
        ):
            raise OutOfScope(_("You have nothing to record for this resident."))
        raise exceptions.WrongStage(_("This order is not waiting for this step any more."))
    actor = request.user
    if action == "check_in":
        order = services.do_check_in_at_door(actor=actor, order_id=order.pk, token=token)
        return _("Checked in at the door at %(time)s.") % {"time": _local_time(order.checked_in_at)}
    if action == "deliver":
        # Through the order page's form: an over-long note is a 400 here, not a database error.
        form = DeliverForm(request.POST)
        if not form.is_valid():
            raise GongzhiError(first_error(form), code="bad_note")
        services.do_deliver_order(actor=actor, order_id=order.pk, note=form.cleaned_data["note"])
        return _("Delivery recorded. Hand the phone to the resident to confirm and rate it.")
    if action == "confirm":
        form = RateForm(request.POST)
        if not form.is_valid():
            raise GongzhiError(first_error(form), code="bad_rating")
        services.do_confirm_order(
            actor=actor,
            order_id=order.pk,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data["comment"],
            card=token,
        )
        return _("Thank you: the order is confirmed and rated.")
    order, new = services.do_record_attendance(actor=actor, session_id=order.session_id, token=token)
    if new:
        return _("Marked attended at %(time)s.") % {"time": _local_time(order.attended_at)}
    return _("Already marked attended at %(time)s.") % {"time": _local_time(order.attended_at)}


def _private(response):
    # The URL is the card's credential: no referrer leaves the page, no search engine keeps it.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
def card(request, token):
    """What a resident's printed QR card opens. Whoever serves the resident (a deliverer, the
    organisation at a session, their grid worker) sees the orders they may act on; anyone else learns
    only that the card is genuine and whose it is, masked."""
    try:
        beneficiary = services.read_card(token)
    except exceptions.InvalidCard as exc:
        return _private(
            render(request, "services_catalog/dining_card_invalid.html", {"error": exc}, status=exc.status)
        )
    viewer = request.user
    person = beneficiary.person
    own = viewer.is_authenticated and viewer.pk == person.pk
    panel = _card_panel(viewer, beneficiary) if viewer.is_authenticated and not own else CardPanel()
    error, status, posted = None, 200, None
    if request.method == "POST":
        try:
            if not viewer.is_authenticated:
                raise NotAllowed(
                    _("Sign in first: only the people serving this resident can use the card."),
                    code="signin_required",
                )
            if own:
                raise NotAllowed(
                    _("Your own card is for the people who serve you: confirm your orders in My orders."),
                    code="own_card",
                )
            message = _card_action(request, token, beneficiary, panel)
        except GongzhiError as exc:
            error, status = exc, exc.status
            posted = {"order": request.POST.get("order", ""), "form": RateForm(request.POST)}
            # The refusal may come from a change made meanwhile (someone else delivered): show what is now.
            if panel.may_act:
                panel = _card_panel(viewer, beneficiary)
        else:
            messages.success(request, message)
            return _private(redirect(request.path))
    context = {
        "holder": person.masked_name,
        "own": own,
        "panel": panel,
        "error": error,
        "posted": posted,
        "rate_form": RateForm(),
    }
    return _private(render(request, "services_catalog/dining_card.html", context, status=status))


# --- session rosters ---------------------------------------------------------------------------------------
def _session_service(request, code) -> Service:
    """A session service the user keeps the rosters of: 404 if there is no such service, 403 if it is
    not theirs."""
    service = (
        Service.objects.filter(code=code, mode=Service.Mode.SESSIONS)
        .select_related("organisation", "category", "street")
        .first()
    )
    if service is None:
        raise Http404(_("This service does not exist or does not run sessions."))
    if not services.can_run_sessions(request.user, service):
        raise PermissionDenied(
            _("Only the service's organisation and the staff of its area keep its rosters.")
        )
    return service


def _session_of(service: Service, session_id) -> Session:
    session = selectors.roster_session(service=service, session_id=session_id)
    if session is None:
        raise Http404(_("This session does not exist."))
    return session


def _roster_url(service: Service, day: date | None = None, anchor: str = "") -> str:
    url = reverse("services:dining_roster", args=[service.code])
    if day is not None and day != timezone.localdate():
        url += "?" + urlencode({"day": day.isoformat()})
    return url + (f"#{anchor}" if anchor else "")


def _parse_day(raw) -> date | None:
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        return None


@never_cache
def session_services(request):
    """The session services (dining points, classes) whose rosters the user keeps."""
    if not request.user.is_authenticated:
        return signin_first(request)
    return render(
        request,
        "services_catalog/dining_services.html",
        {"services": selectors.session_services_for(request.user), "today": timezone.localdate()},
    )


@never_cache
def roster(request, code):
    """A day of a session service: each session with who booked, their dietary notes, who booked for
    them, and attendance. Printable. Two queries for the sessions and bookings, whatever their number."""
    if not request.user.is_authenticated:
        return signin_first(request)
    service = _session_service(request, code)
    today = timezone.localdate()
    day = today
    if request.GET.get("day"):
        day = _parse_day(request.GET["day"])
        if day is None:
            error = GongzhiError(_("Give the day as YYYY-MM-DD, for example 2026-03-05."), code="bad_day")
            return render(
                request,
                "error.html",
                {"error": error, "back_url": _roster_url(service)},
                status=400,
            )
    sessions = selectors.roster_sessions(service=service, day=day)
    booked = sum(len(session.roster) for session in sessions if not session.cancelled)
    attended = sum(
        1 for session in sessions if not session.cancelled for order in session.roster if order.attended_at
    )
    this_month = today.replace(day=1)
    return render(
        request,
        "services_catalog/dining_roster.html",
        {
            "service": service,
            "day": day,
            "today": today,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "sessions": sessions,
            "booked": booked,
            "attended": attended,
            "can_mark": day <= today,
            "can_change": scope_for(request.user).can_change(service),
            "months": [this_month, (this_month - timedelta(days=1)).replace(day=1)],
            "subsidy_groups": dict(SubsidyGroup.choices),
        },
    )


@never_cache
def scan_page(request, code, session_id):
    """The camera scanner for one session: the organiser scans residents' cards as they arrive (the
    grid tasks' kiosk scanner, static/js/kiosk.js, without its offline queue: card tokens stay off the
    phone's storage)."""
    if not request.user.is_authenticated:
        return signin_first(request)
    service = _session_service(request, code)
    session = _session_of(service, session_id)
    if session.cancelled:
        error = exceptions.SessionNotBookable(_("This session has been cancelled."))
        return render(request, "error.html", {"error": error, "back_url": _roster_url(service)}, status=409)
    day = timezone.localdate(session.starts_at)
    if day > timezone.localdate():
        error = exceptions.SessionNotBookable(_("Attendance can be recorded from the day of the session."))
        return render(
            request, "error.html", {"error": error, "back_url": _roster_url(service, day)}, status=409
        )
    return render(
        request,
        "services_catalog/dining_scan.html",
        {"service": service, "session": session, "roster_url": _roster_url(service, day, f"s-{session.pk}")},
    )


def _json_error(message, status, code="error"):
    return JsonResponse({"ok": False, "code": code, "message": str(message)}, status=status)


@never_cache
def scan_json(request, code, session_id):
    """One scan from the session scanner: {"token": the card's URL or token} → the result, in JSON.
    A repeat scan answers with the first one's time (services.do_record_attendance is idempotent)."""
    if request.method != "POST":
        return _json_error(_("Use POST."), 405, "method_not_allowed")
    if not request.user.is_authenticated:
        return _json_error(_("Sign in again, then scan once more."), 401, "signed_out")
    try:
        service = _session_service(request, code)
        session = _session_of(service, session_id)
    except Http404 as exc:
        return _json_error(exc, 404, "not_found")
    except PermissionDenied as exc:
        return _json_error(exc, 403, "forbidden")
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("token"), str):
        return _json_error(_("The request is not valid JSON with a scanned code."), 400, "bad_request")
    try:
        order, new = services.do_record_attendance(
            actor=request.user, session_id=session.pk, token=body["token"][:500]
        )
    except GongzhiError as exc:
        return _json_error(exc.message, exc.status, exc.code)
    return JsonResponse(
        {
            "ok": True,
            "code": "attended" if new else "already_attended",
            "message": _("Attended") if new else _("Already marked attended at"),
            "name": order.resident.name,
            "at": _local_time(order.attended_at),
            "replay": not new,
        }
    )


@require_POST
def mark_attended(request, code, session_id):
    """The roster's "attended" button for a resident who came without their card."""
    if not request.user.is_authenticated:
        return signin_first(request)
    service = _session_service(request, code)
    session = _session_of(service, session_id)
    day = timezone.localdate(session.starts_at)
    order = selectors.booking_in_session(session=session, order_code=request.POST.get("order", ""))
    if order is None:
        error = exceptions.OrderNotFound(_("This booking does not exist or was cancelled."))
        return render(
            request, "error.html", {"error": error, "back_url": _roster_url(service, day)}, status=404
        )
    # The server reads the resident's current card itself: the token never travels through the page.
    token = services.card_token(services.beneficiary_for(order.resident))
    try:
        order, new = services.do_record_attendance(actor=request.user, session_id=session.pk, token=token)
    except GongzhiError as exc:
        return render(
            request, "error.html", {"error": exc, "back_url": _roster_url(service, day)}, status=exc.status
        )
    name = order.resident.name
    if new:
        messages.success(request, _("%(name)s: attended.") % {"name": name})
    else:
        messages.info(
            request,
            _("%(name)s was already marked attended at %(time)s.")
            % {"name": name, "time": _local_time(order.attended_at)},
        )
    return redirect(_roster_url(service, day, f"o-{order.code}"))


@never_cache
def cancel_session(request, code, session_id):
    """Cancel one session with a reason (every booking is cancelled and its resident told)."""
    if not request.user.is_authenticated:
        return signin_first(request)
    service = _session_service(request, code)
    session = _session_of(service, session_id)
    if not scope_for(request.user).can_change(service):
        raise PermissionDenied(
            _("Only the organisation's administrators and the staff of its area can do this.")
        )
    day = timezone.localdate(session.starts_at)
    context = {
        "service": service,
        "session": session,
        "roster_url": _roster_url(service, day, f"s-{session.pk}"),
    }
    if request.method != "POST":
        return render(request, "services_catalog/dining_cancel_session.html", {**context, "reason": ""})
    reason = request.POST.get("reason", "")
    try:
        services.do_cancel_session(actor=request.user, session_id=session.pk, reason=reason)
    except GongzhiError as exc:
        return render(
            request,
            "services_catalog/dining_cancel_session.html",
            {**context, "reason": reason, "error": exc},
            status=exc.status,
        )
    messages.success(request, _("The session is cancelled and the residents who booked it are told."))
    return redirect(context["roster_url"])


# --- the monthly subsidy report --------------------------------------------------------------------------
_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_MONEY = "#,##0.00"


def _parse_month(raw) -> date | None:
    match = _MONTH_RE.match(str(raw or ""))
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def subsidy_workbook(*, service: Service, month: date, lines: list[selectors.SubsidyLine]) -> xlsx.Workbook:
    """One sheet: a title row (service and month), the header, one row per resident (full name, subsidy
    group, sessions booked and attended, unit price, amount) and a totals row. No phone numbers."""
    price = service.price or Decimal("0")
    groups = dict(SubsidyGroup.choices)
    headers = [
        (_("No."), 6),
        (_("Full name"), 14),
        (_("Subsidy group"), 26),
        (_("Sessions booked"), 12),
        (_("Sessions attended"), 12),
        (_("Unit price (yuan)"), 13),
        (_("Amount (yuan)"), 14),
    ]
    book = xlsx.Workbook()
    sheet = book.sheet(_("Subsidy report"))
    ws = sheet.ws
    title = _("%(service)s · subsidy report for %(year)d-%(month)02d") % {
        "service": service.title,
        "year": month.year,
        "month": month.month,
    }
    sheet.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 28
    organisation = service.organisation.name if service.organisation else _("Service centre")
    subtitle = _("%(organisation)s · price %(price)s yuan per session · made %(made)s") % {
        "organisation": organisation,
        "price": f"{price:.2f}",
        "made": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }
    sheet.append([subtitle])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(headers))
    header_cells = sheet.append([str(label) for label, _width in headers])
    header_row = ws.max_row
    thin = Side(style="thin", color="BBBBBB")
    for column, (cell, (_label, width)) in enumerate(zip(header_cells, headers, strict=True), start=1):
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(bottom=thin)
        ws.column_dimensions[get_column_letter(column)].width = width
    for number, line in enumerate(lines, start=1):
        cells = sheet.append(
            [
                number,
                line.name,
                str(groups.get(line.subsidy_group, "")) if line.subsidy_group else "",
                line.booked,
                line.attended,
                price,
                price * line.attended,
            ]
        )
        cells[5].number_format = cells[6].number_format = _MONEY
    total_attended = sum(line.attended for line in lines)
    totals = sheet.append(
        [
            _("Total"),
            "",
            "",
            sum(line.booked for line in lines),
            total_attended,
            None,
            price * total_attended,
        ]
    )
    for cell in totals:
        cell.font = Font(bold=True)
        cell.border = Border(top=thin)
    totals[6].number_format = _MONEY
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    return book


@never_cache
def subsidy_report(request, code):
    """?month=YYYY-MM (default: this month) → the XLSX of attended sessions per resident."""
    if not request.user.is_authenticated:
        return signin_first(request)
    service = _session_service(request, code)
    month = timezone.localdate().replace(day=1)
    if request.GET.get("month"):
        month = _parse_month(request.GET["month"])
        if month is None:
            error = GongzhiError(_("Give the month as YYYY-MM, for example 2026-03."), code="bad_month")
            return render(
                request, "error.html", {"error": error, "back_url": _roster_url(service)}, status=400
            )
    lines = selectors.subsidy_lines(service=service, month=month)
    filename = f"subsidy-{service.code}-{month_key(month)}.xlsx"
    return subsidy_workbook(service=service, month=month, lines=lines).response(filename)


# --- insight for staff --------------------------------------------------------------------------------------
def _insight(request):
    """(form, report or None) for a staff member; anyone else is refused."""
    scope = scope_for(request.user)
    if not scope.is_staff:
        raise PermissionDenied(_("Insight into the services is for the staff of the service centres."))
    communities = scope.changeable(Community.objects.select_related("street")).order_by(
        "street__code", "code"
    )
    form = FilterForm(request.GET, communities=communities)
    report = None
    if form.is_valid():
        chosen = form.cleaned_data["community"]
        report = selectors.insight_report(
            communities=[chosen] if chosen else list(communities), period=form.cleaned_data["period"]
        )
    return form, report


def _insight_caption(report) -> str:
    if len(report.communities) == 1:
        where = report.communities[0].name
    else:
        where = _("%(count)d communities of my area") % {"count": len(report.communities)}
    return _("%(where)s · %(period)s") % {"where": where, "period": report.period.label}


@never_cache
def insight(request):
    if not request.user.is_authenticated:
        return signin_first(request)
    form, report = _insight(request)
    query = urlencode(
        {key: request.GET[key] for key in ("community", "start", "end") if request.GET.get(key)}
    )
    context = {"form": form, "report": report}
    if report is None:
        context["errors"] = [str(error) for errors in form.errors.values() for error in errors]
        return render(request, "services_catalog/insight.html", context, status=400)
    context.update(
        caption=_insight_caption(report),
        charts=report.charts(),
        export_url=reverse("services:insight_xlsx") + (f"?{query}" if query else ""),
    )
    return render(request, "services_catalog/insight.html", context)


@never_cache
def insight_xlsx(request):
    if not request.user.is_authenticated:
        return signin_first(request)
    form, report = _insight(request)
    if report is None:
        errors = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(
            _("Check the filters: %(errors)s") % {"errors": errors},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    period = report.period
    filename = f"gongzhi-services-insight-{month_key(period.first)}-{month_key(period.last)}.xlsx"
    return tables_workbook(report.tables, caption=_insight_caption(report)).response(filename)


urlpatterns = [
    path("card/<str:token>/", card, name="card"),
    path("manage/sessions/", session_services, name="dining_services"),
    path("manage/sessions/<str:code>/", roster, name="dining_roster"),
    path("manage/sessions/<str:code>/subsidy.xlsx", subsidy_report, name="dining_subsidy"),
    path("manage/sessions/<str:code>/<int:session_id>/scan/", scan_page, name="dining_scan"),
    path("manage/sessions/<str:code>/<int:session_id>/scan.json", scan_json, name="dining_scan_json"),
    path("manage/sessions/<str:code>/<int:session_id>/attended/", mark_attended, name="dining_attended"),
    path("manage/sessions/<str:code>/<int:session_id>/cancel/", cancel_session, name="dining_cancel_session"),
    path("insight/", insight, name="insight"),
    path("insight.xlsx", insight_xlsx, name="insight_xlsx"),
]
