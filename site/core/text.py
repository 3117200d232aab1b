"""Text as people type it, made fit to store: one line, single spaces, at most so many characters."""


def one_line(value, limit: int | None = None) -> str:
    """`value` (anything, None included) as one line: runs of white space (newlines, tabs, full-width
    spaces) become one space, the ends are trimmed, and the result is cut to `limit` characters."""
    return " ".join(str(value or "").split())[:limit]
