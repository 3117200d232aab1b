"""Refusals of the per-case reward services. Each has a stable `code` (clients branch on it) and a
translatable message; views show the message with the status, the API answers {"error": {...}}."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import Conflict, GongzhiError, NotAllowed, NotFound


class CaseNotFound(NotFound):
    code = "case_not_found"
    default_message = _("This case does not exist or is not yours to see.")


class PhotoNotFound(NotFound):
    code = "photo_not_found"
    default_message = _("This photo does not exist or is not yours to see.")


class RewardNotFound(NotFound):
    code = "reward_not_found"
    default_message = _("This reward does not exist or is not yours to see.")


class NotAReporter(NotAllowed):
    code = "not_a_reporter"
    default_message = _(
        "Only grid workers, verified legal officers and verified volunteers can report incidents and cases."
    )


class GridNotAllowed(NotAllowed):
    code = "grid_not_allowed"
    default_message = _("You cannot report for this grid. Choose one of your own grids.")


class OutOfScope(NotAllowed):
    code = "out_of_scope"
    default_message = _("This case is outside the area you manage.")


class UnknownCategory(GongzhiError):
    code = "unknown_category"
    status = 422
    default_message = _("Choose a reward category from the list.")


class CategoryKindMismatch(GongzhiError):
    code = "category_kind_mismatch"
    status = 422
    default_message = _("This category is for the other kind (incident or case).")


class BadContributors(GongzhiError):
    code = "bad_contributors"
    status = 422
    default_message = _("Check the contributors: each person once, each with a share from 1 to 10.")


class UnknownPerson(GongzhiError):
    code = "unknown_person"
    status = 422
    default_message = _("No one is registered with this mobile number.")


class BadPhoto(GongzhiError):
    code = "bad_photo"
    status = 422
    default_message = _("A photo must be a JPEG, PNG or WebP image.")


class PhotoTooLarge(GongzhiError):
    code = "photo_too_large"
    status = 413
    default_message = _("A photo may be at most 5 MB.")


class TooManyPhotos(GongzhiError):
    code = "too_many_photos"
    status = 422
    default_message = _("Attach at most 6 photos.")


class WrongCaseState(Conflict):
    code = "wrong_case_state"
    default_message = _("The case is no longer in a state that allows this.")


class WrongRewardState(Conflict):
    code = "wrong_reward_state"
    default_message = _("The reward has already been decided.")


class ReasonRequired(GongzhiError):
    code = "reason_required"
    status = 422
    default_message = _("Give a reason.")


class NoBudget(Conflict):
    code = "no_budget"
    default_message = _("There is no reward budget for this street and year. Ask the district to set one.")


class OverBudget(Conflict):
    code = "over_budget"
    default_message = _("This reward is more than the street's remaining budget for the year.")


class NotAContributor(NotAllowed):
    code = "not_a_contributor"
    default_message = _("Only the people who contributed to the case can appeal.")


class AlreadyAppealed(Conflict):
    code = "already_appealed"
    default_message = _("This reward has already been appealed; a rejection can be appealed once.")


class NotAppealable(Conflict):
    code = "not_appealable"
    default_message = _("Only a rejected reward can be appealed.")
