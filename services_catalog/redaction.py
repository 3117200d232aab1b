"""Keep residents' card tokens out of the logs.

A printed service card carries a token that never expires (services.card_token), inside the URL a
phone camera opens. Django writes request paths to its logs: "Not Found: /services/card/…" for every
4xx (django.request) and every request line under runserver (django.server). Whoever reads those logs
could print a working copy of the card, so the token is replaced before any handler sees the record.
"""

import logging
import re
from functools import cache

from django.urls import NoReverseMatch, reverse

# The loggers that write request paths; a filter on a logger applies to the records logged to it.
REQUEST_LOGGERS = ("django.request", "django.server")
REDACTED = "[card]"


@cache
def _card_path_pattern() -> re.Pattern | None:
    try:
        prefix = reverse("services:card", args=["-"])[:-2]
    except NoReverseMatch:
        return None
    # Up to the next slash, quote, space or query: the token (signed, so never containing these).
    return re.compile(re.escape(prefix) + r"[^/\s\"'?#]+")


class RedactCardTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        pattern = _card_path_pattern()
        if pattern is None:
            return True
        message = record.getMessage()
        redacted = pattern.sub(
            lambda match: match.group(0)[: match.group(0).rfind("/") + 1] + REDACTED, message
        )
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def install() -> None:
    """Attach the filter to the loggers that write request paths (idempotent: called from ready())."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactCardTokens) for existing in logger.filters):
            logger.addFilter(RedactCardTokens())
