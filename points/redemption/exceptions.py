"""Why a redemption or a hand-over was refused: a stable `code` for clients, a message for people."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import Conflict, GongzhiError, NotAllowed, NotFound


class ItemNotFound(NotFound):
    code = "item_not_found"
    default_message = _("This reward item does not exist.")


class ItemInactive(Conflict):
    code = "item_inactive"
    default_message = _("This reward item is not offered at the moment.")


class OutOfStock(Conflict):
    code = "out_of_stock"
    default_message = _("This reward item is out of stock.")


class LimitReached(Conflict):
    code = "limit_reached"
    default_message = _("You have already redeemed as many of this item as one person may.")


class InvalidKey(GongzhiError):
    code = "invalid_key"
    status = 422
    default_message = _(
        "The request key must be 8 to 64 characters: letters, digits, dash, underscore, dot or colon."
    )


class RedemptionNotFound(NotFound):
    code = "redemption_not_found"
    default_message = _("This redemption does not exist.")


class NotCancellable(Conflict):
    code = "not_cancellable"
    default_message = _("Only a redemption that has not been collected yet can be cancelled.")


class InvalidCode(GongzhiError):
    code = "invalid_code"
    default_message = _("This is not a valid redemption code. Scan it again or type the short code.")


class CodeExpired(Conflict):
    code = "code_expired"
    default_message = _("This redemption has expired and its points were returned; it cannot be collected.")


class QRExpired(Conflict):
    code = "qr_expired"
    default_message = _(
        "This QR code is out of date. Ask the person to open “My redemptions” again, or type the short code."
    )


class AlreadyHandedOver(Conflict):
    code = "already_handed_over"
    default_message = _("This item has already been handed over.")


class RedemptionCancelled(Conflict):
    code = "redemption_cancelled"
    default_message = _("This redemption was cancelled and its points were returned; it cannot be collected.")


class OtherMerchant(Conflict):
    code = "other_merchant"
    default_message = _("This redemption is for another merchant's item; it cannot be collected here.")


class NotMerchantStaff(NotAllowed):
    code = "not_merchant_staff"
    default_message = _("Only this merchant's staff can hand items over.")


class InvalidMonth(GongzhiError):
    code = "invalid_month"
    status = 422
    default_message = _("Choose a month as YYYY-MM.")
