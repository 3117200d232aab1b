from django.utils.translation import gettext_lazy as _

from core.exceptions import Conflict, GongzhiError, NotAllowed


class GridRequired(GongzhiError):
    code = "grid_required"
    default_message = _("This identity belongs to a grid: choose the grid.")


class DuplicateClaim(Conflict):
    code = "duplicate_claim"
    default_message = _("You have already claimed this identity.")


class ClaimNotPending(Conflict):
    code = "claim_not_pending"
    default_message = _("This claim has already been decided.")


class OutOfScope(NotAllowed):
    code = "out_of_scope"
    default_message = _("This is outside the area you manage.")


class OrganisationNotPending(Conflict):
    code = "organisation_not_pending"
    default_message = _("This application has already been decided.")


class UnknownPhone(GongzhiError):
    code = "unknown_phone"
    status = 404
    default_message = _("No one has registered with this mobile number yet. Ask them to sign up first.")


class AlreadyMember(Conflict):
    code = "already_member"
    default_message = _("This person is already a member or has a pending invitation.")


class LastAdmin(Conflict):
    code = "last_admin"
    default_message = _("An organisation needs at least one administrator.")


class OrganisationNotApproved(Conflict):
    code = "organisation_not_approved"
    default_message = _("The organisation has not been approved yet.")
