"""The person's points over the API, as on their points page (views.mine): balance (points and verified
hours, with this month's ranks) and history. Leaderboards and the opt-out are in api.py (the same
/api/v1/points prefix).

The operation ids are given, not derived from this module's path: generated clients name their methods
after them."""

from datetime import datetime

from ninja import Field, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from core.api import error_responses

from . import selectors
from .periods import MONTH, current_period

router = Router(tags=["points"])


class RankOut(Schema):
    level: str = Field(description="grid or community")
    place_code: str
    place_name: str
    rank: int | None = Field(description="Standard competition rank (1, 1, 3); null without points.")
    of: int = Field(description="People ranked on that board.")
    points: int = Field(description="Points counted on the board this period.")


class BalanceOut(Schema):
    points: int = Field(description="Points that can be spent.")
    minutes: int = Field(description="Verified service minutes (never reduced by redemptions).")
    hours: float
    month: str = Field(description="The month of `ranks`, as 2026-05.")
    ranks: list[RankOut]
    hidden_from_boards: bool


class EntryOut(Schema):
    amount: int = Field(description="Signed: + earned or refunded, - spent, expired or reversed.")
    kind: str
    kind_label: str
    reason: str
    balance_after: int
    created_at: datetime
    reversed: bool = Field(description="A later entry reversed this one.")

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_reversed(obj) -> bool:
        return hasattr(obj, "reversed_by")


@router.get(
    "/balance",
    response={200: BalanceOut, **error_responses(401)},
    summary="My points and hours",
    operation_id="points_api_balance",
)
def balance(request):
    person = request.user
    money = selectors.balances(person=person)
    month = current_period(MONTH)
    return {
        "points": money.points,
        "minutes": money.minutes,
        "hours": money.hours,
        "month": month.key,
        "ranks": [
            {
                "level": rank.level,
                "place_code": rank.place.code,
                "place_name": rank.place.name,
                "rank": rank.rank,
                "of": rank.of,
                "points": rank.points,
            }
            for rank in selectors.my_ranks(person=person, period=month)
        ],
        "hidden_from_boards": selectors.is_hidden(person=person),
    }


@router.get(
    "/history",
    response={200: list[EntryOut], **error_responses(401, 422)},
    summary="My points history",
    operation_id="points_api_history",
)
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def history(request):
    return selectors.history(account_id=selectors.balances(person=request.user).points_account_id)
