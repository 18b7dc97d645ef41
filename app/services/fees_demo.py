"""Demo data for fees: 幸福里小区 at 0.30 元/㎡/月 billed quarterly, four quarters of bills with realistic payment
rates per building, a 一事一议 levy, and public ledger lines (parking, ads, a locker site, a subsidy, spending)."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Building, Estate, Unit
from app.models.fee import Bill, FeePayment, FeeSchedule, LedgerEntry
from app.services import billing, ledger
from app.services.demo import OLD_ESTATE
from app.services.fonts import pil_font

# Share of households that pay each quarter, by building: older quarters are better paid than the current one.
PAY_RATES = {"1": 0.93, "2": 0.86, "3": 0.8, "4": 0.72, "5": 0.88, "6": 0.64}


def _receipt_png(text: str) -> bytes:
    """A small stand-in photo of a paper receipt."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 240), "white")
    draw = ImageDraw.Draw(image)
    draw.text((30, 90), text, font=pil_font(28), fill="black")
    draw.rectangle((10, 10, 470, 230), outline="#b3261e", width=3)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def seed() -> None:
    """Add the fee demo once (a second run finds the schedule and does nothing)."""
    estate = db.session.scalar(select(Estate).where(Estate.name == OLD_ESTATE))
    if estate is None or db.session.scalar(select(FeeSchedule.id).where(FeeSchedule.estate_id == estate.id)):
        return
    rng = random.Random(909)
    today = clock.now().date()
    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    starts_on = billing.add_months(quarter_start, -9)
    schedule = billing.create_schedule(estate, basis="per_area", rate_fen=Decimal(30), cycle="quarterly",
                                       starts_on=starts_on, due_days=30, actor="system:demo",
                                       exempt_developer_held=True)
    db.session.commit()
    billing.generate_due(today, [schedule])
    numbers = dict(db.session.execute(select(Building.id, Building.number).where(Building.estate_id == estate.id)).all())
    bills = db.session.scalars(select(Bill).where(Bill.estate_id == estate.id).order_by(Bill.period_start, Bill.id)).all()
    for bill in bills:
        rate = PAY_RATES.get(numbers[bill.building_id], 0.8)
        if bill.period_start == quarter_start:
            rate *= 0.45  # the current quarter has only just started
        elif bill.period_start == billing.add_months(quarter_start, -3):
            rate *= 0.92
        if rng.random() < rate:
            amount, method = bill.amount_fen, rng.choice(["cash", "cash", "transfer"])
            paid_on = bill.period_start + timedelta(days=rng.randrange(3, 45))
        elif rng.random() < 0.15:  # some pay part of it
            amount, method = bill.amount_fen // 2, "cash"
            paid_on = bill.due_on - timedelta(days=rng.randrange(0, 20))
        else:
            continue
        moment = min(datetime.combine(paid_on, time(9 + rng.randrange(9)), clock.TZ), clock.now())
        # Written directly (one transaction, no chat receipts): demo history, not new payments to announce.
        db.session.add(FeePayment(bill_id=bill.id, room_id=bill.room_id, estate_id=bill.estate_id, kind="payment",
                                  method=method, amount_fen=amount, client_key=f"demo:{bill.id}",
                                  recorded_by="system:demo", recorded_at=moment))
        bill.paid_fen = amount
        bill.status = "paid" if amount >= bill.amount_fen else "open"
    db.session.commit()
    unit = db.session.scalar(select(Unit).join(Building, Unit.building_id == Building.id)
                             .where(Building.estate_id == estate.id, Building.number == "3", Unit.number == "2"))
    if unit is not None:
        billing.create_levy(estate, "unit", unit.id, "3号楼2单元屋面防水维修", 1_860_000,
                            today + timedelta(days=30), "system:demo")
        db.session.commit()
    _ledger(estate, starts_on, today)


def _ledger(estate: Estate, starts_on: date, today: date) -> None:
    month = date(starts_on.year, starts_on.month, 1)
    while month <= today:
        last = min(ledger.month_bounds(month.year, month.month)[1], today)
        lines = [("income", "parking", 180_000, "地面停车位 月租（36个）", "车主"),
                 ("income", "public_area", 60_000, "电梯及单元门广告位", "城市传媒广告公司"),
                 ("income", "public_area", 20_000, "快递柜场地租金", "蜂巢快递柜"),
                 ("expense", "cleaning", 240_000, "楼道清扫保洁（公益岗2人）", "公益岗"),
                 ("expense", "utilities", 38_600 + month.month * 700, "楼道照明、水泵电费", "供电公司")]
        if month.month in (3, 9):
            lines.append(("income", "promotion", 50_000, "通信公司进小区促销场地费", "电信营业厅"))
        if month.month == 6:
            lines.append(("income", "policy", 500_000, "无物业小区清雪保洁补助", "红旗街道办事处"))
            lines.append(("expense", "repair", 126_000, "2号楼下水主管疏通更换", "邻家便民维修部"))
        for direction, category, fen, text, who in lines:
            db.session.add(LedgerEntry(estate_id=estate.id, direction=direction, category=category, amount_fen=fen,
                                       occurred_on=last, description=text, counterparty=who,
                                       receipt_file=ledger._store_receipt(_receipt_png(f"收据 {text[:10]}"))
                                       if direction == "expense" else None, recorded_by="system:demo"))
        month = billing.add_months(month, 1)
    db.session.commit()
