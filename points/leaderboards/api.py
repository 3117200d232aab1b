"""Leaderboards over the API (public, masked names) and the signed-in person's opt-out."""

from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict, StrictBool

from core.api import error_responses

from . import selectors, services
from .periods import parse_period

router = Router(tags=["leaderboards"])

RULES = gettext_lazy(
    "Points counted: earnings in the period (grid tasks, per-incident and per-case rewards, service orders) "
    "minus any of them later reversed; redemptions do not lower a score. Equal points share a rank "
    "(1, 1, 3); within a tie, whoever reached the total first is listed first. Names are masked; people "
    "who opted out are not listed."
)


class PeriodIn(Schema):
    period: str = Field("month", description="month, year or all")
    when: str = Field("", description="Which month (2026-05) or year (2026); default the current one.")


class RowOut(Schema):
    rank: int
    name: str = Field(description="Masked name, e.g. 张*丰.")
    points: int
    is_me: bool


class BoardOut(Schema):
    level: str
    place_code: str
    place_name: str
    period: str
    key: str = Field(description="2026-05, 2026 or all")
    rules: str
    rows: list[RowOut]


class VisibilityIn(Schema):
    model_config = ConfigDict(extra="forbid")

    hidden: StrictBool = Field(description="true: leave me off public boards (my points are kept).")


class VisibilityOut(Schema):
    hidden: bool


@router.get(
    "/leaderboards/{level}/{code}",
    response={200: BoardOut, **error_responses(400, 404, 422)},
    auth=None,
    summary="A leaderboard",
    description="Public; masked names only. Ranking: equal points share a rank (1, 1, 3); within a tie, "
    "the earlier last counted earning first. Scores count earnings not reversed; redemptions do not count.",
)
def leaderboard(request, level: str, code: str, filters: Query[PeriodIn]):
    place = selectors.place_for(level, code)
    period = parse_period(filters.period, filters.when)
    rows = selectors.board(level=level, place=place, period=period, viewer=request.user)
    return {
        "level": level,
        "place_code": place.code,
        "place_name": place.name,
        "period": period.kind,
        "key": period.key,
        "rules": str(RULES),
        "rows": rows,
    }


@router.get(
    "/leaderboard-visibility",
    response={200: VisibilityOut, **error_responses(401)},
    summary="Am I shown on public leaderboards",
)
def get_visibility(request):
    return {"hidden": selectors.is_hidden(person=request.user)}


@router.put(
    "/leaderboard-visibility",
    response={200: VisibilityOut, **error_responses(401, 403, 422)},
    summary="Show or hide me on public leaderboards",
)
def set_visibility(request, payload: VisibilityIn):
    choice = services.do_set_visibility(person=request.user, actor=request.user, hidden=payload.hidden)
    return {"hidden": choice.opted_out}
