"""Helpers of the dining tests: the fixed clock's moments and ways to read what a page says."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning before lunch, in Shanghai: sessions at 11:00 today can still be booked.
MORNING = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)


def at(year, month, day, hour=10, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def text(response) -> str:
    """The visible text of the page's <main>."""
    html = response.content.decode()
    start, end = html.find("<main"), html.find("</main>")
    body = html[start:end] if start != -1 else html
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def marked(response, testid) -> list[str]:
    """The data-order of each element with that data-testid, in page order."""
    return re.findall(rf'data-testid="{testid}" data-order="([^"]+)"', response.content.decode())
