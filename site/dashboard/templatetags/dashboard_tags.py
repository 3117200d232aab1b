from django import template

from core.reports import DECIMALS, TEXT

register = template.Library()


@register.filter
def figure(value, kind) -> str:
    """A figure as the tables show it: grouped digits, fixed decimals, a dash where there is nothing to
    average (no rated order, no attendance yet)."""
    if kind == TEXT:
        return value
    if value is None:
        return "—"
    return f"{value:,.{DECIMALS.get(kind, 0)}f}"


@register.filter
def cells(row, columns) -> list[tuple[str, bool]]:
    """(text, is a number) for each cell of a table row."""
    return [
        (figure(value, column.kind), column.kind != TEXT) for value, column in zip(row, columns, strict=True)
    ]


@register.filter
def item(mapping, key):
    return mapping.get(key, "")
