"""Why a certificate was refused: a stable `code` for clients, a message for people."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import Conflict, GongzhiError, NotFound


class InvalidPeriod(GongzhiError):
    code = "invalid_period"
    status = 422
    default_message = _(
        "Choose a period whose start is not after its end and which ends today at the latest."
    )


class NoVerifiedHours(Conflict):
    code = "no_verified_hours"
    status = 422
    default_message = _(
        "You have no verified service hours in this period, so there is nothing to certify. "
        "Choose another period."
    )


class NoIssuer(Conflict):
    code = "no_issuer"
    default_message = _(
        "We cannot tell which service centre should issue your certificate. Set your home grid in your "
        "profile and try again."
    )


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
    default_message = _(
        "No certificate has this number. Check the number printed on the certificate: this one was not "
        "issued by us, so the certificate is not genuine."
    )


class AlreadyRevoked(Conflict):
    code = "already_revoked"
    default_message = _("This certificate has already been revoked.")


class ReasonRequired(GongzhiError):
    code = "reason_required"
    status = 422
    default_message = _("Give a reason for the revocation: the person will see it.")


class FontMissing(GongzhiError):
    code = "certificate_font_missing"
    status = 503
    default_message = _("Certificates cannot be printed at the moment. Please try again later.")
