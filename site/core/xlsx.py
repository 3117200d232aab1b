"""The one XLSX writer: every spreadsheet the site hands out (the ledger, statements, reports, import
templates) is written through it, so every cell is escaped the same way.

A spreadsheet reads text that starts with = + - @ (or a tab or return before one) as a formula: a name
like '=HYPERLINK("http://…")' typed into a form would become a live link in a staff member's Excel.
`escape_cell` gives such text a leading apostrophe, so it stays text, and numbers stay numbers.

Styling (widths, fonts, merged titles) is done on `Sheet.ws`, the openpyxl worksheet; values go in
through `Sheet.append` and `Sheet.write`, never straight into the worksheet.
"""

import re
import tempfile
from io import BytesIO

from django.http import FileResponse, HttpResponse
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from openpyxl import Workbook as OpenpyxlWorkbook
from openpyxl.cell import WriteOnlyCell

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_MAX = 31
# A streamed workbook is kept in memory up to this size, then on disk.
_SPOOL_BYTES = 8 * 1024 * 1024


def escape_cell(value):
    """The value as a cell should hold it: lazy translations as text, formula-like text with a leading
    apostrophe, anything else unchanged."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value
    return value


class Sheet:
    def __init__(self, ws, *, streaming: bool):
        self.ws = ws
        self._streaming = streaming

    def append(self, values) -> tuple:
        """Add a row after the last one; returns its cells for styling (none when streaming: a streamed
        row cannot be changed once written)."""
        if self._streaming:
            row = []
            for value in values:
                cell = WriteOnlyCell(self.ws, escape_cell(value))
                if cell.data_type == "f":  # belt and braces: never a formula, whatever openpyxl guessed
                    cell.data_type = "s"
                row.append(cell)
            self.ws.append(row)
            return ()
        self.ws.append([escape_cell(value) for value in values])
        return tuple(self.ws[self.ws.max_row])

    def write(self, row: int, column: int, value):
        """Put one value at (row, column), both counted from 1; returns the cell."""
        return self.ws.cell(row=row, column=column, value=escape_cell(value))


class Workbook:
    """An XLSX file being written. `streaming` writes rows as they come (constant memory for an export
    of any length) at the price of no styling after the fact."""

    def __init__(self, *, streaming: bool = False):
        self._streaming = streaming
        self._book = OpenpyxlWorkbook(write_only=streaming)
        if not streaming:
            self._book.remove(self._book.active)
        self._titles: set[str] = set()

    def sheet(self, title) -> Sheet:
        """A new worksheet, named `title` as far as Excel allows (31 characters, no []:*?/\\), with a
        number added where two tables would share a name."""
        return Sheet(self._book.create_sheet(self._title(str(title))), streaming=self._streaming)

    def _title(self, title: str) -> str:
        base = _SHEET_NAME_FORBIDDEN.sub(" ", title).strip()[:_SHEET_NAME_MAX] or "Sheet"
        name, n = base, 2
        while name.lower() in self._titles:
            suffix = f" ({n})"
            name, n = base[: _SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
        self._titles.add(name.lower())
        return name

    def to_bytes(self) -> bytes:
        out = BytesIO()
        self._book.save(out)
        return out.getvalue()

    def response(self, filename: str) -> HttpResponse:
        """The file as a download named `filename`."""
        if self._streaming:
            # Closed by the FileResponse once sent.
            output = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
            self._book.save(output)
            output.seek(0)
            return FileResponse(output, as_attachment=True, filename=filename, content_type=CONTENT_TYPE)
        response = HttpResponse(self.to_bytes(), content_type=CONTENT_TYPE)
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
        return response
