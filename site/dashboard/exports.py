"""XLSX exports of the dashboard's tables: the numbers the page shows, one worksheet per table."""

import re
from io import BytesIO

from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .selectors import COUNT, DECIMALS, TEXT, Table

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows above the header: the table's title, what it covers, then a blank line.
HEADER_ROW = 4
_NUMBER_FORMATS = {kind: "0." + "0" * places for kind, places in DECIMALS.items()} | {COUNT: "0"}
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def escape_cell(value):
    """Text a spreadsheet would read as a formula (= + - @, or a tab or return before one) gets a leading
    apostrophe, so a community named "=HYPERLINK(…)" stays text (the rule of the ledger export)."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _sheet_title(title: str, taken: set[str]) -> str:
    base = _SHEET_NAME_FORBIDDEN.sub(" ", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _write_table(sheet, table: Table, caption: str) -> None:
    sheet.cell(row=1, column=1, value=escape_cell(str(table.title))).font = Font(bold=True, size=13)
    sheet.cell(row=2, column=1, value=escape_cell(caption))
    for col, column in enumerate(table.columns, start=1):
        sheet.cell(row=HEADER_ROW, column=col, value=escape_cell(str(column.label))).font = Font(bold=True)
        width = max(len(str(column.label)) * 2, 10) if col > 1 else 24
        sheet.column_dimensions[get_column_letter(col)].width = min(width, 40)
    rows = [*table.rows, *([table.total] if table.total else [])]
    for offset, row in enumerate(rows, start=1):
        is_total = table.total is not None and offset == len(rows)
        for col, (column, value) in enumerate(zip(table.columns, row, strict=True), start=1):
            cell = sheet.cell(row=HEADER_ROW + offset, column=col, value=escape_cell(value))
            if column.kind != TEXT and value is not None:
                cell.number_format = _NUMBER_FORMATS[column.kind]
            if is_total:
                cell.font = Font(bold=True)
    if table.note:
        sheet.cell(row=HEADER_ROW + len(rows) + 2, column=1, value=escape_cell(str(table.note)))
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2)


def workbook(tables: list[Table], *, caption: str) -> bytes:
    """An XLSX file with one worksheet per table; `caption` says whose figures and which months."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for table in tables:
        _write_table(book.create_sheet(_sheet_title(str(table.title), taken)), table, caption)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
