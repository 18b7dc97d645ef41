"""Monthly figures of the ledger: the red/black list (红黑榜) of handlers and the XLSX export for the district."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import clock
from app.extensions import db
from app.models import StaffUser
from app.models.staff import ROLES
from app.models.ticket import LEVELS, Ticket

RED_MIN, BLACK_MAX = 90, 60  # percent: both rates ≥ 90 → red list; either < 60 (or many reopened) → black list
BLACK_REOPEN = 20


def month_bounds(month: str | None) -> tuple[datetime, datetime, str]:
    """'2026-11' → [1 Nov 00:00, 1 Dec 00:00) in Asia/Shanghai; the current month when empty or malformed."""
    try:
        year, number = (int(part) for part in (month or "").split("-"))
        start = datetime(year, number, 1, tzinfo=clock.TZ)
    except ValueError:
        today = clock.now()
        start = datetime(today.year, today.month, 1, tzinfo=clock.TZ)
    end = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1, tzinfo=clock.TZ)
    return start, end, f"{start:%Y-%m}"


def month_tickets(estate_ids: list[int], month: str | None) -> tuple[list[Ticket], str]:
    """Tickets registered in the month in these estates (merged duplicates left out)."""
    start, end, label = month_bounds(month)
    if not estate_ids:
        return [], label
    rows = db.session.scalars(select(Ticket).where(Ticket.estate_id.in_(estate_ids), Ticket.created_at >= start,
                                                   Ticket.created_at < end, Ticket.status != "merged")
                              .options(selectinload(Ticket.handler), selectinload(Ticket.estate),
                                       selectinload(Ticket.building), selectinload(Ticket.unit))
                              .order_by(Ticket.created_at, Ticket.id)).all()
    return list(rows), label


@dataclass
class BoardRow:
    """One handler's month: tickets, finished on time, ratings, reopened; and the list they land on."""

    name: str
    role: str
    total: int = 0
    finished: int = 0
    on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    reopened: int = 0

    @staticmethod
    def _pct(part: int, whole: int) -> int | None:
        return round(100 * part / whole) if whole else None

    @property
    def on_time_rate(self) -> int | None:
        return self._pct(self.on_time, self.total)

    @property
    def satisfaction(self) -> int | None:
        return self._pct(self.satisfied + self.basic, self.rated)

    @property
    def reopen_rate(self) -> int | None:
        return self._pct(self.reopened, self.total)

    @property
    def verdict(self) -> str:
        """'红榜', '黑榜' or '' (too few or middling)."""
        on_time, happy, reopen = self.on_time_rate, self.satisfaction, self.reopen_rate or 0
        if on_time is None:
            return ""
        if on_time < BLACK_MAX or (happy is not None and happy < BLACK_MAX) or reopen > BLACK_REOPEN:
            return "黑榜"
        if on_time >= RED_MIN and happy is not None and happy >= RED_MIN:
            return "红榜"
        return ""


def board(tickets: list[Ticket], now: datetime | None = None) -> list[BoardRow]:
    """Per handler: the red/black list rows, best first (unassigned tickets are listed as 未指派)."""
    now = now or clock.now()
    rows: dict[int | None, BoardRow] = {}
    for ticket in tickets:
        handler: StaffUser | None = ticket.handler
        if handler is None:
            row = rows.setdefault(None, BoardRow("未指派", ""))
        else:
            roles = "、".join(ROLES.get(r, r) for r in sorted(handler.roles))
            row = rows.setdefault(handler.id, BoardRow(handler.display_name or handler.username, roles))
        row.total += 1
        if ticket.done_at is not None:
            row.finished += 1
            row.on_time += ticket.done_at <= ticket.deadline
        if ticket.rating:
            row.rated += 1
            if ticket.rating == "satisfied":
                row.satisfied += 1
            elif ticket.rating == "basic":
                row.basic += 1
            else:
                row.unsatisfied += 1
        row.reopened += ticket.reopen_count > 0
    order = {"红榜": 0, "": 1, "黑榜": 2}
    return sorted(rows.values(), key=lambda r: (order[r.verdict], -(r.on_time_rate or 0), r.name))


HEADERS = ["编号", "类型", "类别", "小区", "位置", "问题描述", "登记时间", "处理人", "办理时限", "状态", "受理时间",
           "办结时间", "是否超期", "评价", "评价意见", "升级情况", "重开次数"]


def _time(value) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


def export_month(tickets: list[Ticket], label: str, title: str) -> bytes:
    """The monthly ledger as XLSX: one row per ticket (no reporter details), and the red/black list."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from app.services.spreadsheet import append_row

    now = clock.now()
    book = Workbook()
    sheet = book.active
    sheet.title = "投诉台账"
    append_row(sheet, [f"{title} 报事报修与投诉台账（{label}）"])
    sheet["A1"].font = Font(bold=True, size=14)
    append_row(sheet, HEADERS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for t in tickets:
        late = t.done_at > t.deadline if t.done_at else t.overdue(now)
        append_row(sheet, [t.number, t.kind_label, t.category_label, t.estate.name, t.where, t.description,
                      _time(t.created_at), (t.handler.display_name or t.handler.username) if t.handler else "",
                      _time(t.deadline), t.status_label, _time(t.accepted_at), _time(t.done_at), "是" if late else "否",
                      t.rating_label, t.rating_comment, LEVELS.get(t.escalation_level, ""), t.reopen_count])
    for column, width in zip("ABCDEFGHIJKLMNOPQ", (18, 6, 10, 14, 16, 30, 17, 12, 17, 8, 17, 17, 8, 10, 20, 14, 8)):
        sheet.column_dimensions[column].width = width
    ranking = book.create_sheet("红黑榜")
    append_row(ranking, ["处理人", "角色", "件数", "已办结", "按时办结率%", "满意率%", "重开率%", "榜单"])
    for row in board(tickets, now):
        append_row(ranking, [row.name, row.role, row.total, row.finished, row.on_time_rate, row.satisfaction,
                        row.reopen_rate, row.verdict])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def months_back(count: int = 12) -> list[str]:
    """The last `count` months as 'YYYY-MM', newest first (for a month picker)."""
    today: date = clock.now().date()
    year, month, result = today.year, today.month, []
    for _ in range(count):
        result.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return result
