"""Unit QR codes: tokens (old building codes stay valid), scans that start a report at the unit, the H5 page,
and the sheet with one page per unit."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.handlers.messages import TextReply
from app.models import Building, Estate, Unit
from app.models.ticket import Ticket, TicketPhoto
from app.services import qr
from app.services.errors import DomainError
from app.wechat import h5
from chatkit import run_table, send
from factories import login, make_building, make_unit
from ticket_world import MORNING


def _text(reply) -> str:
    assert isinstance(reply, TextReply), reply
    return reply.text


def _unit_of(building_id: int, number: str = "1") -> Unit:
    return db.session.scalars(select(Unit).where(Unit.building_id == building_id, Unit.number == number)).one()


def _token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


def _ticket() -> Ticket:
    return db.session.scalars(select(Ticket)).one()


def test_unit_token_round_trip_and_old_building_tokens(ctx, tw):
    b1 = db.session.get(Building, tw.b1)
    unit = db.session.get(Unit, tw.u1)
    assert qr.place_from_token(qr.building_token(tw.b1, tw.u1)) == (b1, unit)
    # Codes printed before units had their own still work: they name the building only.
    assert qr.place_from_token(qr.building_token(tw.b1)) == (b1, None)
    assert qr.building_from_token(qr.building_token(tw.b1, tw.u1)) == b1
    url = qr.report_url(b1, unit)
    assert url.startswith("http://localhost/h5/report?t=") and qr.place_from_token(_token_of(url)) == (b1, unit)
    assert qr.wechat_scene(b1, unit) == f"u:{tw.u1}" and qr.wechat_scene(b1) == f"b:{tw.b1}"
    assert qr.place_name(b1, unit) == "1号楼1单元" and qr.place_name(b1) == "1号楼"


def test_forged_expired_foreign_and_gone_unit_tokens(ctx, tw):
    token = qr.building_token(tw.b1, tw.u1)
    for bad in (token + "x", token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"), "nonsense"):
        with pytest.raises(DomainError, match="无法识别"):
            qr.place_from_token(bad)
    with clock.frozen_at(MORNING - timedelta(days=800)):
        old = qr.building_token(tw.b1, tw.u1)
    with pytest.raises(DomainError, match="已过期"):
        qr.place_from_token(old)
    # A unit of another building, and a unit deleted after printing: a clear message, not the wrong place.
    with pytest.raises(DomainError, match="这个单元已不在系统中"):
        qr.place_from_token(qr.building_token(tw.b1, _unit_of(tw.b2).id))
    spare = make_unit(db.session.get(Building, tw.b1), "9")
    db.session.commit()
    spare_token = qr.building_token(tw.b1, spare.id)
    db.session.delete(spare)
    db.session.commit()
    with pytest.raises(DomainError, match="这个单元已不在系统中"):
        qr.place_from_token(spare_token)
    with pytest.raises(DomainError, match="这个单元已不在系统中"):
        qr.building_from_token(spare_token)


def test_unit_code_content_plain_and_wechat(app, ctx, tw, monkeypatch):
    b1, unit = db.session.get(Building, tw.b1), db.session.get(Unit, tw.u1)
    content, kind = qr.code_content(b1, unit)
    assert kind == "h5" and qr.place_from_token(_token_of(content)) == (b1, unit)
    scenes = []

    class FakeClient:
        def create_qr(self, scene, expire_seconds=None):
            scenes.append(scene)
            return {"ticket": "T", "url": f"http://weixin.qq.com/q/{scene}", "image_url": "x"}

    monkeypatch.setitem(app.config, "WECHAT_PARAMETRIC_QR", True)
    monkeypatch.setattr("app.wechat.client.get_client", lambda: FakeClient())
    assert qr.code_content(b1, unit) == (f"http://weixin.qq.com/q/u:{tw.u1}", "wechat")
    assert scenes == [f"u:{tw.u1}"]


def test_unit_scan_starts_a_report_at_the_unit(ctx, tw):
    with clock.frozen_at(MORNING):
        # o-res2 lives in 2号楼; the code on 1号楼1单元's door says where, so no "几单元?" for a lamp.
        scanned = _text(send("o-res2", kind="scan", scene=f"u:{tw.u1}"))
        assert "幸福里小区1号楼1单元" in scanned and "请问哪里坏了" in scanned
        run_table("o-res2", [("楼道灯不亮", "地点：1号楼1单元"), ("1", "已登记报修，编号 BX-")])
    ticket = _ticket()
    assert (ticket.building_id, ticket.unit_id, ticket.category, ticket.source) == (tw.b1, tw.u1, "lighting", "chat")


def test_subscribe_by_unit_code_starts_a_report(ctx, tw):
    with clock.frozen_at(MORNING):
        welcome = _text(send("o-new", kind="subscribe", scene=f"qrscene_u:{tw.u1}"))
        assert "感谢关注" in welcome and "1号楼1单元" in welcome and "请问哪里坏了" in welcome
        run_table("o-new", [("电梯停了", "地点：1号楼1单元"), ("对", "已登记报修")])
    assert (_ticket().building_id, _ticket().unit_id) == (tw.b1, tw.u1)


def test_unit_scan_inside_an_open_report_sets_the_place(ctx, tw):
    with clock.frozen_at(MORNING):
        # A photo first opens a report; the scan then says where.
        assert "请问是哪里坏了" in _text(send("o-res2", kind="image", media_id="MEDIA-U1"))
        assert "请问哪里坏了" in _text(send("o-res2", kind="scan", scene=f"u:{tw.u1}"))
        run_table("o-res2", [("单元门关不上", "地点：1号楼1单元\n附件：1个")])
        # Changed the place to 2号楼, then scanned 1号楼1单元 while asked "几单元?": the scan is where one stands.
        run_table("o-res2", [("2", "哪栋楼"), ("2号楼", "2号楼的几单元")])
        assert "地点：1号楼1单元" in _text(send("o-res2", kind="scan", scene=f"u:{tw.u1}"))
        run_table("o-res2", [("1", "已登记报修")])
    assert (_ticket().building_id, _ticket().unit_id) == (tw.b1, tw.u1)
    assert db.session.scalars(select(TicketPhoto.media_id)).all() == ["MEDIA-U1"]


@pytest.mark.parametrize("scene", ["u:999999", "qrscene_u:999999", "u:abc", "x:1", "u:"])
def test_unknown_or_forged_unit_scene(ctx, tw, scene):
    assert "二维码无法识别" in _text(send("o-res1", kind="scan", scene=scene))
    welcome = _text(send("o-other", kind="subscribe", scene=scene))
    assert "感谢关注" in welcome and "二维码无法识别" in welcome


def _as(client, openid):
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid("test-secret-key", openid))


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Ticket.id)))


def test_h5_unit_code_preselects_the_unit_and_records_it(app, client, tw):
    with app.app_context():
        unit2 = make_unit(db.session.get(Building, tw.b1), "2")
        db.session.commit()
        unit2_id, token = unit2.id, qr.building_token(tw.b1, unit2.id)
    _as(client, "o-res1")
    page = client.get(f"/h5/report?t={token}")
    assert page.status_code == 200 and "幸福里小区 1号楼2单元 · 报修投诉" in page.text
    assert f'<option value="{unit2_id}" selected>2单元</option>' in page.text
    assert f'<option value="{tw.u1}" selected>' not in page.text
    # The form sends the preselected unit back.
    response = client.post("/h5/report", data={"t": token, "nonce": "u1", "kind": "report", "category": "lighting",
                                                "description": "二单元楼道灯不亮", "unit": str(unit2_id)})
    assert response.status_code == 200 and "编号 BX-" in response.text, response.text
    # A form without the unit field (an old page) still lands on the scanned unit.
    response = client.post("/h5/report", data={"t": token, "nonce": "u2", "kind": "report", "category": "water",
                                                "description": "二单元地下室漏水"})
    assert response.status_code == 200 and "编号 BX-" in response.text, response.text
    with app.app_context():
        assert [(t.building_id, t.unit_id) for t in db.session.scalars(select(Ticket).order_by(Ticket.id))] == [
            (tw.b1, unit2_id), (tw.b1, unit2_id)]
        assert db.session.scalars(select(Ticket).order_by(Ticket.id)).first().where == "1号楼2单元"


def test_h5_resident_may_change_the_preselected_unit(app, client, tw):
    with app.app_context():
        token = qr.building_token(tw.b1, tw.u1)
    _as(client, "o-res1")
    response = client.post("/h5/report", data={"t": token, "nonce": "c1", "kind": "report", "category": "greening",
                                                "description": "门口的树倒了", "unit": ""})
    assert response.status_code == 200, response.text
    with app.app_context():
        assert (_ticket().building_id, _ticket().unit_id) == (tw.b1, None)


def test_h5_foreign_unit_token_makes_no_ticket(app, client, tw):
    with app.app_context():
        foreign = qr.building_token(tw.b1, _unit_of(tw.b2).id)
    _as(client, "o-res1")
    assert "这个单元已不在系统中" in client.get(f"/h5/report?t={foreign}").text
    response = client.post("/h5/report", data={"t": foreign, "nonce": "f1", "kind": "report", "category": "water",
                                                "description": "漏水了", "unit": str(tw.u1)})
    assert response.status_code == 400 and "这个单元已不在系统中" in response.text
    assert _count(app) == 0


def _sheet_world(tw) -> Estate:
    """1号楼 with units 1 and 2, 2号楼 with unit 1, 3号楼 without units (one unnamed unit)."""
    estate = db.session.get(Estate, tw.estate)
    make_unit(db.session.get(Building, tw.b1), "2")
    make_unit(make_building(estate, "3"), "")
    db.session.commit()
    db.session.expire_all()
    return estate


def test_sheet_pages_per_building_and_per_unit(ctx, tw, monkeypatch):
    estate = _sheet_world(tw)
    assert len(PdfReader(io.BytesIO(qr.qr_sheet_pdf(estate))).pages) == 3
    printed = []
    real_png = qr.qr_png
    monkeypatch.setattr(qr, "qr_png", lambda data, **kw: printed.append(data) or real_png(data, **kw))
    reader = PdfReader(io.BytesIO(qr.qr_sheet_pdf(estate, units=True)))
    titles = [page.extract_text().split("\n")[1].strip() for page in reader.pages]
    assert titles == ["1号楼", "1号楼1单元", "1号楼2单元", "2号楼", "2号楼1单元", "3号楼"]
    assert all("幸福里小区" in p.extract_text() and "扫一扫" in p.extract_text() for p in reader.pages)
    # Each page's code names its own place.
    places = [qr.place_from_token(_token_of(url)) for url in printed]
    assert [qr.place_name(b, u) for b, u in places] == titles


def test_cli_units_option_and_dashboard_button(app, client, tw, tmp_path):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from app.cli import cli

    with app.app_context():
        _sheet_world(tw)
    target = tmp_path / "units.pdf"
    result = CliRunner().invoke(cli, ["qr-sheet", "幸福里小区", "--units", "-o", str(target)],
                                obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    assert "3 栋楼、3 个单元" in result.output and len(PdfReader(str(target)).pages) == 6
    login(client, "shequ")
    ledger = client.get("/admin/tickets").text
    assert "按单元打印" in ledger and f"/admin/tickets/qr-sheet/{tw.estate}.pdf?units=1" in ledger
    response = client.get(f"/admin/tickets/qr-sheet/{tw.estate}.pdf?units=1")
    assert response.status_code == 200 and len(PdfReader(io.BytesIO(response.data)).pages) == 6
    assert "单元二维码" in unquote(response.headers["Content-Disposition"])
    assert len(PdfReader(io.BytesIO(client.get(f"/admin/tickets/qr-sheet/{tw.estate}.pdf").data)).pages) == 3
    assert client.get(f"/admin/tickets/qr-sheet/{tw.other_estate}.pdf?units=1").status_code == 404
