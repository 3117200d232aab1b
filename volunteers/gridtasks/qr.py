"""What QR codes carry. Never a database id, a phone number or a name: only signed, expiring URLs.

Task QR (shown on the organiser's phone): /c/<public code>/<window>-<mac>/ where window is the current
30-second slot and mac a keyed HMAC of (code, window). The current and the previous window are accepted,
so a screenshot forwarded to someone at home stops working within a minute.

Personal QR (shown on the volunteer's phone, scanned by the organiser): /v/<signed token>/ where the
token signs the person's random PersonalCode with a timestamp (core.links) and expires after
PERSONAL_QR_MAX_AGE.
"""

import base64
import hmac
import re
import time

from django.urls import reverse
from django.utils.crypto import salted_hmac

from core import links
from core.links import absolute

from .exceptions import InvalidQR, StaleQR

WINDOW_SECONDS = 30
PERSONAL_QR_MAX_AGE = 10 * 60
_TASK_SALT = "gongzhi.gridtasks.task-qr"
_PERSON_SALT = "gongzhi.gridtasks.person-qr"
# One spelling per code: no leading zeros, and \Z rather than $ (which also matches before a final
# newline), so a changed payload is never accepted even when it would decode to the same window.
_PAYLOAD = re.compile(r"(0|[1-9]\d{0,11})-([A-Za-z0-9_-]{22})\Z")


def current_window(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // WINDOW_SECONDS)


def _mac(public_code: str, window: int) -> str:
    digest = salted_hmac(_TASK_SALT, f"{public_code}:{window}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


def task_qr_payload(public_code: str, now: float | None = None) -> str:
    window = current_window(now)
    return f"{window}-{_mac(public_code, window)}"


def task_qr_path(public_code: str, now: float | None = None) -> str:
    return reverse("gridtasks:scan_task_qr", args=[public_code, task_qr_payload(public_code, now)])


def task_qr_url(public_code: str, now: float | None = None) -> str:
    """What the task QR shows: the absolute URL any phone camera opens."""
    return absolute(task_qr_path(public_code, now))


def verify_task_qr(public_code: str, payload: str, now: float | None = None) -> None:
    """Raise InvalidQR for anything forged or mangled, StaleQR for a genuine code that has expired."""
    match = _PAYLOAD.match(payload) if isinstance(payload, str) else None
    if not match:
        raise InvalidQR()
    window, mac = int(match.group(1)), match.group(2)
    if not hmac.compare_digest(mac, _mac(public_code, window)):
        raise InvalidQR()
    if window not in (current_window(now), current_window(now) - 1):
        raise StaleQR()


def personal_qr_token(personal_code: str) -> str:
    return links.sign(personal_code, salt=_PERSON_SALT, timestamped=True)


def personal_qr_path(personal_code: str) -> str:
    return reverse("gridtasks:personal_qr", args=[personal_qr_token(personal_code)])


def personal_qr_url(personal_code: str) -> str:
    return absolute(personal_qr_path(personal_code))


def read_personal_qr(token_or_url: str, *, scanned_at=None) -> str:
    """The PersonalCode behind a scanned personal QR (a URL or the bare token).

    The code must have been valid when it was scanned: `scanned_at` lets an offline scan uploaded
    hours later be judged at the time it was made.
    """
    token = links.token_in(token_or_url, url_name="gridtasks:personal_qr")
    try:
        code, issued = links.unsign_timestamped(token, salt=_PERSON_SALT)
    except links.BadToken:
        raise InvalidQR() from None
    seen = scanned_at.timestamp() if scanned_at else time.time()
    if seen - issued > PERSONAL_QR_MAX_AGE:
        raise StaleQR()
    if issued - seen > 60:
        raise InvalidQR()  # scanned before it was issued: a forged scan time
    return code
