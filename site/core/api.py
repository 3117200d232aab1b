"""What every API endpoint shares (who is calling, the error body) and the inbox over the API.

Two ways to be signed in, tried in this order:
1. the phone app / WeChat mini-program: allauth's headless session token in the X-Session-Token header
   (obtained through /api/v1/auth/app/v1/auth/…);
2. same-site JavaScript: Django's session cookie, with the CSRF token on every unsafe request.
"""

from datetime import datetime, time

from allauth.headless.contrib.ninja.security import XSessionTokenAuth
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf
from pydantic import ConfigDict, StrictBool, StrictInt, StrictStr

from . import notifications
from .exceptions import GongzhiError, NotAllowed, NotFound
from .forms import NotificationPreferencesForm, check_preferences
from .models import Notification

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


class CsrfFailed(NotAllowed):
    code = "csrf_failed"
    default_message = _("The page's security token is missing or out of date. Reload the page and try again.")


class InvalidInput(GongzhiError):
    """Input that does not validate; `fields` maps each field to its messages."""

    code = "invalid"
    status = 422
    default_message = _("Some of the data sent is not valid.")

    def __init__(self, fields: dict[str, list[str]], message=None):
        super().__init__(message)
        self.fields = fields

    @classmethod
    def from_form(cls, form) -> "InvalidInput":
        return cls({name: [str(m) for m in messages] for name, messages in form.errors.items()})


class AppTokenAuth(XSessionTokenAuth):
    """The app's X-Session-Token. Sets request.user too, so scopes and services see the same person as
    they would for a cookie login (allauth's class only returns the user)."""

    openapi_in = "header"
    openapi_name = "X-Session-Token"

    def __call__(self, request):
        user = super().__call__(request)
        if user is None or not user.is_active:
            return None
        request.user = user
        return user


class BrowserSessionAuth(APIKeyCookie):
    """Django's session cookie. CSRF is checked only once we know there is a signed-in person, so an
    anonymous call gets 401 "not_authenticated" rather than a confusing CSRF refusal."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request):
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        if not request.user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise CsrfFailed()
        return request.user


API_AUTH = [AppTokenAuth(), BrowserSessionAuth()]


class ErrorDetail(Schema):
    code: str = Field(description="Stable machine code, e.g. not_authenticated, invalid, grid_not_found.")
    message: str = Field(description="Human message in the request's language.")
    fields: dict[str, list[str]] | None = Field(None, description="Per-field messages, for code 'invalid'.")
    person_name: str | None = Field(
        None, description="For a refused scan: the masked name of the person whose QR code was scanned."
    )


class ErrorOut(Schema):
    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int, type[Schema]]:
    """The documented error responses of an operation (the body is always ErrorOut)."""
    return dict.fromkeys(statuses, ErrorOut)


# --- the inbox -------------------------------------------------------------------------------------
router = Router(tags=["inbox"])


class NotificationOut(Schema):
    id: int
    category: str
    title: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None
    unread: bool

    @staticmethod
    def resolve_unread(obj) -> bool:
        return obj.read_at is None


class UnreadCountOut(Schema):
    unread: int


class MarkReadIn(Schema):
    model_config = ConfigDict(extra="forbid")

    id: StrictInt | None = Field(None, description="One message to mark read; leave out to mark them all.")


class MarkReadOut(Schema):
    marked: int
    unread: int


@router.get("/inbox", response={200: list[NotificationOut], **error_responses(401, 422)}, summary="My inbox")
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def inbox(request):
    return Notification.objects.filter(recipient=request.user).only(
        "category", "title", "body", "url", "created_at", "read_at"
    )


@router.get(
    "/inbox/unread-count", response={200: UnreadCountOut, **error_responses(401)}, summary="Unread count"
)
def inbox_unread_count(request):
    return {"unread": notifications.unread_count(request.user)}


@router.post(
    "/inbox/read", response={200: MarkReadOut, **error_responses(401, 403, 404, 422)}, summary="Mark read"
)
def inbox_read(request, payload: MarkReadIn | None = None):
    notification_id = payload.id if payload else None
    if (
        notification_id is not None
        and not Notification.objects.filter(pk=notification_id, recipient=request.user).exists()
    ):
        raise NotFound(_("Message not found."))
    marked = notifications.mark_read(person=request.user, notification_id=notification_id)
    return {"marked": marked, "unread": notifications.unread_count(request.user)}


# --- notification preferences ----------------------------------------------------------------------
class CategoryChoiceOut(Schema):
    code: str = Field(description="task, notice, points, cases, identity, organisation, …")
    label: str
    sms: bool
    email: bool
    digest: bool = Field(description="One message a day (20:00) instead of one per event.")


class QuietHoursOut(Schema):
    enabled: bool
    start: str = Field(description="HH:MM, Beijing time.")
    end: str = Field(description="HH:MM; before start means the next morning.")
    timezone: str


class PreferencesOut(Schema):
    sms: bool = Field(description="Account-wide SMS switch; off: no SMS for any category.")
    email: bool = Field(description="Account-wide email switch (needs an email address on the profile).")
    categories: list[CategoryChoiceOut]
    quiet_hours: QuietHoursOut


class CategoryChoiceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    code: StrictStr = Field(max_length=40)
    sms: StrictBool
    email: StrictBool
    digest: StrictBool


class QuietHoursIn(Schema):
    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool
    start: StrictStr = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM")
    end: StrictStr = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM")


class PreferencesIn(Schema):
    """Categories not listed keep their current choice."""

    model_config = ConfigDict(extra="forbid")

    sms: StrictBool
    email: StrictBool
    categories: list[CategoryChoiceIn] = Field(default_factory=list, max_length=50)
    quiet_hours: QuietHoursIn


def _preferences(person) -> dict:
    # The form knows the effective values (defaults where the person chose nothing).
    initial = NotificationPreferencesForm(person=person).initial
    tz = settings.TIME_ZONE
    return {
        "sms": person.notify_sms,
        "email": person.notify_email,
        "categories": [
            {
                "code": code,
                "label": str(label),
                "sms": initial[f"{code}-sms"],
                "email": initial[f"{code}-email"],
                "digest": initial[f"{code}-digest"],
            }
            for code, label in notifications.CATEGORIES.items()
        ],
        "quiet_hours": {
            "enabled": initial["quiet_hours"],
            "start": initial["quiet_start"].strftime("%H:%M"),
            "end": initial["quiet_end"].strftime("%H:%M"),
            "timezone": tz,
        },
    }


@router.get(
    "/me/notifications/preferences",
    response={200: PreferencesOut, **error_responses(401)},
    summary="My notification preferences",
    tags=["notifications"],
)
def get_preferences(request):
    return _preferences(request.user)


@router.put(
    "/me/notifications/preferences",
    response={200: PreferencesOut, **error_responses(400, 401, 403, 415, 422)},
    summary="Change my notification preferences",
    tags=["notifications"],
)
def put_preferences(request, payload: PreferencesIn):
    person = request.user
    unknown = sorted({c.code for c in payload.categories} - set(notifications.CATEGORIES))
    errors = {}
    if unknown:
        errors["categories"] = [str(_("Unknown category: %(codes)s.") % {"codes": ", ".join(unknown)})]
    start, end = time.fromisoformat(payload.quiet_hours.start), time.fromisoformat(payload.quiet_hours.end)
    for name, messages in check_preferences(
        person=person,
        notify_email=payload.email,
        quiet_hours=payload.quiet_hours.enabled,
        quiet_start=start,
        quiet_end=end,
    ).items():
        field = {"notify_email": "email", "quiet_end": "quiet_hours.end"}.get(name, name)
        errors[field] = [str(m) for m in messages]
    if errors:
        raise InvalidInput(errors)
    current = notifications.choices_of(person)
    categories = {
        c.code: notifications.Choice(sms=c.sms, email=c.email, digest=c.digest) for c in payload.categories
    }
    notifications.do_save_preferences(
        person=person,
        actor=request.user,
        categories={code: categories.get(code, current[code]) for code in notifications.CATEGORIES},
        quiet_hours=payload.quiet_hours.enabled,
        quiet_start=start,
        quiet_end=end,
        notify_sms=payload.sms,
        notify_email=payload.email,
    )
    return _preferences(person)
