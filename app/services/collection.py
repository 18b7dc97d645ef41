"""The collection notice (收缴情况公示): per building billable/paid/unpaid households, rates by household and by
amount, receivable and collected — aggregates only, never a name or a room — as data, an inline SVG chart, a PNG
for the estate's WeChat group, and the history by period and by month."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

from markupsafe import Markup
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Building, Estate
from app.models.fee import Bill, FeePayment
from app.services.billing import yuan
from app.services.fonts import pil_font
from app.services.print_layout import png_label


def percent(part: int, whole: int) -> str:
    """'87.5%' rounded half up from exact integers; '—' when there is nothing to divide by."""
    if not whole:
        return "—"
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{value}%"


@dataclass
class NoticeRow:
    """One building's (or the estate's) aggregates; deliberately without room numbers or names."""

    name: str
    billable: int = 0
    paid: int = 0
    receivable_fen: int = 0
    collected_fen: int = 0

    @property
    def unpaid(self) -> int:
        return self.billable - self.paid

    @property
    def household_rate(self) -> str:
        return percent(self.paid, self.billable)

    @property
    def amount_rate(self) -> str:
        return percent(self.collected_fen, self.receivable_fen)

    @property
    def household_ratio(self) -> float:
        return self.paid / self.billable if self.billable else 0.0

    @property
    def amount_ratio(self) -> float:
        return self.collected_fen / self.receivable_fen if self.receivable_fen else 0.0


@dataclass
class Notice:
    """The notice of one estate and period, as published."""

    estate: str
    period_start: date
    period_end: date
    rows: list[NoticeRow] = field(default_factory=list)
    total: NoticeRow = field(default_factory=lambda: NoticeRow("合计"))
    as_of: datetime | None = None

    @property
    def period_text(self) -> str:
        return f"{self.period_start:%Y年%m月%d日}—{self.period_end:%Y年%m月%d日}"


def periods(estate_id: int) -> list[tuple[date, date]]:
    """The billed fee periods of an estate, newest first."""
    return [tuple(row) for row in db.session.execute(
        select(Bill.period_start, Bill.period_end).where(Bill.estate_id == estate_id, Bill.kind == "fee")
        .distinct().order_by(Bill.period_start.desc(), Bill.period_end.desc()))]


def notice(estate: Estate, period: tuple[date, date] | None = None) -> Notice | None:
    """The notice for one period (default: the latest billed one); None when nothing was billed yet."""
    if period is None:
        known = periods(estate.id)
        if not known:
            return None
        period = known[0]
    start, end = period
    result = Notice(estate.name, start, end, as_of=clock.now())
    names = {b.id: b.name for b in db.session.scalars(select(Building).where(Building.estate_id == estate.id))}
    order = {b_id: i for i, b_id in enumerate(db.session.scalars(
        select(Building.id).where(Building.estate_id == estate.id).order_by(Building.sort_key, Building.id)))}
    rows: dict[int, NoticeRow] = {}
    per_room = db.session.execute(
        select(Bill.building_id, Bill.room_id, func.sum(Bill.amount_fen), func.sum(Bill.paid_fen))
        .where(Bill.estate_id == estate.id, Bill.kind == "fee", Bill.status != "cancelled", Bill.amount_fen > 0,
               Bill.period_start >= start, Bill.period_start <= end)
        .group_by(Bill.building_id, Bill.room_id))
    for building_id, _room_id, amount, paid in per_room:
        row = rows.setdefault(building_id, NoticeRow(names.get(building_id, "—")))
        for target in (row, result.total):
            target.billable += 1
            target.paid += int(paid) >= int(amount)
            target.receivable_fen += int(amount)
            target.collected_fen += int(paid)
    result.rows = [rows[b] for b in sorted(rows, key=lambda b: order.get(b, 0))]
    return result


@dataclass
class HistoryPoint:
    """One period's estate-wide figures, or one month's collected money."""

    label: str
    row: NoticeRow | None = None
    collected_fen: int = 0


def period_history(estate: Estate, limit: int = 12) -> list[HistoryPoint]:
    """The estate's figures for each of the last billed periods (oldest first)."""
    points = []
    for start, end in reversed(periods(estate.id)[:limit]):
        item = notice(estate, (start, end))
        points.append(HistoryPoint(f"{start:%Y.%m}—{end:%m}", item.total))
    return points


def monthly_collected(estate_id: int, months: int = 12) -> list[HistoryPoint]:
    """Money actually received per calendar month (net of corrections and refunds), the last `months` months."""
    if db.engine.dialect.name == "postgresql":
        month = func.to_char(func.timezone("Asia/Shanghai", FeePayment.recorded_at), "YYYY-MM")
    else:  # SQLite stores UTC; +8 hours gives the Shanghai month
        month = func.strftime("%Y-%m", FeePayment.recorded_at, "+8 hours")
    rows = dict(db.session.execute(select(month, func.sum(FeePayment.amount_fen))
                                   .where(FeePayment.estate_id == estate_id).group_by(month)).all())
    today = clock.now().date()
    keys = []
    year, mon = today.year, today.month
    for _ in range(months):
        keys.append(f"{year}-{mon:02d}")
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return [HistoryPoint(key, collected_fen=int(rows.get(key) or 0)) for key in reversed(keys)]


def notice_svg(item: Notice) -> Markup:
    """A horizontal bar chart (household rate and amount rate per building) as inline SVG, no script needed."""
    bar_w, row_h, left, bar_h = 200, 50, 72, 17
    height = row_h * len(item.rows) + 34
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + bar_w + 62} {height}" role="img" '
             f'aria-label="各楼栋收缴率" class="chart" width="100%">',
             f'<rect x="{left}" y="6" width="12" height="12" fill="#1f7a4d"/><text x="{left + 16}" y="17" '
             f'font-size="13">按户</text><rect x="{left + 70}" y="6" width="12" height="12" fill="#e0a526"/>'
             f'<text x="{left + 86}" y="17" font-size="13">按金额</text>']
    for i, row in enumerate(item.rows):
        y = 30 + i * row_h
        parts.append(f'<text x="0" y="{y + 22}" font-size="15">{escape(row.name)}</text>')
        for j, (ratio, text, color) in enumerate(((row.household_ratio, row.household_rate, "#1f7a4d"),
                                                   (row.amount_ratio, row.amount_rate, "#e0a526"))):
            top = y + j * (bar_h + 3)
            parts.append(f'<rect x="{left}" y="{top}" width="{bar_w}" height="{bar_h}" fill="#eceff1"/>'
                         f'<rect x="{left}" y="{top}" width="{ratio * bar_w:.1f}" height="{bar_h}" fill="{color}"/>'
                         f'<text x="{left + bar_w + 5}" y="{top + 14}" font-size="13">{text}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass
class TextOp:
    """One run of text on the notice PNG: top-left corner, text, pixel size, colour."""

    xy: tuple[int, int]
    text: str
    size: int
    fill: str


@dataclass
class NoticeLayout:
    """Everything the notice PNG draws: its size, filled rectangles, then texts (all in the Chinese font)."""

    width: int
    height: int
    rects: list[tuple[tuple[int, int, int, int], str]] = field(default_factory=list)
    texts: list[TextOp] = field(default_factory=list)

    def lines(self, x: int, y: int, lines: list[str], size: int, fill: str, leading: float = 1.25) -> int:
        """Add lines from (x, y) down; the y below the last one."""
        for line in lines:
            self.texts.append(TextOp((x, y), line, size, fill))
            y += round(size * leading)
        return y


COLUMNS = [40, 200, 340, 480, 620, 840]  # left edge of each table column, in pixels


def notice_layout(item: Notice) -> NoticeLayout:
    """Where the notice PNG puts each text and bar: a long estate name shrinks or wraps, the footnote wraps,
    and the image grows to hold them."""
    layout = NoticeLayout(width=1080, height=0)
    inner, row_h = layout.width - 80, 74
    size, lines = png_label(f"{item.estate} 物业费收缴情况公示", 44, inner, smallest=30)
    y = layout.lines(40, 16, lines, size, "white") + 7
    y = layout.lines(40, y, [f"缴费期间：{item.period_text}"], 26, "white") + 20
    layout.rects.append(((0, 0, layout.width, y), "#1f7a4d"))
    y += 20
    for x, text in zip(COLUMNS, ["楼栋", "应缴户", "已缴户", "未缴户", "按户收缴率", "按金额收缴率"]):
        layout.lines(x, y, [text], 26, "#555")
    for row in item.rows + [item.total]:
        y += row_h
        size = 30 if row is item.total else 28
        name_size, name = png_label(row.name, size, COLUMNS[1] - COLUMNS[0] - 10, smallest=18)
        layout.lines(COLUMNS[0], y, name, name_size, "#111", leading=1.1)
        for x, text in zip(COLUMNS[1:], [str(row.billable), str(row.paid), str(row.unpaid), row.household_rate,
                                         row.amount_rate]):
            layout.lines(x, y, [text], size, "#111")
        layout.rects += [((620, y + 40, 800, y + 50), "#eceff1"),
                         ((620, y + 40, 620 + int(180 * row.household_ratio), y + 50), "#1f7a4d"),
                         ((840, y + 40, 1040, y + 50), "#eceff1"),
                         ((840, y + 40, 840 + int(200 * row.amount_ratio), y + 50), "#e0a526")]
    y += row_h + 20
    total = item.total
    y = layout.lines(40, y, [f"应收 {yuan(total.receivable_fen)} 元，实收 {yuan(total.collected_fen)} 元"], 30, "#111")
    stamp = item.as_of.strftime("%Y-%m-%d %H:%M") if item.as_of else ""
    size, foot = png_label(f"数据截至 {stamp}。本公示只列汇总数字，不公开任何住户信息。感谢大家的支持！", 24, inner)
    layout.height = layout.lines(40, y + 22, foot, size, "#666", leading=1.4) + 40
    return layout


def notice_png(item: Notice) -> bytes:
    """The notice as a PNG (1080 px wide) to post in the estate's WeChat group; FontMissing (never English
    stand-in labels) when the Chinese font is not installed."""
    from PIL import Image, ImageDraw

    layout = notice_layout(item)
    image = Image.new("RGB", (layout.width, layout.height), "white")
    draw = ImageDraw.Draw(image)
    for box, fill in layout.rects:
        draw.rectangle(box, fill=fill)
    for op in layout.texts:
        draw.text(op.xy, op.text, font=pil_font(op.size), fill=op.fill)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
