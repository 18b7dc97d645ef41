"""Dashboard pages: the ledger in scope, detail with timeline, transitions, bulk, board, export, notices."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import OutboxMessage
from app.models.notice import Notice
from app.models.ticket import Ticket
from app.services.tickets import create_ticket
from factories import login


def _tickets(app, tw, late=False):
    with app.app_context():
        start = clock.now() - (timedelta(days=3) if late else timedelta(0))
        with clock.frozen_at(start):
            a = create_ticket(openid="o-res1", kind="report", category="water", description="一号楼漏水",
                              building_id=tw.b1).ticket.id
            b = create_ticket(openid="o-res2", kind="report", category="lighting", description="二号楼灯坏",
                              building_id=tw.b2).ticket.id
        return a, b


def test_ledger_scope_and_overdue(app, client, tw):
    a, b = _tickets(app, tw, late=True)
    login(client, "lzz1")
    page = client.get("/admin/tickets")
    assert "一号楼漏水" in page.text and "二号楼灯坏" not in page.text
    assert 'class="overdue"' in page.text and "超期" in page.text
    assert client.get(f"/admin/tickets/{b}").status_code == 404
    client.post("/logout")
    login(client, "shequ")
    page = client.get("/admin/tickets?category=lighting")
    assert "二号楼灯坏" in page.text and "一号楼漏水" not in page.text
    assert "一号楼漏水" in client.get("/admin/tickets?overdue=1").text
    client.post("/logout")
    login(client, "waibu")
    assert "漏水" not in client.get("/admin/tickets").text


def test_detail_transitions_and_bulk(app, client, tw):
    a, b = _tickets(app, tw)
    login(client, "shequ")
    page = client.get(f"/admin/tickets/{a}")
    assert "张三" in page.text and "138****1234" in page.text and "13812341234" not in page.text
    assert "办理记录" in page.text
    response = client.post(f"/admin/tickets/{a}/act", data={"action": "assign", "handler_id": tw.staff["fuwu"]})
    assert response.status_code == 302
    client.post(f"/admin/tickets/{a}/act", data={"action": "accept"})
    client.post(f"/admin/tickets/{a}/act", data={"action": "done", "note": "已换水管"})
    page = client.get(f"/admin/tickets/{a}")
    assert "已换水管" in page.text and "已办结" in page.text
    bad = client.post(f"/admin/tickets/{a}/act", data={"action": "start"}, follow_redirects=True)
    assert "不能开始处理" in bad.text
    bulk = client.post("/admin/tickets/bulk", data={"ids": [str(a), str(b)], "action": "accept"},
                       follow_redirects=True)
    assert "已处理 1 件" in bulk.text and "不能受理" in bulk.text
    with app.app_context():
        assert db.session.get(Ticket, b).status == "accepted"


def test_board_and_export(app, client, tw):
    a, _b = _tickets(app, tw)
    login(client, "shequ")
    client.post(f"/admin/tickets/{a}/act", data={"action": "accept"})
    client.post(f"/admin/tickets/{a}/act", data={"action": "done", "note": "好了"})
    page = client.get("/admin/tickets/board")
    assert page.status_code == 200 and "shequ" in page.text and "100%" in page.text
    month = clock.now().strftime("%Y-%m")
    response = client.get(f"/admin/tickets/export.xlsx?estate={tw.estate}&month={month}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book["投诉台账"].iter_rows(values_only=True))
    assert rows[1][0] == "编号" and len(rows) == 4
    assert "张三" not in str(rows) and "13812341234" not in str(rows)  # no reporter details in the export
    assert list(book["红黑榜"].iter_rows(values_only=True))[1][0] == "shequ"
    client.post("/logout")
    login(client, "lzz1")
    assert client.get("/admin/tickets/board").status_code == 404  # office roles only


def test_publish_notice_from_the_page(app, client, tw):
    login(client, "lzz1")
    refused = client.post("/admin/notices", data={"estate": tw.estate, "kind": "water", "title": "停水",
                                                  "body": "明天停水"})
    assert refused.status_code == 422 and "自己负责的楼栋" in refused.text
    ok = client.post("/admin/notices", data={"estate": tw.estate, "kind": "water", "title": "明天停水",
                                             "body": "9点到15点停水", "buildings": [str(tw.b1)]},
                     follow_redirects=True)
    assert "1 位住户会收到通知" in ok.text
    with app.app_context():
        notice = db.session.scalars(select(Notice)).one()
        assert notice.building_ids == [tw.b1]
        message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "template")).one()
        assert message.openid == "o-res1" and message.payload["values"]["title"] == "【停水】明天停水"


def test_estate_deadlines_page(app, client, tw):
    login(client, "shequ")
    assert "办理时限" in client.get(f"/admin/tickets/deadlines/{tw.estate}").text
    bad = client.post(f"/admin/tickets/deadlines/{tw.estate}", data={"water": "两天"})
    assert bad.status_code == 422 and "整数小时" in bad.text
    client.post(f"/admin/tickets/deadlines/{tw.estate}", data={"water": "6"})
    with app.app_context():
        with clock.frozen_at(clock.now()):
            ticket = create_ticket(openid="o-res1", kind="report", category="water", description="漏水",
                                   building_id=tw.b1).ticket
            assert ticket.deadline == clock.now() + timedelta(hours=6)
    assert client.get(f"/admin/tickets/deadlines/{tw.other_estate}").status_code == 404
    client.post("/logout")
    login(client, "lzz1")
    assert client.get(f"/admin/tickets/deadlines/{tw.estate}").status_code == 404


def test_photos_are_served_only_in_scope(app, client, tw):
    import io as _io

    from PIL import Image

    from app.models.ticket import TicketPhoto
    from app.services.tickets import store_photo

    buffer = _io.BytesIO()
    Image.new("RGB", (20, 20), (0, 90, 200)).save(buffer, format="JPEG")
    with app.app_context():
        stored = store_photo(buffer.getvalue(), "a.jpg")
        ticket = create_ticket(openid="o-res1", kind="report", category="water", description="漏水",
                               building_id=tw.b1, uploads=[stored]).ticket
        photo_id = db.session.scalars(select(TicketPhoto.id).where(TicketPhoto.ticket_id == ticket.id)).one()
    login(client, "lzz1")
    response = client.get(f"/admin/tickets/photos/{photo_id}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert f"/admin/tickets/photos/{photo_id}" in client.get(f"/admin/tickets/{ticket.id}").text
    client.post("/logout")
    login(client, "lzz2")
    assert client.get(f"/admin/tickets/photos/{photo_id}").status_code == 404


def test_bulk_merge_then_incident_notice(app, client, tw):
    with app.app_context():
        with clock.frozen_at(clock.now() - timedelta(hours=8)):
            a = create_ticket(openid="o-a", kind="report", category="water", description="没水了",
                              building_id=tw.b1).ticket.id
        b = create_ticket(openid="o-b", kind="report", category="water", description="停水了吗",
                          building_id=tw.b1).ticket.id
    login(client, "shequ")
    merged = client.post("/admin/tickets/bulk", data={"ids": [str(a), str(b)], "action": "merge"},
                         follow_redirects=True)
    assert "已合并为事件" in merged.text and "为此事件发布通知" in merged.text
    form = client.get(f"/admin/notices?ticket={a}")
    assert f'name="ticket" value="{a}"' in form.text
    wrong = client.post("/admin/notices", data={"estate": tw.other_estate, "kind": "water", "title": "停水",
                                                "body": "", "ticket": a})
    assert wrong.status_code in (404, 422)
    done = client.post("/admin/notices", data={"estate": tw.estate, "kind": "water", "title": "1号楼停水抢修",
                                               "body": "管道爆裂，正在抢修", "buildings": [str(tw.b1)], "urgent": "1",
                                               "ticket": a}, follow_redirects=True)
    assert "住户会收到通知" in done.text
    with app.app_context():
        notice = db.session.scalars(select(Notice)).one()
        assert notice.ticket_id == a and notice.urgent
        assert db.session.get(Ticket, b).status == "merged"
