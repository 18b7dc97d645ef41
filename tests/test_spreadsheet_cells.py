"""The shared cell writer: formula-like text is quoted and typed as text in .xlsx and .csv; other values unchanged."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from app.services.spreadsheet import append_row, safe_value, write_csv_rows

HOSTILE = ['=HYPERLINK("http://x","点我")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"]
HARMLESS = ["张三", "2026-11-24", "幸福里小区3号楼", "", "1+1", " =1", "'quoted"]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like_text_is_quoted_in_xlsx_and_csv(text):
    assert safe_value(text) == "'" + text
    cell = _written([text])[0]
    assert (cell.data_type, cell.value) == ("s", "'" + text.replace("\r", "\n"))  # XML reads a CR back as LF
    assert _csv_written([text]) == ["'" + text]


@pytest.mark.parametrize("value", HARMLESS + [0, -18.0, 1800, 75.5, None])
def test_other_values_are_written_as_they_are(value):
    assert safe_value(value) == value
    cell = _written([value, "x"])[0]
    expected = None if value == "" else value
    assert cell.value == expected
    if isinstance(value, (int, float)):
        assert cell.data_type == "n"  # numbers Linli writes stay numbers, negative amounts included


def _written(values: list) -> tuple:
    book = Workbook()
    append_row(book.active, values)
    buffer = io.BytesIO()
    book.save(buffer)
    return load_workbook(io.BytesIO(buffer.getvalue())).active[1]


def _csv_written(values: list) -> list[str]:
    buffer = io.StringIO()
    write_csv_rows(csv.writer(buffer), [values])
    return next(csv.reader(io.StringIO(buffer.getvalue())))
