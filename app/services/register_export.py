"""The 住宅小区基本情况台账 workbook (the annex of seed 002): one row per estate, ticks per category."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select

from app.extensions import db
from app.models import Estate, Room
from app.models.place import ESTATE_TYPES, MANAGEMENT_MODES, SIX_HAVES
from app.services.spreadsheet import append_row

TICK = "√"


def build_workbook(estates: list[Estate]) -> bytes:
    """Write the register annex for these estates and return the .xlsx bytes."""
    wb = Workbook()
    ws = wb.active
    ws.title = "住宅小区基本情况台账"
    groups = [("序号", 1), ("镇（街道）", 1), ("社区", 1), ("小区名称", 1), ("小区地址", 1),
              ("物业类型", len(ESTATE_TYPES)), ("物业管理类型（可多选）", len(MANAGEMENT_MODES)),
              ("户数", 1), ("总建筑面积（㎡）", 1), ("是否成立业主委员会", 1), ("是否建立住宅专项维修资金制度", 1),
              ("专业经营设施设备是否移交", 1), ("物业服务“六有”标准情况", len(SIX_HAVES))]
    append_row(ws, ["住宅小区基本情况台账"])
    top, sub = [], []
    for title, width in groups:
        top.extend([title] + [None] * (width - 1))
    sub = [None] * 5 + list(ESTATE_TYPES.values()) + list(MANAGEMENT_MODES.values()) + [None] * 5 + list(SIX_HAVES.values())
    append_row(ws, top)
    append_row(ws, sub)
    column = 1
    for title, width in groups:
        if width > 1:
            ws.merge_cells(start_row=2, start_column=column, end_row=2, end_column=column + width - 1)
        else:
            ws.merge_cells(start_row=2, start_column=column, end_row=3, end_column=column)
        column += width
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=column - 1)

    counts = _room_counts([e.id for e in estates])
    for n, estate in enumerate(estates, start=1):
        households, area = counts.get(estate.id, (0, 0))
        standards = estate.standard_status()
        append_row(ws, 
            [n, estate.community.street.name, estate.community.name, estate.name, estate.address]
            + [TICK if estate.estate_type == code else "" for code in ESTATE_TYPES]
            + [TICK if code in (estate.management_modes or []) else "" for code in MANAGEMENT_MODES]
            + [households, float(area or 0), _yes_no(estate.has_owners_committee),
               _yes_no(estate.has_maintenance_fund), _yes_no(estate.facilities_handed_over)]
            + [(standards[code].isoformat() if standards[code] else "") for code in SIX_HAVES]
        )
    _style(ws, column - 1)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _room_counts(estate_ids: list[int]) -> dict[int, tuple[int, object]]:
    if not estate_ids:
        return {}
    rows = db.session.execute(select(Room.estate_id, func.count(Room.id), func.sum(Room.area))
                              .where(Room.estate_id.in_(estate_ids)).group_by(Room.estate_id))
    return {estate_id: (count, area) for estate_id, count, area in rows}


def _yes_no(flag: bool) -> str:
    return "是" if flag else "否"


def _style(ws, width: int) -> None:
    thin = Side(style="thin", color="999999")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    for row in ws.iter_rows(min_row=2, max_row=ws.max_row, max_col=width):
        for cell in row:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in ws.iter_rows(min_row=2, max_row=3, max_col=width):
        for cell in row:
            cell.font = Font(bold=True)
    for index in range(1, width + 1):
        ws.column_dimensions[get_column_letter(index)].width = 8 if index > 5 else 14
    ws.freeze_panes = "E4"
