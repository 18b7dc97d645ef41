"""Safe cells for every spreadsheet and CSV Linli writes: text that Excel, WPS or LibreOffice could run as a
formula (OWASP CSV injection: a leading = + - @, tab or CR) is written as quoted text; numbers stay numbers."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # openpyxl loads only when a workbook is written
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet program could evaluate this text as a formula."""
    return text.startswith(FORMULA_STARTS)


def safe_value(value: object) -> object:
    """The value to write: formula-like text gets a leading single quote; everything else is unchanged."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


def append_row(sheet: Worksheet, values: Iterable[object]) -> None:
    """Append a row to an openpyxl sheet, formula-like text quoted and typed as text ('s'); other values as given."""
    sheet.append([_quoted_cell(sheet, value) if isinstance(value, str) and looks_like_formula(value) else value
                  for value in values])


def _quoted_cell(sheet: Worksheet, value: str) -> Cell:
    from openpyxl.cell.cell import Cell

    cell = Cell(sheet, value=safe_value(value))
    cell.data_type = "s"  # the quote already stops openpyxl typing it as a formula ('f'); this pins it regardless
    return cell


def write_csv_rows(writer: csv.writer, rows: Iterable[Iterable[object]]) -> None:
    """Write rows through a csv.writer with every formula-like text cell quoted."""
    writer.writerows([safe_value(value) for value in row] for row in rows)
