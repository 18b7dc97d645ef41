"""Resident H5 pages: report from a QR token (forged/expired refused), uploads checked, my tickets, rating."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import StaffUser
from app.models.ticket import Ticket, TicketPhoto
from app.services import qr, tickets_flow
from app.wechat import h5
from ticket_world import MORNING


def _as(client, openid):
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid("test-secret-key", openid))


def _png(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _token(app, building_id, at=None):
    with app.app_context():
        if at is None:
            return qr.building_token(building_id)
        with clock.frozen_at(at):
            return qr.building_token(building_id)


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Ticket.id)))


def test_report_from_qr_with_photo(app, client, tw):
    _as(client, "o-res1")
    token = _token(app, tw.b1)
    page = client.get(f"/h5/report?t={token}")
    assert page.status_code == 200 and "1号楼" in page.text and "我家（1号楼1单元101室）" in page.text
    response = client.post("/h5/report", data={
        "t": token, "nonce": "n1", "kind": "report", "category": "lighting", "description": "三楼楼道灯不亮",
        "unit": str(tw.u1), "spot": "楼道", "photos": [(io.BytesIO(_png()), "lamp.png")]},
        content_type="multipart/form-data")
    assert response.status_code == 200, response.text
    assert "编号 BX-" in response.text
    # A double submit of the same form gives the same ticket.
    again = client.post("/h5/report", data={"t": token, "nonce": "n1", "kind": "report", "category": "lighting",
                                            "description": "三楼楼道灯不亮"})
    assert again.status_code == 200 and _count(app) == 1
    with app.app_context():
        ticket = db.session.scalars(select(Ticket)).one()
        assert ticket.spot == "楼道" and ticket.unit_id == tw.u1 and ticket.room_id is None
        photo = db.session.scalars(select(TicketPhoto)).one()
        assert photo.content_type == "image/png" and photo.size > 0
        ticket_id = ticket.id
    mine = client.get("/h5/tickets")
    assert "三楼楼道灯不亮" in mine.text and "新建" in mine.text
    assert client.get(f"/h5/tickets/{ticket_id}").status_code == 200
    _as(client, "o-res2")
    assert client.get(f"/h5/tickets/{ticket_id}").status_code == 404  # someone else's
    assert "三楼楼道灯不亮" not in client.get("/h5/tickets").text


def test_forged_expired_and_unknown_tokens_make_no_ticket(app, client, tw):
    _as(client, "o-res1")
    good = _token(app, tw.b1)
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    for token, words in [(forged, "无法识别"), ("nonsense", "无法识别"),
                         (_token(app, tw.b1, at=MORNING - timedelta(days=800)), "已过期")]:
        response = client.post("/h5/report", data={"t": token, "nonce": "x", "kind": "report", "category": "water",
                                                   "description": "漏水了"})
        assert response.status_code == 400 and words in response.text
        assert client.get(f"/h5/report?t={token}").status_code == 400
    assert _count(app) == 0


def test_non_image_and_oversized_uploads_refused(app, client, tw):
    _as(client, "o-res1")
    token = _token(app, tw.b1)
    response = client.post("/h5/report", data={
        "t": token, "nonce": "n2", "kind": "report", "category": "water", "description": "漏水了",
        "photos": [(io.BytesIO(b"%PDF-1.4 not a picture"), "photo.jpg")]}, content_type="multipart/form-data")
    assert response.status_code == 422 and "不是图片" in response.text
    app.config["TICKET_PHOTO_MAX"] = 200
    try:
        response = client.post("/h5/report", data={
            "t": token, "nonce": "n3", "kind": "report", "category": "water", "description": "漏水了",
            "photos": [(io.BytesIO(_png((400, 400))), "big.png")]}, content_type="multipart/form-data")
        assert response.status_code in (413, 422) and "太大" in response.text
    finally:
        app.config["TICKET_PHOTO_MAX"] = 5 * 1024 * 1024
    assert _count(app) == 0


def test_unbound_resident_reports_shared_area_only(app, client, tw):
    _as(client, "o-stranger")
    token = _token(app, tw.b1)
    page = client.get(f"/h5/report?t={token}")
    assert "我家" not in page.text
    response = client.post("/h5/report", data={"t": token, "nonce": "n4", "kind": "report", "category": "water",
                                               "description": "想报我家漏水", "room": str(tw.room1)})
    assert response.status_code == 200  # the room is ignored: it is not theirs
    with app.app_context():
        assert db.session.scalars(select(Ticket)).one().room_id is None
    assert client.get("/h5/report").status_code == 400  # no code scanned, no bound room


def test_same_problem_question_and_rating(app, client, tw):
    _as(client, "o-res1")
    token = _token(app, tw.b1)
    base = {"t": token, "kind": "report", "category": "water", "description": "水管漏水"}
    client.post("/h5/report", data={**base, "nonce": "a"})
    asked = client.post("/h5/report", data={**base, "nonce": "b", "description": "还在漏"})
    assert "是同一个问题吗" in asked.text
    with app.app_context():
        ticket_id = db.session.scalars(select(Ticket.id)).one()
    same = client.post("/h5/report", data={**base, "nonce": "b", "description": "还在漏", "same": "same",
                                           "ticket": str(ticket_id)})
    assert "已补充到" in same.text and _count(app) == 1
    with app.app_context():
        shequ = db.session.get(StaffUser, tw.staff["shequ"])
        tickets_flow.transition(shequ, ticket_id, "accept")
        tickets_flow.transition(shequ, ticket_id, "done", "换了水管")
    page = client.get(f"/h5/tickets/{ticket_id}")
    assert "请评价处理结果" in page.text and "换了水管" in page.text
    bad = client.post(f"/h5/tickets/{ticket_id}", data={"rating": "perfect"})
    assert bad.status_code == 422
    rated = client.post(f"/h5/tickets/{ticket_id}", data={"rating": "basic", "comment": "还行"})
    assert "已销号" in rated.text
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).status == "closed"
