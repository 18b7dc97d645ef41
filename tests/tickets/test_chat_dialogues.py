"""Dialogue tables through respond(): scan → report → photo → number → acceptance → done → rating, and more."""

from __future__ import annotations

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.handlers.messages import TextReply
from app.models import OutboxMessage
from app.models.ticket import Ticket, TicketPhoto
from chatkit import run_table, send
from ticket_world import MORNING


def _text(reply) -> str:
    assert isinstance(reply, TextReply), reply
    return reply.text


def _outbox(openid):
    return [m.payload.get("text", "") for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.openid == openid).order_by(OutboxMessage.id))]


def test_scan_report_photo_number_accept_done_rate(ctx, tw):
    with clock.frozen_at(MORNING):
        assert "幸福里小区1号楼" in _text(send("o-res2", kind="scan", scene=f"b:{tw.b1}"))
        assert "请问是哪里坏了" in _text(send("o-res2", kind="image", media_id="MEDIA-R1"))
        run_table("o-res2", [("楼道灯不亮", "1号楼的几单元"), ("1单元", "请确认报修")])
        done = _text(send("o-res2", "1", msg_id="m-1001"))
        assert "已登记报修，编号 BX-20261124-0001" in done
        ticket = db.session.scalars(select(Ticket)).one()
        assert (ticket.building_id, ticket.unit_id, ticket.category) == (tw.b1, tw.u1, "lighting")
        assert db.session.scalars(select(TicketPhoto.media_id)).all() == ["MEDIA-R1"]
        assert any(f"接单 {ticket.id}" in t for t in _outbox("o-lzz1"))  # the building head is told
        # The building head works on it in chat.
        assert "已受理" in _text(send("o-lzz1", f"接单 {ticket.id}"))
        assert any("已受理" in t for t in _outbox("o-res2"))
        _text(send("o-lzz1", kind="image", media_id="MEDIA-S1"))
        assert "已办结（附照片 1 张）" in _text(send("o-lzz1", f"办结 {ticket.id} 已更换灯泡"))
        assert any("已更换灯泡" in t and "满意" in t for t in _outbox("o-res2"))
        assert "已销号" in _text(send("o-res2", "满意"))
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.status == "closed" and ticket.rating == "satisfied"
    assert sorted(db.session.scalars(select(TicketPhoto.media_id))) == ["MEDIA-R1", "MEDIA-S1"]


def test_a_database_lost_right_after_the_commit_still_confirms_the_report(ctx, tw, monkeypatch):
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    real_commit, real_execute = Session.commit, Session.execute
    gone = []

    def commit_then_lose_the_database(session):
        real_commit(session)
        gone.append(True)

    def execute(session, *args, **kwargs):
        if gone:
            raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))
        return real_execute(session, *args, **kwargs)

    with clock.frozen_at(MORNING):
        send("o-res1", kind="scan", scene=f"b:{tw.b2}")
        run_table("o-res1", [("单元门关不上", "2号楼的几单元"), ("不知道", "请确认报修")])
        monkeypatch.setattr(Session, "commit", commit_then_lose_the_database)
        monkeypatch.setattr(Session, "execute", execute)
        done = _text(send("o-res1", "1", msg_id="m-8"))
        monkeypatch.undo()
    # The ticket is recorded: the answer must say so (the number was read before the commit), not "try again".
    assert "已登记报修，编号 BX-20261124-0001" in done
    db.session.rollback()
    assert len(db.session.scalars(select(Ticket)).all()) == 1


def test_retried_confirmation_gives_the_same_number(ctx, tw):
    with clock.frozen_at(MORNING):
        send("o-res1", kind="scan", scene=f"b:{tw.b2}")
        run_table("o-res1", [("单元门关不上", "2号楼的几单元"), ("不知道", "请确认报修")])
        first = _text(send("o-res1", "1", msg_id="m-7"))
        # WeChat retries the same message when our answer was slow: the engine may see it again.
        run_table("o-res1", [("单元门关不上", "2号楼的几单元"), ("不知道", "请确认报修")])
        again = _text(send("o-res1", "1", msg_id="m-7"))
    assert "BX-20261124-0001" in first and "BX-20261124-0001" in again
    assert db.session.scalars(select(Ticket)).all().__len__() == 1


def test_repeat_report_asks_and_neighbour_is_linked(ctx, tw):
    with clock.frozen_at(MORNING):
        send("o-res1", kind="scan", scene=f"b:{tw.b1}")
        run_table("o-res1", [("楼道水管漏水了", "请确认报修"), ("1", "已登记报修")])
        run_table("o-res1", [("楼道的水管又漏了", "请确认报修"), ("1", "是同一个问题吗"), ("1", "已补充到 BX-20261124-0001")])
        run_table("o-res1", [("地下室水管也漏水", "请确认报修"), ("1", "是同一个问题吗"), ("2", "BX-20261124-0002")])
        send("o-neighbour", kind="scan", scene=f"b:{tw.b1}")
        run_table("o-neighbour", [("公共水管漏水了", "请确认报修"), ("1", "已有邻居反映，已为您记录补充")])
    assert len(db.session.scalars(select(Ticket)).all()) == 2


def test_complaint_and_unknown_estate(ctx, tw):
    with clock.frozen_at(MORNING):
        run_table("o-nowhere", [("我要投诉", "您要反映什么问题"), ("楼上装修噪音太大", "哪栋楼"), ("7号楼", "请确认投诉"),
                                ("1", "还不知道您是哪个小区")])
        assert db.session.scalars(select(Ticket)).all() == []
        run_table("o-res2", [("我要投诉", "您要反映什么问题"), ("楼上装修噪音太大", "请确认投诉"), ("对", "已登记投诉，编号 TS-")])
        run_table("o-res2", [("我要投诉", "您要反映什么问题"), ("有人占消防通道", "地点：2号楼"), ("2", "哪栋楼"),
                             ("9栋", "幸福里小区没有找到9号楼")])


def test_notice_and_progress_in_chat(ctx, tw):
    from app.models import StaffUser
    from app.services import notices

    run_table("o-res1", [("明天停水吗", "没有您所在楼栋的通知")])
    notices.publish_notice(db.session.get(StaffUser, tw.staff["shequ"]), tw.estate, kind="water",
                           title="明天停水", body="9点到15点", building_ids=[tw.b1])
    run_table("o-res1", [("明天停水吗", "【停水】明天停水")])
    run_table("o-res2", [("明天停水吗", "没有您所在楼栋的通知")])


def test_resident_words_are_not_staff_commands(ctx, tw):
    reply = _text(send("o-res1", "接单 1"))
    assert "已受理" not in reply and "没有成功" not in reply
    assert "已销号" not in _text(send("o-res1", "满意"))  # nothing to rate: the dialogue answers instead
    assert db.session.scalars(select(Ticket)).all() == []


def test_unsatisfied_in_chat_reopens(ctx, tw):
    from app.models import StaffUser
    from app.services import tickets_flow

    with clock.frozen_at(MORNING):
        send("o-res1", kind="scan", scene=f"b:{tw.b1}")
        run_table("o-res1", [("楼道的水管又漏了", "请确认报修"), ("1", "已登记报修")])
        ticket_id = db.session.scalars(select(Ticket.id)).one()
        shequ = db.session.get(StaffUser, tw.staff["shequ"])
        tickets_flow.transition(shequ, ticket_id, "accept")
        tickets_flow.transition(shequ, ticket_id, "done", "拧紧了")
        assert "已重新办理" in _text(send("o-res1", "不满意，还在漏"))
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket.status == "reopened" and ticket.rating_comment == "还在漏"
    assert any("居民不满意" in t for t in _outbox("o-lzz1"))
