"""Helpers that build register files for the import tests."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

HEADER = ["小区", "楼栋", "单元", "房号", "楼层", "建筑面积", "业主姓名", "手机号"]


def xlsx_bytes(rows: list[list], header: list[str] = HEADER, *, as_text: bool = False) -> bytes:
    """An .xlsx file with a header and rows; as_text stores '=…' strings as text cells, not formulas."""
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    for line in ws.iter_rows() if as_text else ():
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], header: list[str] = HEADER, encoding: str = "utf-8-sig") -> bytes:
    """A .csv file with a header and rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)
