"""The collection notice (收缴情况公示): per building billable/paid/unpaid households, rates by household and by
amount, receivable and collected — aggregates only, never a name or a room — as data, an inline SVG chart, a PNG
for the estate's WeChat group, and the history by period and by month."""

from __future__ import annotations

import glob
import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from xml.sax.saxutils import escape

from markupsafe import Markup
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Building, Estate
from app.models.fee import Bill, FeePayment
from app.services.billing import yuan

log = logging.getLogger(__name__)
CJK_FONTS = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/arphic/uming.ttc"]


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


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """A TTF/TTC with Chinese glyphs, or None (then the PNG falls back to plain labels and says so)."""
    for path in CJK_FONTS + sorted(glob.glob("/usr/share/fonts/**/*CJK*.tt[cf]", recursive=True)):
        try:
            with open(path, "rb"):
                return path
        except OSError:
            continue
    log.warning("no CJK font found: the collection notice PNG uses ASCII labels")
    return None


def notice_png(item: Notice) -> bytes:
    """The notice as a PNG (1080 px wide) to post in the estate's WeChat group."""
    from PIL import Image, ImageDraw, ImageFont

    path = cjk_font_path()
    font = (lambda size: ImageFont.truetype(path, size)) if path else (lambda size: ImageFont.load_default(size))
    zh = path is not None
    width, row_h = 1080, 74
    height = 400 + row_h * (len(item.rows) + 1)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 130), fill="#1f7a4d")
    title = f"{item.estate} 物业费收缴情况公示" if zh else "Fee collection notice (CJK font not installed)"
    draw.text((40, 16), title, font=font(44), fill="white")
    draw.text((40, 78), (f"缴费期间：{item.period_text}" if zh else f"Period: {item.period_start} - {item.period_end}"),
              font=font(26), fill="white")
    heads = ["楼栋", "应缴户", "已缴户", "未缴户", "按户收缴率", "按金额收缴率"] if zh else \
        ["Bldg", "Billable", "Paid", "Unpaid", "Rate (hh)", "Rate (amount)"]
    xs = [40, 200, 340, 480, 620, 840]
    y = 150
    for x, text in zip(xs, heads):
        draw.text((x, y), text, font=font(26), fill="#555")
    for row in item.rows + [item.total]:
        y += row_h
        name = row.name if zh else row.name.replace("号楼", "").replace("合计", "Total")
        bold = row is item.total
        for x, text in zip(xs, [name, str(row.billable), str(row.paid), str(row.unpaid), row.household_rate,
                                row.amount_rate]):
            draw.text((x, y), text, font=font(30 if bold else 28), fill="#111")
        draw.rectangle((620, y + 40, 800, y + 50), fill="#eceff1")
        draw.rectangle((620, y + 40, 620 + int(180 * row.household_ratio), y + 50), fill="#1f7a4d")
        draw.rectangle((840, y + 40, 1040, y + 50), fill="#eceff1")
        draw.rectangle((840, y + 40, 840 + int(200 * row.amount_ratio), y + 50), fill="#e0a526")
    y += row_h + 20
    total = item.total
    line = (f"应收 {yuan(total.receivable_fen)} 元，实收 {yuan(total.collected_fen)} 元" if zh
            else f"Receivable {yuan(total.receivable_fen)}, collected {yuan(total.collected_fen)} (CNY)")
    draw.text((40, y), line, font=font(30), fill="#111")
    stamp = item.as_of.strftime("%Y-%m-%d %H:%M") if item.as_of else ""
    foot = (f"数据截至 {stamp}。本公示只列汇总数字，不公开任何住户信息。感谢大家的支持！" if zh
            else f"As of {stamp}. Aggregates only, no household is named.")
    draw.text((40, y + 60), foot, font=font(24), fill="#666")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
