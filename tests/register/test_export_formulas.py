"""The 台账 export quotes formula-like text typed on the estate page (for example the address)."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from app.services.register import export_register
from factories import make_estate


def test_estate_address_like_a_formula_is_exported_as_quoted_text(ctx):
    estate = make_estate(name="幸福里小区", address="=cmd|' /C calc'!A0")
    sheet = load_workbook(io.BytesIO(export_register([estate]))).active
    cell = sheet.cell(row=4, column=5)
    assert (cell.data_type, cell.value) == ("s", "'=cmd|' /C calc'!A0")
    assert sheet.cell(row=4, column=1).value == 1  # the 序号 stays a number
