"""Reads for the reward pages and the API, joined up front so a page's query count does not grow with
its rows."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from points.models import Account

from .models import Merchant, Redemption, RewardItem


def balance_of(person) -> int:
    if person is None or not person.is_authenticated:
        return 0
    return (
        Account.objects.filter(person=person, unit=Account.Unit.POINTS)
        .values_list("balance", flat=True)
        .first()
        or 0
    )


def catalogue() -> QuerySet[RewardItem]:
    """Items on offer: active, at an active merchant."""
    return (
        RewardItem.objects.filter(active=True, merchant__active=True)
        .select_related("merchant", "photo")
        .prefetch_related("photo__renditions")
        .order_by("price", "name", "pk")
    )


def item_on_offer(code: str) -> RewardItem | None:
    return catalogue().filter(public_code=code).first()


def my_redemptions(person) -> QuerySet[Redemption]:
    return (
        Redemption.objects.filter(person=person)
        .select_related("item", "merchant")
        .order_by("-created_at", "-pk")
    )


def merchants_of(person) -> QuerySet[Merchant]:
    """The merchants whose items `person` may hand over."""
    if person is None or not person.is_authenticated:
        return Merchant.objects.none()
    if person.is_superuser:
        return Merchant.objects.order_by("name")
    return Merchant.objects.filter(memberships__person=person).order_by("name")


def recent_hand_overs(merchant: Merchant, limit: int = 10) -> QuerySet[Redemption]:
    return (
        Redemption.objects.filter(merchant=merchant, status=Redemption.Status.HANDED_OVER)
        .select_related("item", "person")
        .order_by("-handed_over_at", "-pk")[:limit]
    )


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The month in local time (Asia/Shanghai), as aware datetimes [start, end)."""
    start = timezone.make_aware(dt.datetime(year, month, 1))
    end = timezone.make_aware(dt.datetime(year + month // 12, month % 12 + 1, 1))
    return start, end


@dataclass(frozen=True)
class Statement:
    merchant: Merchant
    year: int
    month: int
    lines: list[dict]  # per item: name, count, points
    handovers: QuerySet[Redemption]
    count: int
    points: int


def statement(merchant: Merchant, year: int, month: int) -> Statement:
    """What the merchant handed over in one month: per item (count, points) and each hand-over."""
    start, end = month_bounds(year, month)
    handed = Redemption.objects.filter(
        merchant=merchant,
        status=Redemption.Status.HANDED_OVER,
        handed_over_at__gte=start,
        handed_over_at__lt=end,
    )
    lines = list(
        handed.values("item_id", "item__name")
        .annotate(count=Count("pk"), points=Sum("points"))
        .order_by("item__name", "item_id")
    )
    totals = handed.aggregate(count=Count("pk"), points=Sum("points", default=0))
    return Statement(
        merchant=merchant,
        year=year,
        month=month,
        lines=[
            {"name": line["item__name"], "count": line["count"], "points": line["points"]} for line in lines
        ],
        handovers=handed.select_related("item", "person", "handed_over_by").order_by("handed_over_at", "pk"),
        count=totals["count"],
        points=totals["points"],
    )


def open_count(person) -> int:
    return Redemption.objects.filter(person=person, status=Redemption.Status.RESERVED).count()
