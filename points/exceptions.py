from django.utils.translation import gettext_lazy as _

from core.exceptions import Conflict, GongzhiError


class InvalidAmount(GongzhiError):
    code = "invalid_amount"
    default_message = _("The amount must be a whole number other than zero.")


class InsufficientPoints(Conflict):
    code = "insufficient_points"
    default_message = _("There are not enough points in the account for this.")


class KeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = _("This request key was already used for a different request.")


class AlreadyReversed(Conflict):
    code = "already_reversed"
    default_message = _("This entry has already been reversed.")


class NotReversible(Conflict):
    code = "not_reversible"
    default_message = _("A reversal cannot itself be reversed; post a new entry instead.")


# --- awards from attendance --------------------------------------------------------------------------------
class ReasonRequired(GongzhiError):
    code = "reason_required"
    default_message = _("Give a reason: the person will see it.")


class AwardNotPending(Conflict):
    code = "award_not_pending"
    default_message = _("This award has already been decided.")


class AwardNotPosted(Conflict):
    code = "award_not_posted"
    default_message = _("Only a posted award can be reversed.")
