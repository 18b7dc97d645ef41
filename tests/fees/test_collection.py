"""The collection notice: exact aggregates per building, never a room or a name (data, H5 page, PNG); levies;
the building head sees only their own building's arrears; visits and lawful 催告 letters are recorded."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Estate, Room, StaffUser
from app.models.fee import Bill, FeeSchedule, Reminder, Visit
from app.services import arrears, billing, collection, fonts, payments
from app.services.errors import DomainError, NotFound, PermissionDenied
from app.services.fees import split_cost
from factories import login
from fee_world import build


@pytest.fixture
def world(app):
    with app.app_context():
        w = build()
        billing.generate_bills(db.session.get(FeeSchedule, w.schedule_id), date(2026, 1, 1))
        for key, fen in (("1-101", 7200), ("1-102", 5000), ("2-201", 5400)):
            bill = db.session.scalar(select(Bill).where(Bill.room_id == w.rooms[key]))
            payments.record_payment(None, bill.id, fen, "cash", client_key=key)
        return w


def test_notice_aggregates_per_building(app, world):
    with app.app_context():
        item = collection.notice(db.session.get(Estate, world.estate_id))
        one, two = item.rows
        assert (one.name, one.billable, one.paid, one.unpaid) == ("1号楼", 3, 1, 2)
        assert (one.receivable_fen, one.collected_fen) == (7200 + 9045 + 5400, 12200)
        assert one.household_rate == "33.3%" and one.amount_rate == "56.4%"  # 12200 / 21645 = 56.36%
        assert (two.paid, two.collected_fen, item.total.billable, item.total.paid) == (1, 5400, 6, 2)
        assert item.total.receivable_fen == 2 * 21645


def test_percent_is_exact_and_rounds_half_up():
    assert collection.percent(1, 8) == "12.5%"
    assert collection.percent(1, 3) == "33.3%"
    assert collection.percent(2, 3) == "66.7%"
    assert collection.percent(0, 0) == "—"


def test_notice_page_and_png_hold_no_room_or_name(app, client, world):
    page = client.get(f"/h5/fees/notice/{world.estate_id}").get_data(as_text=True)
    assert "收缴情况公示" in page and "<svg" in page and "33.3%" in page
    assert not re.search(r"\d{3}室|业主\d|1381234", page)
    for number in ("101", "102", "201"):
        assert f">{number}<" not in page and f"{number}室" not in page
    png = client.get(f"/h5/fees/notice/{world.estate_id}.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    image = Image.open(BytesIO(png.data))
    assert image.width == 1080 and image.height > 400
    assert client.get(f"/h5/fees/notice/{world.estate_id}?period=2030-01-01").status_code == 404


def test_png_without_the_chinese_font_is_an_error_not_english(app, world, monkeypatch):
    # The font comes with Linli's dependencies; if it is missing, the PNG is refused (it used to fall back to
    # English labels, which no resident could read) with a message saying how to reinstall.
    with app.app_context():
        item = collection.notice(db.session.get(Estate, world.estate_id))
    try:
        with monkeypatch.context() as patch:
            patch.setattr(fonts, "FONT_PACKAGE", "no_such_font_package")
            fonts.cjk_font_path.cache_clear()
            fonts.pil_font.cache_clear()
            with pytest.raises(fonts.FontMissing, match="中文字体.*bootstrap"):
                collection.notice_png(item)
    finally:
        fonts.cjk_font_path.cache_clear()
        fonts.pil_font.cache_clear()
    assert Image.open(BytesIO(collection.notice_png(item))).width == 1080


def test_levy_bills_follow_split_cost_exactly(app, world):
    with app.app_context():
        estate = db.session.get(Estate, world.estate_id)
        rooms = db.session.scalars(select(Room).where(Room.building_id == world.buildings["1"]).order_by(Room.id)).all()
        levy, shares = billing.create_levy(estate, "building", world.buildings["1"], "屋面防水维修", 100_000,
                                           date(2026, 6, 30), "test")
        db.session.commit()
        expected = split_cost(100_000, [(str(r.id), r.area) for r in rooms])
        bills = {b.room_id: b.amount_fen for b in db.session.scalars(select(Bill).where(Bill.levy_id == levy.id))}
        assert bills == {int(k): v for k, v in expected.items()} and sum(bills.values()) == 100_000
        assert levy.total_area == Decimal("240.50") and levy.room_count == 3
        assert [s.share_fen for s in shares] == [expected[str(r.id)] for r in rooms]
        with pytest.raises(DomainError, match="单元或楼栋"):
            billing.create_levy(estate, "estate", estate.id, "x", 100, date(2026, 6, 30), "test")
        db.session.get(Room, rooms[0].id).area = None
        with pytest.raises(DomainError, match="没有登记面积"):
            billing.preview_levy(estate, "building", world.buildings["1"], 100)


def test_building_head_sees_only_their_building(app, world):
    with app.app_context(), clock.frozen_at(datetime(2026, 3, 1, 10)):
        estate = db.session.get(Estate, world.estate_id)
        head = db.session.get(StaffUser, world.users["lzz1"])
        rows = arrears.arrears(head, estate)
        assert {r.label for r in rows} == {"1号楼1单元102室", "1号楼1单元201室"}
        assert all(r.phone == "" for r in rows)  # phones only when the estate allows it
        assert {r.owed_fen for r in rows} == {4045, 5400}
        office = arrears.arrears(db.session.get(StaffUser, world.users["shequ"]), estate)
        assert len(office) == 4 and all(re.fullmatch(r"138\*{4}\d{4}", r.phone) for r in office)
        assert arrears.arrears(head, estate, world.buildings["2"]) == []


def test_building_head_pages_stop_at_their_building(app, client, world):
    login(client, "lzz1")
    page = client.get(f"/admin/fees/{world.estate_id}/bills").get_data(as_text=True)
    assert "1号楼1单元102室" in page and "2号楼" not in page
    assert client.get(f"/admin/fees/{world.estate_id}/bills?building_id={world.buildings['2']}").status_code == 404
    with app.app_context():
        other = db.session.scalar(select(Bill).where(Bill.room_id == world.rooms["2-101"])).id
    client.post(f"/admin/fees/bills/{other}/pay", data={"amount": "10", "method": "cash", "form_key": "f1"})
    with app.app_context():
        assert db.session.get(Bill, other).paid_fen == 0
    assert client.get(f"/admin/fees/{world.estate_id}/ledger").status_code == 404  # office only


def test_visit_logging_from_chat_text(app, world):
    with app.app_context(), clock.frozen_at(datetime(2026, 3, 10, 10)):
        head = db.session.get(StaffUser, world.users["lzz1"])
        room, note = arrears.find_head_room(head, "已上门 102 答应月底交")
        assert room.id == world.rooms["1-102"] and note == "答应月底交"
        visit = arrears.log_visit(head, room, note)
        assert visit.promised_on == date(2026, 3, 31)
        with pytest.raises(NotFound):
            arrears.find_head_room(head, "已上门 301 不在家")
        with pytest.raises(PermissionDenied):
            arrears.log_visit(head, db.session.get(Room, world.rooms["2-101"]), "答应交")
        with pytest.raises(DomainError, match="请这样写"):
            arrears.find_head_room(head, "上门了")
        assert arrears.parse_promise("说15号交", date(2026, 3, 20)) == date(2026, 4, 15)
        assert db.session.scalar(select(func.count(Visit.id))) == 1


def test_letters_are_lawful_dated_and_recorded(app, world):
    with app.app_context(), clock.frozen_at(datetime(2026, 4, 1, 10)):
        estate = db.session.get(Estate, world.estate_id)
        office = db.session.get(StaffUser, world.users["shequ"])
        with pytest.raises(PermissionDenied):
            arrears.letters_pdf(db.session.get(StaffUser, world.users["lzz1"]), estate, [world.rooms["1-102"]])
        pdf = arrears.letters_pdf(office, estate, [world.rooms["1-102"], world.rooms["1-101"]])
        assert pdf.startswith(b"%PDF")
        letters = db.session.scalars(select(Reminder).where(Reminder.stage == "letter")).all()
        assert len(letters) == 1 and letters[0].detail["letter_no"].endswith("-1")  # 1-101 has paid: no letter
        arrears.letters_pdf(office, estate, [world.rooms["1-102"]])
        assert db.session.scalar(select(func.max(Reminder.seq)).where(Reminder.stage == "letter")) == 2
        text = "".join(arrears.LETTER_BODY)
        assert "不影响您正常使用水、电、气、暖" in text and "依法" in text
        for threat in ("停水", "停电", "曝光", "公布姓名", "滞纳金"):
            assert threat not in text
