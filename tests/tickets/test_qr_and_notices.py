"""The building QR sheet (PDF rendered to PNG, code decodes to a valid token), the CLI, and notices."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Building, Estate, OutboxMessage, StaffUser
from app.models.notice import Notice
from app.services import notices, qr
from app.services.errors import DomainError, PermissionDenied
from ticket_world import MORNING, bind
from factories import login


def test_token_round_trip_and_refusals(ctx, tw):
    token = qr.building_token(tw.b1)
    assert qr.building_from_token(token).id == tw.b1
    with pytest.raises(DomainError, match="无法识别"):
        qr.building_from_token(token + "x")
    with pytest.raises(DomainError, match="无法识别"):
        qr.building_from_token("")
    with clock.frozen_at(MORNING - timedelta(days=800)):
        old = qr.building_token(tw.b1)
    with pytest.raises(DomainError, match="已过期"):
        qr.building_from_token(old)
    assert qr.report_url(db.session.get(Building, tw.b1)).startswith("http://localhost/h5/report?t=")


def test_qr_sheet_pdf_renders_one_page_per_building(ctx, tw, tmp_path):
    estate = db.session.get(Estate, tw.estate)
    data = qr.qr_sheet_pdf(estate)
    assert data.startswith(b"%PDF")
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(data)
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm 未安装")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 2  # buildings 1 and 2
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
        assert "幸福里小区" in text and "1号楼" in text and "扫一扫" in text


def test_code_content_plain_and_wechat(app, ctx, tw, monkeypatch):
    building = db.session.get(Building, tw.b1)
    content, kind = qr.code_content(building)
    assert kind == "h5"
    assert qr.building_from_token(parse_qs(urlsplit(content).query)["t"][0]).id == tw.b1
    calls = []

    class FakeClient:
        def create_qr(self, scene, expire_seconds=None):
            calls.append(scene)
            return {"ticket": "T", "url": "http://weixin.qq.com/q/abc", "image_url": "x"}

    monkeypatch.setitem(app.config, "WECHAT_PARAMETRIC_QR", True)
    monkeypatch.setattr("app.wechat.client.get_client", lambda: FakeClient())
    assert qr.code_content(building) == ("http://weixin.qq.com/q/abc", "wechat")
    assert calls == [f"b:{tw.b1}"]


def test_cli_and_dashboard_button(app, client, tw, tmp_path):
    target = tmp_path / "out.pdf"
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from app.cli import cli

    def invoke(*args):
        return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))

    result = invoke("qr-sheet", "幸福里小区", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF") and "2 栋楼" in result.output
    assert "没有找到" in invoke("qr-sheet", "不存在小区").output
    login(client, "shequ")
    response = client.get(f"/admin/tickets/qr-sheet/{tw.estate}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert client.get(f"/admin/tickets/qr-sheet/{tw.other_estate}.pdf").status_code == 404


def _messages():
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "template")))


def test_notice_targets_quiet_hours_and_board(ctx, tw):
    shequ = db.session.get(StaffUser, tw.staff["shequ"])
    night = MORNING.replace(hour=22)
    with clock.frozen_at(night):
        notice = notices.publish_notice(shequ, tw.estate, kind="water", title="明天停水", body="9点到15点",
                                        building_ids=[tw.b1], valid_until=night + timedelta(days=1))
        assert notice.recipients == 1
        message = _messages()[0]
        assert message.openid == "o-res1" and message.next_attempt_at == (night + timedelta(days=1)).replace(hour=8)
        urgent = notices.publish_notice(shequ, tw.estate, kind="emergency", title="燃气泄漏", body="请勿用火")
        assert urgent.urgent and urgent.recipients == 2
        assert all(m.next_attempt_at == night for m in _messages() if m.idempotency_key.startswith(f"notice:{urgent.id}:"))
        assert [n.title for n in notices.current_notices_for("o-res1")] == ["燃气泄漏", "明天停水"]
        assert [n.title for n in notices.current_notices_for("o-res2")] == ["燃气泄漏"]
        assert notices.current_notices_for("o-nobody") == []
    with clock.frozen_at(night + timedelta(days=2)):
        assert [n.title for n in notices.current_notices_for("o-res1")] == ["燃气泄漏"]
    with pytest.raises(DomainError, match="不属于这个小区"):
        notices.publish_notice(shequ, tw.estate, kind="water", title="x", body="", building_ids=[tw.other_building])
    with pytest.raises(PermissionDenied):
        notices.publish_notice(db.session.get(StaffUser, tw.staff["lzz1"]), tw.estate, kind="water", title="x",
                               body="", building_ids=[tw.b2])
    with pytest.raises(DomainError):
        notices.publish_notice(shequ, tw.estate, kind="party", title="x", body="")


def test_h5_notice_board(app, client, tw):
    from app.wechat import h5

    with app.app_context():
        notices.publish_notice(db.session.get(StaffUser, tw.staff["shequ"]), tw.estate, kind="event",
                               title="周六义诊", body="社区卫生站在1号楼前义诊", building_ids=[tw.b1])
        notice_id = db.session.scalars(select(Notice.id)).one()
        bind("o-late", tw.room2)
        db.session.commit()
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid("test-secret-key", "o-res1"))
    assert "周六义诊" in client.get("/h5/notices").text
    assert "义诊" in client.get(f"/h5/notices/{notice_id}").text
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid("test-secret-key", "o-late"))
    assert "周六义诊" not in client.get("/h5/notices").text
    assert client.get(f"/h5/notices/{notice_id}").status_code == 404
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid("test-secret-key", "o-unbound"))
    assert "绑定房屋后" in client.get("/h5/notices").text
