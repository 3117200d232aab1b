"""Numbers read from a request (an id in a form, a page in a query string)."""

# The largest value a BigAutoField holds: a larger "id" names nothing.
MAX_ID = 2**63 - 1


def positive_int(raw, *, most: int = MAX_ID) -> int | None:
    """`raw` as a whole number from 1 to `most`, or None. Only ASCII digits count: "²".isdigit() is true,
    and int("²") raises."""
    if not isinstance(raw, str) or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if 0 < value <= most else None
