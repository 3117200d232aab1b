from django.utils.translation import gettext_lazy as _

from core.exceptions import Conflict, GongzhiError, NotAllowed, NotFound


class ServiceNotFound(NotFound):
    code = "service_not_found"
    default_message = _("This service does not exist or is not published.")


class OrderNotFound(NotFound):
    code = "order_not_found"
    default_message = _("This order does not exist.")


class SessionNotBookable(Conflict):
    code = "session_not_bookable"
    default_message = _("This session can no longer be booked.")


class SessionFull(Conflict):
    code = "session_full"
    default_message = _("This session is full. Choose another day.")


class AlreadyBooked(Conflict):
    code = "already_booked"
    default_message = _("You have already booked this session.")


class OutsideArea(NotAllowed):
    code = "outside_area"
    default_message = _("This service does not serve your grid.")


class NoHomeGrid(GongzhiError):
    code = "no_home_grid"
    default_message = _("Set your home grid on your profile first: services are offered by area.")


class NotEligible(NotAllowed):
    code = "not_eligible"
    default_message = _("This service is for other residents (age or subsidy group).")


class WrongStage(Conflict):
    code = "wrong_stage"
    default_message = _("This order is not at a stage where this can be done.")


class TakenByAnother(Conflict):
    code = "taken_by_another"
    default_message = _("Another organisation has already taken this order.")


class AlreadyRated(Conflict):
    code = "already_rated"
    default_message = _("This order has already been confirmed and rated.")


class NotDelivered(Conflict):
    code = "not_delivered"
    default_message = _("This order can be rated once it has been delivered.")


class InvalidCard(GongzhiError):
    code = "invalid_card"
    default_message = _("This card is not valid. Ask the grid worker for a new card.")


class WrongCode(GongzhiError):
    code = "wrong_code"
    default_message = _("The code is not correct.")


class ReasonRequired(GongzhiError):
    code = "reason_required"
    default_message = _("Give a reason.")


class NotAMember(GongzhiError):
    code = "not_a_member"
    default_message = _("Only active members of the organisation can be assigned.")
