"""The person's points page (/points/, "points:mine") and the public leaderboards.

Boards are public (no sign-in) and show masked names only; they are read through selectors, which cost a
fixed number of queries per page. A refusal (GongzhiError: unknown level, place or period) becomes a 4xx
page through core.middleware.
"""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .periods import ALL, KINDS, MONTH, YEAR, current_period, parse_period

HISTORY_PAGE_SIZE = 20
# The rewards pages belong to the redemption app; link to its index by name once it has one.
_REWARDS_URL_NAMES = ("redemption:index", "redemption:list", "redemption:items")


def _rewards_url() -> str:
    for name in _REWARDS_URL_NAMES:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return "/rewards/"


def board_url(level: str, place, period=None) -> str:
    url = reverse("leaderboards:board", args=[level, place.code])
    if period is None:
        return url
    query = {"period": period.kind}
    if period.kind != ALL:
        query["when"] = period.key
    return f"{url}?{urlencode(query)}"


@require_GET
def mine(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    person = request.user
    money = selectors.balances(person=person)
    page = Paginator(selectors.history(account_id=money.points_account_id), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    month = current_period(MONTH)
    ranks = [
        {"rank": rank, "url": board_url(rank.level, rank.place, month)}
        for rank in selectors.my_ranks(person=person, period=month)
    ]
    return render(
        request,
        "leaderboards/mine.html",
        {
            "money": money,
            "page": page,
            "ranks": ranks,
            "month": month,
            "hidden": selectors.is_hidden(person=person),
            "rewards_url": _rewards_url(),
        },
    )


@require_POST
def visibility(request):
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("points:mine"))
    choice = request.POST.get("hidden")
    if choice not in ("0", "1"):
        return HttpResponseBadRequest(_("Choose whether to be shown on public leaderboards."))
    hidden = choice == "1"
    services.do_set_visibility(person=request.user, actor=request.user, hidden=hidden)
    if hidden:
        messages.success(
            request, _("You are no longer shown on public leaderboards. Your points are unchanged.")
        )
    else:
        messages.success(request, _("You are shown on public leaderboards again."))
    return redirect("points:mine")


@require_GET
def index(request):
    user = request.user
    mine = []
    if user.is_authenticated and user.home_grid_id:
        grid = selectors.place_for(selectors.GRID, user.home_grid.code)
        community = grid.community
        mine = [
            (_("My grid"), grid, board_url(selectors.GRID, grid)),
            (_("My community"), community, board_url(selectors.COMMUNITY, community)),
            (_("My street"), community.street, board_url(selectors.STREET, community.street)),
        ]
    streets = [
        (street, board_url(selectors.STREET, street), board_url(selectors.DISTRICT, street.district))
        for street in selectors.streets_by_district()
    ]
    return render(request, "leaderboards/index.html", {"mine": mine, "streets": streets})


@require_GET
def board(request, level, code):
    place = selectors.place_for(level, code)
    period = parse_period(request.GET.get("period"), request.GET.get("when"))
    rows = selectors.board(level=level, place=place, period=period, viewer=request.user)
    child_level, children = selectors.children_of(level, place)
    previous, following = period.previous(), period.next()
    return render(
        request,
        "leaderboards/board.html",
        {
            "level": level,
            "level_label": LEVEL_LABELS[level],
            "place": place,
            "period": period,
            "rows": rows,
            "period_links": [
                (
                    kind,
                    PERIOD_LABELS[kind],
                    board_url(level, place, current_period(kind)),
                    kind == period.kind,
                )
                for kind in KINDS
            ],
            "previous_url": board_url(level, place, previous) if previous else "",
            "next_url": board_url(level, place, following) if following else "",
            "parents": _parents(level, place),
            "children": [(child, board_url(child_level, child, period)) for child in children],
            "child_level_label": LEVEL_LABELS.get(child_level, ""),
        },
    )


def _parents(level: str, place) -> list[tuple[str, str]]:
    chain = []
    if level == selectors.GRID:
        chain = [(selectors.COMMUNITY, place.community), (selectors.STREET, place.community.street)]
    elif level == selectors.COMMUNITY:
        chain = [(selectors.STREET, place.street)]
    return [(parent.name, board_url(parent_level, parent)) for parent_level, parent in chain]


LEVEL_LABELS = {
    selectors.GRID: gettext_lazy("Grid"),
    selectors.COMMUNITY: gettext_lazy("Community"),
    selectors.STREET: gettext_lazy("Street"),
    selectors.DISTRICT: gettext_lazy("District"),
}
PERIOD_LABELS = {MONTH: gettext_lazy("Month"), YEAR: gettext_lazy("Year"), ALL: gettext_lazy("All time")}
