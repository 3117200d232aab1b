"""What the site hands out to be opened later — in a QR code, an SMS, an email, a calendar feed or a
printed card: absolute URLs that carry a signed token, never a database id, a phone number or a name.

A token signs a random code the app keeps (a personal code, a redemption's token code, a card's code
and serial) with a salt of its own, so a token made for one purpose is refused for every other. A
timestamped token also carries when it was made, and the app decides how old is too old (a personal QR
lives ten minutes; a printed card never expires, it is voided by re-issuing it).

A scanner hands over whatever the QR code held: the bare token, or the URL on whichever host it was made
(`token_in` accepts the site's own path for that URL name and nothing else).
"""

from io import BytesIO
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core import signing
from django.urls import reverse


class BadToken(Exception):
    """A token that is forged, mangled, or made with another salt or secret key."""


def absolute(path: str) -> str:
    """The URL of a site path as seen from outside (SITE_URL), for links that leave the site."""
    return settings.SITE_URL.rstrip("/") + path


def sign(value: str, *, salt: str, timestamped: bool = False) -> str:
    signer = signing.TimestampSigner(salt=salt) if timestamped else signing.Signer(salt=salt)
    return signer.sign(value)


def unsign(token: str, *, salt: str) -> str:
    """The value of a token made by `sign(…, timestamped=False)`; BadToken otherwise."""
    try:
        return signing.Signer(salt=salt).unsign(token)
    except signing.BadSignature:
        raise BadToken() from None


def unsign_timestamped(token: str, *, salt: str) -> tuple[str, int]:
    """(value, the Unix time it was signed) of a token made by `sign(…, timestamped=True)`; BadToken
    otherwise. The age is the caller's to judge, at the time that matters (an offline scan is judged at
    the moment it was made, not when it is uploaded)."""
    signer = signing.TimestampSigner(salt=salt)
    try:
        # The plain Signer check yields "value:timestamp", so the age is not judged here.
        value, stamp = signing.Signer.unsign(signer, token).rsplit(signer.sep, 1)
        return value, signing.b62_decode(stamp)
    except (signing.BadSignature, ValueError):
        raise BadToken() from None


def token_in(scanned, *, url_name: str) -> str:
    """The token a scanned text carries: the text itself when it is a bare token, or the last segment of
    the URL `url_name` (a pattern taking the token as its only argument) on whichever host; "" for
    anything else, which no signature check passes. Nothing is trimmed: a caller that accepts typed or
    pasted input strips it first."""
    token = scanned if isinstance(scanned, str) else ""
    if "/" in token:
        # Only the path the code carries, not any path that ends in a token.
        prefix = reverse(url_name, args=["-"])[:-2]
        path = urlsplit(token).path
        token = path[len(prefix) :].removesuffix("/") if path.startswith(prefix) else ""
        if "/" in token:
            token = ""
    return token


def qr_svg(text: str) -> str:
    """An inline SVG QR code (no image files, no external service)."""
    image = qrcode.make(
        text,
        image_factory=qrcode.image.svg.SvgPathImage,
        box_size=10,
        border=2,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    out = BytesIO()
    image.save(out)
    return out.getvalue().decode()
