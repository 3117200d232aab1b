"""XLSX exports: each opens with openpyxl and holds the same figures as the table on the page."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.reports import HEADER_ROW
from tests.factories import CommunityFactory

from . import expected

pytestmark = pytest.mark.django_db

EXPORT = "/admin/statistics/export.xlsx"


def sheet_rows(sheet) -> tuple[list, list[list]]:
    """(header, data rows including the total) of one exported table."""
    rows = [list(row) for row in sheet.iter_rows(min_row=HEADER_ROW, values_only=True)]
    header, body = rows[0], rows[1:]
    # A note may follow the table after a blank row.
    if None in [row[0] for row in body]:
        body = body[: [row[0] for row in body].index(None)]
    return header, body


def test_each_tables_export_has_the_pages_figures(as_staff, world):
    client = as_staff("district")
    report = client.get(reverse("dashboard:index")).context["report"]

    for key, table in report.tables.items():
        response = client.get(EXPORT, {"table": key})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert f"gongzhi-statistics-{key}-2025-04-2026-03.xlsx" in response["Content-Disposition"]
        book = load_workbook(BytesIO(response.content))
        assert len(book.worksheets) == 1
        header, body = sheet_rows(book.worksheets[0])
        assert header == [str(column.label) for column in table.columns]
        assert body == [*table.rows, *([table.total] if table.total else [])], key
        # …and the page's figures are the independently computed ones.
        assert table.rows == expected.TABLES[key](world, [world.a, world.b, world.c]), key


def test_the_whole_export_has_one_sheet_per_table_and_says_what_it_covers(as_staff, world):
    client = as_staff("street")

    response = client.get(EXPORT, {"start": "2026-01", "end": "2026-03"})

    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    report = client.get(reverse("dashboard:index"), {"start": "2026-01", "end": "2026-03"}).context["report"]
    assert len(book.worksheets) == len(report.tables)
    for sheet, table in zip(book.worksheets, report.tables.values(), strict=True):
        assert sheet["A1"].value == str(table.title)
        assert "2" in sheet["A2"].value  # "2 communities of my area · 2026-01 to 2026-03", translated
        _header, body = sheet_rows(sheet)
        assert body[: len(table.rows)] == table.rows


def test_community_staff_export_only_their_community(as_staff, world):
    client = as_staff("community_a")

    response = client.get(EXPORT, {"table": "people_by_community"})

    _header, body = sheet_rows(load_workbook(BytesIO(response.content)).worksheets[0])
    assert [row[0] for row in body[:-1]] == [world.a.name]
    assert body[0] == expected.people_by_community(world, [world.a])[0]


def test_an_unknown_table_is_404(as_staff, world):
    assert as_staff("district").get(EXPORT, {"table": "salaries"}).status_code == 404


def test_a_community_name_that_looks_like_a_formula_stays_text(as_staff, world):
    CommunityFactory(street=world.s1, name='=HYPERLINK("http://x","点我")', code="evil")
    client = as_staff("street")

    response = client.get(EXPORT, {"table": "people_by_community"})

    sheet = load_workbook(BytesIO(response.content)).worksheets[0]
    names = [sheet.cell(row=row, column=1) for row in range(HEADER_ROW + 1, sheet.max_row + 1)]
    evil = next(cell for cell in names if cell.value and "HYPERLINK" in str(cell.value))
    assert evil.value.startswith("'=")
    assert evil.data_type == "s"
