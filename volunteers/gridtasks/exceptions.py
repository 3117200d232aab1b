from django.utils.translation import gettext_lazy as _

from core.exceptions import Conflict, GongzhiError, NotAllowed, NotFound


class TaskNotFound(NotFound):
    code = "task_not_found"
    default_message = _("This task does not exist or is not published.")


class SignupNotOpen(Conflict):
    code = "signup_not_open"
    default_message = _("Sign-up for this task is not open.")


class NotEligible(NotAllowed):
    code = "not_eligible"
    default_message = _("This task is for other identities or another grid.")


class NoticeNotAcknowledged(GongzhiError):
    code = "notice_not_acknowledged"
    default_message = _("Read the notice and tick that you have read it first.")


class Overlap(Conflict):
    code = "overlapping_task"
    default_message = _("You have already signed up for another task at the same time.")


class CancelTooLate(Conflict):
    code = "cancel_too_late"
    default_message = _("It is too late to cancel: contact the organiser.")


class OfferNotOpen(Conflict):
    code = "offer_not_open"
    default_message = _("This place is no longer offered to you.")


class InvalidQR(GongzhiError):
    code = "invalid_qr"
    default_message = _("This QR code is not valid.")


class StaleQR(GongzhiError):
    code = "stale_qr"
    default_message = _("This QR code has expired: scan the code on the organiser's phone again.")


class WrongTask(GongzhiError):
    code = "wrong_task"
    default_message = _("This code belongs to another task.")


class NotSignedUp(NotAllowed):
    code = "not_signed_up"
    default_message = _("This person has no confirmed place on this task.")


class OutsideWindow(Conflict):
    code = "outside_window"
    default_message = _("Check-in and check-out are only possible around the task's time.")


class CheckOutBeforeCheckIn(Conflict):
    code = "check_out_before_check_in"
    default_message = _("Check in before checking out.")


class OutsideGeofence(NotAllowed):
    code = "outside_geofence"
    default_message = _("You seem to be too far from the task's place to check in.")


class BadBatch(GongzhiError):
    code = "bad_batch"
    default_message = _("The offline scans could not be read.")


class ScanRefused(GongzhiError):
    """A refused scan, as the API answers it: the refusal's own code, message and status (the stored
    answer, so a replay of its nonce gets the same), and whose code was scanned, masked, for the
    organiser's screen."""

    def __init__(self, *, message, code: str, status: int, person_name: str = ""):
        super().__init__(message, code=code, status=status)
        self.person_name = person_name or None
