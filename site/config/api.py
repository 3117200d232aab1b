"""The versioned REST API: /api/v1/, documented at /api/v1/openapi.json.

Every error is JSON of one shape, {"error": {"code": "...", "message": "..."}} (plus "fields" for
code "invalid"), with a stable code a client can branch on and a message in the request's language.
Authentication: see core.api (X-Session-Token from /api/v1/auth/app/v1/…, or the session cookie + CSRF).
"""

import logging
from functools import wraps

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError
from ninja.parser import Parser

from core.api import API_AUTH, InvalidInput
from core.api import router as inbox_router
from core.exceptions import GongzhiError, NotFound, error_body
from volunteers.api import router as volunteers_router

logger = logging.getLogger(__name__)


class UnsupportedMediaType(Exception):
    pass


class JsonParser(Parser):
    """ninja parses any body as JSON whatever its Content-Type; refuse a body not declared as JSON, so a
    form post or a text/plain "simple request" from another site is never taken for API input."""

    def parse_body(self, request):
        content_type = request.content_type or ""
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise UnsupportedMediaType(content_type)
        return super().parse_body(request)


class GongzhiAPI(NinjaAPI):
    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            pattern.callback = _json_not_allowed(pattern.callback)
        # After every route, whichever router adds it and when: any other path under /api/v1/ answers
        # 404 in the API's shape instead of the site's HTML page.
        return [*urls, path("<path:rest>", csrf_exempt(_unknown_path))]


def _unknown_path(request, rest):
    return error_response(request, status=404, code=NotFound.code, message=NotFound.default_message)


def _json_not_allowed(view):
    """ninja answers a method a path does not take with a plain-text 405: answer it in the API's shape."""

    @wraps(view)  # keeps csrf_exempt: ninja checks CSRF itself, for session callers only
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = error_response(
                request,
                status=405,
                code="method_not_allowed",
                message=_("This request method is not accepted here."),
            )
            response["Allow"] = allowed
        return response

    return wrapper


api = GongzhiAPI(
    title="Gongzhi API",
    version="1",
    description=(
        "共治 Gongzhi for the phone app and the WeChat mini-program. Sign in with a mobile number and an SMS "
        "code through allauth's headless API under /api/v1/auth/app/v1/ (POST auth/code/request, then "
        "auth/code/confirm) and send the session token it returns as the X-Session-Token header. "
        'Errors: {"error": {"code": "...", "message": "..."}}; messages follow Accept-Language.'
    ),
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
    auth=API_AUTH,
    parser=JsonParser(),
)


def error_response(request, *, status: int, code: str, message, fields=None, person_name=None):
    body = error_body(code=code, message=message, fields=fields, person_name=person_name)
    return api.create_response(request, body, status=status)


# --- validation messages ---------------------------------------------------------------------------
# Pydantic's messages are English only; these reuse Django's own msgids where one fits, so they are
# already translated.
def _field_message(error: dict) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_long":
        limit = ctx.get("max_length", 0)
        return ngettext("Use at most %(limit)d character.", "Use at most %(limit)d characters.", limit) % {
            "limit": limit
        }
    if kind == "string_too_short":
        limit = ctx.get("min_length", 0)
        return ngettext("Use at least %(limit)d character.", "Use at least %(limit)d characters.", limit) % {
            "limit": limit
        }
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("Enter a whole number.")
    if kind in ("bool_type", "bool_parsing"):
        return _("Enter true or false.")
    if kind == "string_type":
        return _("Enter text.")
    if kind == "list_type":
        return _("Enter a list of values.")
    if kind == "too_long":
        return _("Too many items.")
    if kind == "greater_than_equal":
        return _("Ensure this value is greater than or equal to %(limit_value)s.") % {
            "limit_value": ctx.get("ge")
        }
    if kind == "less_than_equal":
        return _("Ensure this value is less than or equal to %(limit_value)s.") % {
            "limit_value": ctx.get("le")
        }
    if kind == "extra_forbidden":
        return _("This field is not accepted here.")
    if kind in ("model_attributes_type", "dict_type", "model_type"):
        return _("Send a JSON object.")
    return _("Enter a valid value.")


def _field_name(loc) -> str:
    # ninja reports ("body", "<parameter>", "field", …) or ("query", "field"); clients know the field.
    parts = [str(part) for part in loc]
    if parts and parts[0] == "body":
        parts = parts[2:]
    elif parts and parts[0] in ("query", "path", "header", "cookie", "form"):
        parts = parts[1:]
    return ".".join(parts) or "__all__"


# --- handlers --------------------------------------------------------------------------------------
@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        fields.setdefault(_field_name(error.get("loc", ())), []).append(_field_message(error))
    return error_response(
        request, status=422, code=InvalidInput.code, message=InvalidInput.default_message, fields=fields
    )


@api.exception_handler(GongzhiError)
def on_gongzhi_error(request, exc: GongzhiError):
    return error_response(
        request,
        status=exc.status,
        code=exc.code,
        message=exc.message,
        fields=getattr(exc, "fields", None),
        person_name=getattr(exc, "person_name", None),
    )


@api.exception_handler(AuthenticationError)
def on_not_authenticated(request, exc):
    return error_response(request, status=401, code="not_authenticated", message=_("Please sign in first."))


@api.exception_handler(AuthorizationError)
def on_forbidden(request, exc):
    return error_response(request, status=403, code="forbidden", message=_("You may not do this."))


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return error_response(request, status=403, code="forbidden", message=_("You may not do this."))


@api.exception_handler(Throttled)
def on_throttled(request, exc):
    return error_response(
        request, status=429, code="rate_limited", message=_("Too many requests. Try again later.")
    )


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # ninja raises HttpError(400) for a body it cannot parse; the cause tells which problem it was.
    if isinstance(exc.__cause__, UnsupportedMediaType):
        return error_response(
            request,
            status=415,
            code="unsupported_media_type",
            message=_("Send the body as application/json."),
        )
    if exc.status_code == 400 and exc.__cause__ is not None:
        return error_response(
            request, status=400, code="invalid_json", message=_("The body is not valid JSON.")
        )
    codes = {
        400: "bad_request",
        401: "not_authenticated",
        403: "forbidden",
        404: "not_found",
        429: "rate_limited",
    }
    return error_response(
        request,
        status=exc.status_code,
        code=codes.get(exc.status_code, "error"),
        message=_("The request could not be completed."),
    )


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(request, status=404, code=NotFound.code, message=NotFound.default_message)


@api.exception_handler(DjangoValidationError)
def on_django_validation_error(request, exc: DjangoValidationError):
    return error_response(request, status=422, code=InvalidInput.code, message=" ".join(exc.messages))


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return error_response(request, status=413, code="too_large", message=_("The request is too large."))


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request, exc):
    return error_response(
        request, status=400, code="bad_request", message=_("The request could not be completed.")
    )


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    # A bug, not the client's fault: log it with the traceback and still answer in the API's shape.
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response(
        request,
        status=500,
        code="server_error",
        message=_("Something went wrong on our side. Please try again."),
    )


api.add_router("", volunteers_router)
api.add_router("", inbox_router)
api.add_router("/tasks", "volunteers.gridtasks.api.router")
api.add_router("/points", "points.leaderboards.mine_api.router")
api.add_router("/points", "points.leaderboards.api.router")
api.add_router("/cases", "points.cases.api.router")
api.add_router("/rewards", "points.redemption.api.router")
api.add_router("/services", "services_catalog.api.router")
api.add_router("/certificates", "points.certificates.api.router")
