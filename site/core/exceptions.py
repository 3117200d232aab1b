"""Errors that a person can cause. Each carries a stable machine `code` and a translatable message;
views turn them into a message and a 4xx, the API into a JSON error body (`error_body`)."""

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


def error_body(
    *, code: str, message, fields: dict[str, list[str]] | None = None, person_name: str | None = None
) -> dict:
    """The one JSON shape of an error: {"error": {"code": …, "message": …}}, plus "fields" (each field's
    messages) for input that did not validate, and "person_name" (masked) when a refused scan was of
    someone's personal code. A client branches on `code`; `message` is in the request's language, for
    people."""
    error = {"code": code, "message": str(message)}
    if fields:
        error["fields"] = fields
    if person_name:
        error["person_name"] = person_name
    return {"error": error}
