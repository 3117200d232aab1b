"""Errors that a person can cause. Each carries a stable machine `code` and a translatable message;
views turn them into a message and a 4xx, the API into a JSON error body."""

from django.utils.translation import gettext_lazy as _


class GongzhiError(Exception):
    code = "error"
    status = 400
    default_message = _("The request could not be completed.")

    def __init__(self, message=None, *, code=None, status=None):
        self.message = message or self.default_message
        if code:
            self.code = code
        if status:
            self.status = status
        super().__init__(str(self.message))


class NotAllowed(GongzhiError):
    code = "forbidden"
    status = 403
    default_message = _("You may not do this.")


class NotFound(GongzhiError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class Conflict(GongzhiError):
    code = "conflict"
    status = 409
    default_message = _("This conflicts with the current state.")
