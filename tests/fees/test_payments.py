"""Payments: partial, full, refusals (over, negative, double submit, another building), corrections and refunds as
new entries, prepayment credit, 以工抵费, and the receipt through the outbox."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxMessage, StaffUser
from app.models.fee import Bill, Credit, FeePayment, FeeSchedule
from app.services import billing, payments
from app.services.errors import DomainError, PermissionDenied
from fee_world import build


@pytest.fixture
def world(app):
    with app.app_context():
        w = build()
        billing.generate_bills(db.session.get(FeeSchedule, w.schedule_id), date(2026, 1, 1))
        return w


def bill_of(world, key) -> Bill:
    return db.session.scalar(select(Bill).where(Bill.room_id == world.rooms[key]))


def user(world, name) -> StaffUser:
    return db.session.get(StaffUser, world.users[name])


def test_partial_then_full_payment_with_receipts(app, world):
    with app.app_context():
        bill = bill_of(world, "1-101")  # 72.00 元
        first = payments.record_payment(user(world, "lzz1"), bill.id, 5000, "cash", client_key="k1")
        assert not first.duplicate and "已登记 50.00 元" in first.message
        db.session.refresh(bill)
        assert (bill.paid_fen, bill.status) == (5000, "open")
        payments.record_payment(user(world, "shequ"), bill.id, 2200, "transfer", client_key="k2", reference="T88")
        db.session.refresh(bill)
        assert (bill.paid_fen, bill.status, bill.owed_fen) == (7200, "paid", 0)
        texts = [m.payload["text"] for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        assert len(texts) == 2 and all(m.startswith("【缴费收据】幸福里小区 1号楼1单元101室") for m in texts)
        assert "本期尚欠 22.00 元" in texts[0] and "本期已缴清" in texts[1]
        assert {m.openid for m in db.session.scalars(select(OutboxMessage))} == {"o-1-101"}


@pytest.mark.parametrize("amount, message", [(-100, "必须大于0"), (0, "必须大于0"), (7201, "超过了应缴的 72.00 元")])
def test_bad_amounts_are_refused_and_nothing_recorded(app, world, amount, message):
    with app.app_context():
        bill = bill_of(world, "1-101")
        with pytest.raises(DomainError, match=message):
            payments.record_payment(user(world, "shequ"), bill.id, amount, "cash", client_key="k")
        db.session.rollback()
        assert db.session.scalar(select(func.count(FeePayment.id))) == 0
        assert db.session.get(Bill, bill.id).paid_fen == 0


def test_float_amount_and_unknown_method_refused(app, world):
    with app.app_context():
        bill = bill_of(world, "1-101")
        with pytest.raises(DomainError):
            payments.record_payment(None, bill.id, 72.0, "cash", client_key="k")
        with pytest.raises(DomainError, match="缴费方式"):
            payments.record_payment(None, bill.id, 100, "bitcoin", client_key="k")


def test_double_submitted_form_is_recorded_once(app, world):
    with app.app_context():
        bill = bill_of(world, "1-101")
        payments.record_payment(user(world, "lzz1"), bill.id, 1000, "cash", client_key="form-123")
        again = payments.record_payment(user(world, "lzz1"), bill.id, 1000, "cash", client_key="form-123")
        assert again.duplicate and "没有重复入账" in again.message
        assert db.session.scalar(select(func.count(FeePayment.id))) == 1
        assert db.session.get(Bill, bill.id).paid_fen == 1000


def test_building_head_cannot_record_outside_their_building(app, world):
    with app.app_context():
        other = bill_of(world, "2-101")
        with pytest.raises(PermissionDenied, match="自己负责楼栋"):
            payments.record_payment(user(world, "lzz1"), other.id, 1000, "cash", client_key="x")
        assert db.session.scalar(select(func.count(FeePayment.id))) == 0
        payments.record_payment(user(world, "lzz2"), other.id, 1000, "cash", client_key="y")


def test_prepayment_becomes_explicit_credit_and_offsets_the_next_bill(app, world):
    with app.app_context():
        bill = bill_of(world, "1-101")
        result = payments.record_payment(user(world, "shequ"), bill.id, 10000, "cash", client_key="p",
                                         prepayment=True)
        assert result.payment.amount_fen == 7200 and result.credit_fen == 2800
        assert payments.credit_balance(world.rooms["1-101"]) == 2800
        assert "预存 28.00 元" in db.session.scalar(select(OutboxMessage)).payload["text"]
        payments.generate_and_offset(date(2026, 4, 2))  # bills Q2 and offsets it with the credit
        q2 = db.session.scalar(select(Bill).where(Bill.room_id == world.rooms["1-101"],
                                                  Bill.period_start == date(2026, 4, 1)))
        assert q2.paid_fen == 2800 and q2.status == "open"
        assert payments.credit_balance(world.rooms["1-101"]) == 0
        payments.generate_and_offset(date(2026, 4, 3))
        assert db.session.get(Bill, q2.id).paid_fen == 2800  # applied once


def test_correction_and_refund_are_new_negative_entries(app, world):
    with app.app_context():
        bill = bill_of(world, "1-102")  # 90.45
        paid = payments.record_payment(user(world, "shequ"), bill.id, 9045, "cash", client_key="a").payment
        with pytest.raises(DomainError, match="原因"):
            payments.reverse_payment(user(world, "shequ"), paid.id, None, "correction", " ", client_key="c0")
        refund = payments.reverse_payment(user(world, "shequ"), paid.id, 1045, "refund", "多收退回", client_key="r1")
        assert refund.payment.amount_fen == -1045 and refund.payment.corrects_id == paid.id
        with pytest.raises(DomainError, match="最多还能退 80.00 元"):
            payments.reverse_payment(user(world, "shequ"), paid.id, 9000, "refund", "再退", client_key="r2")
        payments.reverse_payment(user(world, "shequ"), paid.id, None, "correction", "记错房号", client_key="c1")
        entries = db.session.scalars(select(FeePayment.amount_fen).order_by(FeePayment.id)).all()
        assert entries == [9045, -1045, -8000]
        assert db.session.get(FeePayment, paid.id).amount_fen == 9045  # the original is never edited
        db.session.refresh(bill)
        assert (bill.paid_fen, bill.status) == (0, "open")


def test_work_hours_credit_is_applied_once(app, world):
    with app.app_context():
        from app.models.service import VolunteerHours

        db.session.add(VolunteerHours(estate_id=world.estate_id, room_id=world.rooms["2-201"], worked_on=date(2026, 1, 5),
                                      hours=4, task="楼道保洁", rate_fen_per_hour=1500, credit_fen=6000))
        db.session.commit()
        payments.generate_and_offset(date(2026, 1, 20))
        payments.generate_and_offset(date(2026, 1, 21))
        bill = bill_of(world, "2-201")  # 54.00 元
        assert (bill.paid_fen, bill.status) == (5400, "paid")
        assert payments.credit_balance(world.rooms["2-201"]) == 600
        kinds = db.session.scalars(select(Credit.kind).order_by(Credit.id)).all()
        assert kinds == ["work", "applied"]


def test_statement_for_the_resident(app, world):
    with app.app_context():
        bill = bill_of(world, "1-101")
        payments.record_payment(None, bill.id, 2000, "cash", client_key="s")
        mine = payments.statement([world.rooms["1-101"]])
        assert mine.owed_fen == 5200 and len(mine.bills) == 1 and mine.payments[0].amount_fen == 2000
