"""The demo seed: 幸福里小区 at 0.30 元/㎡/月 quarterly, bills with per-building payment rates, a levy, ledger lines;
safe to run twice."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Estate
from app.models.fee import Bill, FeePayment, FeeSchedule, LedgerEntry, Levy
from app.services import collection, fees_demo
from app.services.demo import seed_demo


def test_demo_seed(app):
    with app.app_context():
        seed_demo()
        counts = [db.session.scalar(select(func.count(m.id))) for m in (Bill, FeePayment, LedgerEntry, Levy)]
        fees_demo.seed()
        assert [db.session.scalar(select(func.count(m.id))) for m in (Bill, FeePayment, LedgerEntry, Levy)] == counts
        estate = db.session.scalar(select(Estate).where(Estate.name == "幸福里小区"))
        schedule = db.session.scalar(select(FeeSchedule).where(FeeSchedule.estate_id == estate.id))
        assert schedule.describe == "0.30 元/㎡/月，按季缴纳"
        assert len(collection.periods(estate.id)) == 4 and counts[3] == 1
        notice = collection.notice(estate, collection.periods(estate.id)[1])
        rates = {row.name: row.household_ratio for row in notice.rows}
        assert 0.5 < min(rates.values()) < max(rates.values()) < 1.0  # realistic and different per building
        categories = set(db.session.scalars(select(LedgerEntry.category)))
        assert {"parking", "public_area", "cleaning"} <= categories
        assert db.session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.direction == "expense",
                                                                          LedgerEntry.receipt_file.is_(None))) == 0
