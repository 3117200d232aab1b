from django.utils.translation import gettext_lazy as _

from core.exceptions import GongzhiError, NotFound


class NoticeNotFound(NotFound):
    """A notice the person may not read is "not found": a refusal would confirm that it exists."""

    code = "notice_not_found"
    default_message = _("This notice does not exist or is not addressed to you.")


class NotTargeted(NotFound):
    code = "notice_not_targeted"
    default_message = _("Only the people this notice is addressed to can acknowledge it.")


class NotMustRead(GongzhiError):
    code = "notice_not_must_read"
    default_message = _("This notice does not ask for an acknowledgement.")
