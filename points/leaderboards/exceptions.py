from django.utils.translation import gettext_lazy as _

from core.exceptions import GongzhiError, NotFound


class InvalidPeriod(GongzhiError):
    code = "invalid_period"
    default_message = _(
        "Choose a period: month (as 2026-05), year (as 2026) or all time, and not one in the future."
    )


class InvalidLevel(NotFound):
    code = "invalid_level"
    default_message = _("There is no leaderboard at this level: choose grid, community, street or district.")


class PlaceNotFound(NotFound):
    code = "place_not_found"
    default_message = _("This place does not exist.")
