"""What a redemption's QR code carries: /rewards/r/<signed token>/, where the token signs the
redemption's random `token_code` with the time it was shown. Never a database id, a phone number or a
name. The token expires after QR_MAX_AGE, so a screenshot passed around stops working; the redemption
itself stays collectable (with a fresh QR, or its short code) until its own deadline.
"""

import re
import time

from django.conf import settings
from django.urls import reverse

from core import links

from .exceptions import InvalidCode
from .models import SHORT_CODE_ALPHABET, SHORT_CODE_LENGTH

_SALT = "gongzhi.redemption.qr"
_SHORT = re.compile(rf"[{SHORT_CODE_ALPHABET}]{{{SHORT_CODE_LENGTH}}}\Z")


def qr_max_age() -> int:
    return int(getattr(settings, "REDEMPTION_QR_MAX_AGE", 30 * 60))


def token_for(token_code: str) -> str:
    return links.sign(token_code, salt=_SALT, timestamped=True)


def path_for(token_code: str) -> str:
    return reverse("redemption:collect", args=[token_for(token_code)])


def normalise_short_code(text: str) -> str | None:
    """The short code as typed ("ab3k-7mq2", "AB3K 7MQ2") in its one spelling, or None if it is not one."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -")
    return cleaned if _SHORT.match(cleaned) else None


def read_token(token_or_url: str, *, now: float | None = None) -> tuple[str, bool]:
    """The token code behind a scanned QR (its URL, on whichever host, or the bare token), and whether
    the QR is stale (shown longer ago than QR_MAX_AGE). Raises InvalidCode for anything forged or mangled.

    Staleness is returned rather than raised so that the caller can first say what matters more (the
    item was already collected, or belongs to another merchant).
    """
    token = links.token_in(token_or_url.strip(), url_name="redemption:collect")
    try:
        code, issued = links.unsign_timestamped(token, salt=_SALT)
    except links.BadToken:
        raise InvalidCode() from None
    return code, (time.time() if now is None else now) - issued > qr_max_age()
