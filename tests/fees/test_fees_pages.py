"""Dashboard and H5 pages: schedules, generation, payment entry (double submit once), levies, ledger with receipts
and XLSX, letters, the monthly report; my bills on H5 for the signed-in owner only."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models.fee import Bill, FeePayment, FeeSchedule, LedgerEntry, Levy, MonthlyReport, Reminder
from app.services import billing
from app.wechat import h5
from factories import login
from fee_world import build

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


@pytest.fixture
def world(app):
    with app.app_context():
        return build(schedule=False)


def test_office_sets_a_schedule_generates_and_records_payments(app, client, world):
    login(client, "shequ")
    assert client.get("/admin/fees").status_code == 200
    page = f"/admin/fees/{world.estate_id}"
    client.post(page, data={"action": "schedule", "basis": "per_area", "rate": "0.30", "cycle": "quarterly",
                            "starts_on": "2026-01-01", "due_days": "15"})
    bad = client.post(page, data={"action": "schedule", "basis": "per_area", "rate": "-1", "cycle": "quarterly",
                                  "starts_on": "2027-01-01"}, follow_redirects=True).get_data(as_text=True)
    assert "不能为负数" in bad
    with app.app_context():
        schedule = db.session.scalar(select(FeeSchedule))
        assert schedule.rate_fen == 30 and schedule.describe == "0.30 元/㎡/月，按季缴纳"
        schedule_id = schedule.id
    done = client.post(page, data={"action": "generate", "schedule_id": schedule_id, "day": "2026-02-01"},
                       follow_redirects=True).get_data(as_text=True)
    assert "新生成 6 张" in done
    with app.app_context():
        bill = db.session.scalar(select(Bill).where(Bill.room_id == world.rooms["1-102"]))
        bill_id = bill.id
    form = {"amount": "50.45", "method": "cash", "form_key": "same-form"}
    first = client.post(f"/admin/fees/bills/{bill_id}/pay", data=form, follow_redirects=True).get_data(as_text=True)
    again = client.post(f"/admin/fees/bills/{bill_id}/pay", data=form, follow_redirects=True).get_data(as_text=True)
    assert "已登记 50.45 元" in first and "没有重复入账" in again
    too_much = client.post(f"/admin/fees/bills/{bill_id}/pay", data={"amount": "41", "method": "cash",
                                                                     "form_key": "k2"}, follow_redirects=True)
    assert "超过了应缴的 40.00 元" in too_much.get_data(as_text=True)
    odd = client.post(f"/admin/fees/bills/{bill_id}/pay", data={"amount": "1.234", "method": "cash", "form_key": "k3"},
                      follow_redirects=True)
    assert "精确到分" in odd.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(FeePayment.id))) == 1
        payment_id = db.session.scalar(select(FeePayment.id))
    client.post(f"/admin/fees/payments/{payment_id}/reverse", data={"kind": "correction", "reason": "记错了",
                                                                    "form_key": "r1"})
    with app.app_context():
        assert db.session.scalars(select(FeePayment.amount_fen).order_by(FeePayment.id)).all() == [5045, -5045]
    assert "50.45" in client.get(f"/admin/fees/{world.estate_id}/bills?status=all").get_data(as_text=True)


def test_levy_preview_then_create(app, client, world):
    login(client, "shequ")
    url = f"/admin/fees/{world.estate_id}/levies"
    form = {"scope": f"building:{world.buildings['1']}", "title": "屋面防水", "total": "1000", "due_on": "2026-06-30"}
    preview = client.post(url, data={**form, "action": "preview"}).get_data(as_text=True)
    assert "试算结果" in preview and "1000.00" in preview
    with app.app_context():
        assert db.session.scalar(select(func.count(Bill.id))) == 0
    client.post(url, data={**form, "action": "create"})
    with app.app_context():
        assert db.session.scalar(select(func.sum(Bill.amount_fen)).where(Bill.kind == "levy")) == 100_000
        assert db.session.scalar(select(func.count(Levy.id))) == 1


def test_ledger_entries_receipts_reversal_and_xlsx(app, client, world):
    login(client, "shequ")
    url = f"/admin/fees/{world.estate_id}/ledger?year=2026&month=5"
    with clock.frozen_at(datetime(2026, 5, 20, 10)):
        client.post(url, data={"direction": "income", "category": "parking", "amount": "1800", "occurred_on": "2026-05-10",
                               "description": "停车位月租"})
        refused = client.post(url, data={"direction": "expense", "category": "cleaning", "amount": "300",
                                         "occurred_on": "2026-05-11", "description": "保洁"}, follow_redirects=True)
        assert "需要上传" in refused.get_data(as_text=True)
        client.post(url, data={"direction": "expense", "category": "cleaning", "amount": "300", "occurred_on": "2026-05-11",
                               "description": "保洁", "receipt": (BytesIO(PNG), "r.png")},
                    content_type="multipart/form-data")
        typed_fee = client.post(url, data={"direction": "income", "category": "fee", "amount": "10",
                                           "occurred_on": "2026-05-11", "description": "物业费"}, follow_redirects=True)
        assert "自动汇总" in typed_fee.get_data(as_text=True)
    with app.app_context():
        entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
        assert [e.amount_fen for e in entries] == [180_000, 30_000]
        receipt = entries[1].receipt_file
        parking_id = entries[0].id
    with clock.frozen_at(datetime(2026, 5, 21, 10)):
        client.post(url, data={"action": "reverse", "entry_id": parking_id, "reason": "记重了"})
    public = client.get(f"/h5/fees/ledger/{world.estate_id}?year=2026&month=5").get_data(as_text=True)
    assert "停车位" in public and "结余 -300.00 元" in public
    assert client.get(f"/h5/fees/ledger/{world.estate_id}/receipt/{receipt}").data == PNG
    assert client.get(f"/h5/fees/ledger/{world.estate_id}/receipt/../../etc").status_code == 404
    book = load_workbook(BytesIO(client.get(url + "&format=xlsx").data))
    assert book.sheetnames == ["月度汇总", "收支明细"]
    assert [row[5] for row in book["收支明细"].iter_rows(min_row=2, values_only=True)] == [1800, 300, -1800]


def test_monthly_report_once_per_street_and_month(app, client, world):
    with app.app_context():
        schedule = billing.create_schedule(_estate(world), basis="flat", rate_fen=2000, cycle="monthly",
                                           starts_on=date(2026, 3, 1), due_days=10)
        billing.generate_bills(schedule, date(2026, 3, 1))
        from app.services.ledger import generate_monthly_reports

        assert generate_monthly_reports(date(2026, 4, 1)) == 1
        assert generate_monthly_reports(date(2026, 4, 2)) == 0
        report = db.session.scalar(select(MonthlyReport))
        row = report.data["rows"][0]
        assert row["本月到期账单"] == 6 and row["按户收缴率"] == "0.0%" and row["覆盖率"] == "50.0%"
    login(client, "shequ")
    assert "2026年3月" in client.get("/admin/fees/reports").get_data(as_text=True)


def _estate(world):
    from app.models import Estate

    return db.session.get(Estate, world.estate_id)


def test_letters_pdf_from_the_arrears_page(app, client, world):
    with app.app_context():
        schedule = billing.create_schedule(_estate(world), basis="per_area", rate_fen=30, cycle="monthly",
                                           starts_on=date(2026, 1, 1), due_days=10)
        billing.generate_bills(schedule, date(2026, 1, 1))
    login(client, "shequ")
    with clock.frozen_at(datetime(2026, 3, 1, 10)):
        page = client.get(f"/admin/fees/{world.estate_id}/arrears").get_data(as_text=True)
        assert "1号楼1单元101室" in page and "打印所选住户的催告函" in page
        pdf = client.post(f"/admin/fees/{world.estate_id}/letters", data={"room_id": [world.rooms["1-101"]]})
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    with app.app_context():
        assert db.session.scalar(select(func.count(Reminder.id)).where(Reminder.stage == "letter")) == 1


def test_my_bills_on_h5(app, client, world):
    with app.app_context():
        schedule = billing.create_schedule(_estate(world), basis="per_area", rate_fen=30, cycle="quarterly",
                                           starts_on=date(2026, 1, 1), due_days=15)
        billing.generate_bills(schedule, date(2026, 1, 1))
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid(app.config["SECRET_KEY"], "o-1-102"))
    page = client.get("/h5/fees").get_data(as_text=True)
    assert "我还欠多少" in page and "90.45 元" in page and "100.50㎡ × 3个月" in page
    assert "1号楼1单元101室" not in page  # another household's bill
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid(app.config["SECRET_KEY"], "o-stranger"))
    assert "去绑定房屋" in client.get("/h5/fees").get_data(as_text=True)
