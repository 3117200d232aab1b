"""Reward pages: the catalogue with the person's balance, redeeming (with a confirmation), "my redemptions"
with the QR to collect, the merchant's hand-over page (camera scanner + short code) and statement.

Views are thin: changes go through services.py; a refusal (GongzhiError) is shown on the page it came from,
with its message and 4xx status. Items, merchants and redemptions appear in URLs only by random public
codes.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core import xlsx
from core.exceptions import GongzhiError
from core.links import absolute, qr_svg
from core.shortcuts import signin_first
from volunteers.scopes import scope_for

from . import exceptions, qr, selectors, services
from .forms import HandOverForm, RedeemForm, month_label, parse_month, this_month
from .models import Merchant, Redemption


# --- the person's pages ---------------------------------------------------------------------------------
def catalogue(request):
    user = request.user
    return render(
        request,
        "redemption/catalogue.html",
        {
            "items": selectors.catalogue(),
            "balance": selectors.balance_of(user) if user.is_authenticated else None,
            "open_count": selectors.open_count(user) if user.is_authenticated else 0,
            "is_merchant_staff": selectors.merchants_of(user).exists(),
        },
    )


def redeem(request, code):
    if not request.user.is_authenticated:
        return signin_first(request)
    item = selectors.item_on_offer(code)
    if item is None:
        raise Http404(_("This reward item does not exist or is not offered."))
    balance = selectors.balance_of(request.user)
    if request.method != "POST":
        return _render_redeem(request, item, RedeemForm(), balance)
    form = RedeemForm(request.POST)
    if not form.is_valid():
        return _render_redeem(request, item, RedeemForm(), balance, error=form.errors["key"][0], status=400)
    try:
        result = services.do_redeem(
            item_code=item.public_code, actor=request.user, key=form.cleaned_data["key"]
        )
    except GongzhiError as exc:
        return _render_redeem(request, item, RedeemForm(), balance, error=exc.message, status=exc.status)
    return redirect(reverse("redemption:mine") + f"#r-{result.redemption.public_code}")


def _render_redeem(request, item, form, balance, *, error=None, status=200):
    return render(
        request,
        "redemption/redeem.html",
        {
            "item": item,
            "form": form,
            "balance": balance,
            "after": balance - item.price,
            "error": error,
            "hold_hours": int(services.hold_period().total_seconds() // 3600),
        },
        status=status,
    )


@never_cache
def mine(request):
    if not request.user.is_authenticated:
        return signin_first(request)
    redemptions = list(selectors.my_redemptions(request.user)[:100])
    for redemption in redemptions:
        if redemption.status == Redemption.Status.RESERVED:
            # A fresh signed token every time the page is shown; the short code is the fallback.
            redemption.qr_svg = qr_svg(absolute(qr.path_for(redemption.token_code)))
    return render(
        request,
        "redemption/mine.html",
        {
            "open": [r for r in redemptions if r.status == Redemption.Status.RESERVED],
            "past": [r for r in redemptions if r.status != Redemption.Status.RESERVED],
            "balance": selectors.balance_of(request.user),
            "qr_minutes": qr.qr_max_age() // 60,
        },
    )


@require_POST
def cancel(request, code):
    if not request.user.is_authenticated:
        return signin_first(request, reverse("redemption:mine"))
    try:
        redemption = services.do_cancel(public_code=code, actor=request.user)
    except GongzhiError as exc:
        return render(request, "error.html", {"error": exc}, status=exc.status)
    messages.success(
        request,
        _("Cancelled. %(points)s points are back in your account.") % {"points": redemption.points},
    )
    return redirect("redemption:mine")


def collect(request, token):
    """What a redemption QR opens in any phone camera. The merchant's staff get the hand-over button;
    anyone else is told what the code is for (and nothing about whose it is)."""
    try:
        token_code, stale = qr.read_token(token)
    except exceptions.InvalidCode as exc:
        return render(request, "error.html", {"error": exc}, status=exc.status)
    redemption = Redemption.objects.select_related("item", "merchant").filter(token_code=token_code).first()
    if redemption is None:
        exc = exceptions.InvalidCode()
        return render(request, "error.html", {"error": exc}, status=exc.status)
    staff = services.is_merchant_staff(request.user, redemption.merchant)
    return render(
        request,
        "redemption/collect.html",
        {
            "redemption": redemption if staff else None,
            "merchant": redemption.merchant if staff else None,
            "token": token,
            "stale": stale,
            "form": HandOverForm(initial={"code": token}),
        },
    )


# --- the merchant's pages -------------------------------------------------------------------------------
def merchant_home(request):
    if not request.user.is_authenticated:
        return signin_first(request)
    merchants = list(selectors.merchants_of(request.user))
    if len(merchants) == 1:
        return redirect("redemption:handover", merchants[0].public_code)
    if not merchants:
        raise PermissionDenied(_("Only merchants' staff hand reward items over."))
    return render(request, "redemption/merchant_pick.html", {"merchants": merchants})


def handover(request, code):
    if not request.user.is_authenticated:
        return signin_first(request)
    merchant = services.access_merchant(merchant_code=code, actor=request.user)
    result, error, status = None, None, 200
    form = HandOverForm()
    if request.method == "POST":
        bound = HandOverForm(request.POST)
        if not bound.is_valid():
            error, status, form = exceptions.InvalidCode().message, 400, bound
        else:
            try:
                result = services.do_hand_over(
                    merchant_code=code, code=bound.cleaned_data["code"], actor=request.user
                )
            except GongzhiError as exc:
                error, status = exc.message, exc.status
    return render(
        request,
        "redemption/handover.html",
        {
            "merchant": merchant,
            "form": form,
            "result": result,
            "error": error,
            "recent": selectors.recent_hand_overs(merchant),
            "allowed_origins": [absolute("").rstrip("/")],
        },
        status=status,
    )


def _statement_merchant(request, code) -> Merchant:
    """Merchant staff read their own statement; staff read those of merchants in their scope."""
    merchant = Merchant.objects.filter(public_code=code).first()
    if merchant is None:
        raise Http404(_("This merchant does not exist."))
    if services.is_merchant_staff(request.user, merchant) or scope_for(request.user).can_view(merchant):
        return merchant
    raise PermissionDenied(_("Only this merchant's staff and the street's staff can read its statement."))


def statement(request, code):
    if not request.user.is_authenticated:
        return signin_first(request)
    merchant = _statement_merchant(request, code)
    raw = request.GET.get("month")
    month = parse_month(raw) if raw else this_month()
    if month is None:
        exc = exceptions.InvalidMonth()
        return render(request, "error.html", {"error": exc}, status=exc.status)
    data = selectors.statement(merchant, *month)
    if request.GET.get("format") == "xlsx":
        return _statement_xlsx(data)
    return render(
        request,
        "redemption/statement.html",
        {"s": data, "month": month_label(*month), "this_month": month_label(*this_month())},
    )


def _statement_xlsx(data: selectors.Statement) -> HttpResponse:
    # Merchant and item names are typed by staff: written through core.xlsx, so none becomes a formula.
    book = xlsx.Workbook()
    summary = book.sheet(_("Summary"))
    summary.append([data.merchant.name, month_label(data.year, data.month)])
    summary.append([_("Item"), _("Handed over"), _("Points")])
    for line in data.lines:
        summary.append([line["name"], line["count"], line["points"]])
    summary.append([_("Total"), data.count, data.points])
    detail = book.sheet(_("Hand-overs"))
    detail.append(
        [_("Collected at"), _("Item"), _("Short code"), _("Person"), _("Points"), _("Handed over by")]
    )
    for r in data.handovers:
        detail.append(
            [
                timezone.localtime(r.handed_over_at).strftime("%Y-%m-%d %H:%M"),
                r.item.name,
                r.short_code,
                r.person.masked_name,
                r.points,
                r.handed_over_by.masked_name if r.handed_over_by else "",
            ]
        )
    return book.response(f"statement-{month_label(data.year, data.month)}.xlsx")
