"""Rewards over the API (/api/v1/rewards): the item catalogue, redeeming (idempotent by a client key),
"my redemptions" with the code to collect, cancelling, and the merchant's hand-over and statement.

Endpoints are thin: reads through `selectors`, changes through `services`, as the web pages do. Items,
merchants and redemptions are addressed by random public codes, never by database ids.
"""

import datetime as dt

from django.utils.translation import gettext_lazy as _
from ninja import Field, Header, Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.responses import Status
from pydantic import ConfigDict, StrictStr

from core.api import error_responses
from core.links import absolute

from . import exceptions, qr, selectors, services
from .forms import parse_month, this_month
from .models import Redemption
from .views import _statement_merchant

router = Router(tags=["rewards"])

KEY_DESCRIPTION = (
    "A random key the client makes for this redemption (8-64 of A-Z a-z 0-9 _ . : -), sent as the "
    "Idempotency-Key header or as `key` in the body. Sending the same request again returns the first "
    "redemption (200); the same key for another item is refused (409 idempotency_key_reused)."
)


# --- shapes ----------------------------------------------------------------------------------------
class MerchantOut(Schema):
    code: str = Field(alias="public_code")
    name: str
    kind: str
    address: str
    opening_hours: str


class ItemOut(Schema):
    code: str = Field(alias="public_code", description="The item's public code, used to redeem it.")
    name: str
    description: str
    price: int = Field(description="Points price.")
    stock: int
    per_person_limit: int | None
    merchant: MerchantOut


class RedemptionOut(Schema):
    code: str = Field(alias="public_code", description="The redemption's public code (to cancel it).")
    status: str = Field(description="reserved, handed_over, cancelled or expired.")
    item: str
    item_code: str
    merchant: MerchantOut
    points: int
    created_at: dt.datetime
    expires_at: dt.datetime = Field(description="Collect by this time, or it expires and is refunded.")
    handed_over_at: dt.datetime | None
    closed_at: dt.datetime | None
    short_code: str | None = Field(
        description="While reserved: the 8-character code the merchant may type instead of scanning."
    )
    qr_url: str | None = Field(
        description="While reserved: the signed URL to show as a QR code; it expires after a while, so "
        "fetch it again before showing it."
    )

    @staticmethod
    def resolve_item(obj) -> str:
        return obj.item.name

    @staticmethod
    def resolve_item_code(obj) -> str:
        return obj.item.public_code

    @staticmethod
    def resolve_short_code(obj) -> str | None:
        return obj.short_code if obj.status == Redemption.Status.RESERVED else None

    @staticmethod
    def resolve_qr_url(obj) -> str | None:
        if obj.status != Redemption.Status.RESERVED:
            return None
        return absolute(qr.path_for(obj.token_code))


class RedeemIn(Schema):
    model_config = ConfigDict(extra="forbid")

    key: StrictStr | None = Field(None, description=KEY_DESCRIPTION)


class RedeemOut(Schema):
    created: bool = Field(description="False when this answers a repeat of an earlier request.")
    balance: int = Field(description="The points balance after the redemption.")
    redemption: RedemptionOut


class HandOverIn(Schema):
    model_config = ConfigDict(extra="forbid")

    code: StrictStr = Field(
        max_length=500, description="What the QR code holds (the URL or its token), or the typed short code."
    )


class HandOverOut(Schema):
    item: str
    points: int
    person: str = Field(description="The person's masked name.")
    handed_over_at: dt.datetime


class StatementQuery(Schema):
    month: str | None = Field(None, description="YYYY-MM; this month if left out.")


class StatementLine(Schema):
    name: str
    count: int
    points: int


class StatementOut(Schema):
    merchant: str
    month: str
    count: int
    points: int
    lines: list[StatementLine]


# --- the catalogue and redeeming ---------------------------------------------------------------------
@router.get(
    "/items",
    response={200: list[ItemOut], **error_responses(422)},
    auth=None,
    summary="Reward items",
    description="Items on offer (active, at an active merchant), cheapest first.",
)
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def list_items(request):
    return selectors.catalogue()


@router.post(
    "/items/{code}/redeem",
    response={200: RedeemOut, 201: RedeemOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Redeem an item",
    description="Reserves one unit and its price in points, atomically. " + KEY_DESCRIPTION + " Refusals: "
    "item_not_found, item_inactive, out_of_stock, limit_reached, insufficient_points, invalid_key, "
    "idempotency_key_reused.",
)
def redeem(
    request,
    code: str,
    payload: RedeemIn | None = None,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_DESCRIPTION),
):
    body_key = payload.key if payload else None
    if idempotency_key is not None and body_key is not None and idempotency_key != body_key:
        raise exceptions.InvalidKey(_("The Idempotency-Key header and the body's key differ."))
    key = idempotency_key if idempotency_key is not None else body_key
    if key is None:
        raise exceptions.InvalidKey(_("Send an Idempotency-Key header (or `key` in the body)."))
    result = services.do_redeem(item_code=code, actor=request.user, key=key)
    body = {
        "created": result.created,
        "balance": selectors.balance_of(request.user),
        "redemption": result.redemption,
    }
    return Status(201 if result.created else 200, body)


# --- my redemptions --------------------------------------------------------------------------------
@router.get(
    "/mine", response={200: list[RedemptionOut], **error_responses(401, 422)}, summary="My redemptions"
)
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def my_redemptions(request):
    return selectors.my_redemptions(request.user)


@router.post(
    "/mine/{code}/cancel",
    response={200: RedemptionOut, **error_responses(401, 403, 404, 409)},
    summary="Cancel a redemption",
    description="Cancels an uncollected redemption of yours: the points and the stock come back. "
    "Refusals: redemption_not_found, not_cancellable.",
)
def cancel(request, code: str):
    return services.do_cancel(public_code=code, actor=request.user)


# --- merchants -------------------------------------------------------------------------------------
@router.post(
    "/merchants/{code}/handover",
    response={200: HandOverOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Hand an item over",
    description="For the merchant's staff: check the person's QR (or short code) and mark the item handed "
    "over. Refusals: merchant_not_found, not_merchant_staff, invalid_code, other_merchant, "
    "already_handed_over, redemption_cancelled, code_expired, qr_expired.",
)
def hand_over(request, code: str, payload: HandOverIn):
    redemption = services.do_hand_over(merchant_code=code, code=payload.code, actor=request.user)
    return {
        "item": redemption.item.name,
        "points": redemption.points,
        "person": redemption.person.masked_name,
        "handed_over_at": redemption.handed_over_at,
    }


@router.get(
    "/merchants/{code}/statement",
    response={200: StatementOut, **error_responses(401, 403, 404, 422)},
    summary="Monthly statement",
    description="Items handed over in a month, per item, for the merchant's staff and the staff of its area.",
)
def statement(request, code: str, query: Query[StatementQuery]):
    merchant = _statement_merchant(request, code)
    month = parse_month(query.month) if query.month else this_month()
    if month is None:
        raise exceptions.InvalidMonth()
    data = selectors.statement(merchant, *month)
    return {
        "merchant": merchant.name,
        "month": f"{month[0]:04d}-{month[1]:02d}",
        "count": data.count,
        "points": data.points,
        "lines": data.lines,
    }
