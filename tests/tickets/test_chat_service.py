"""Chat-side ticket work: staff commands with a photo, the to-do list, the resident's progress and notices."""

from __future__ import annotations

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import StaffUser
from app.models.ticket import Ticket, TicketPhoto
from app.services import notices, tickets_chat
from app.services.tickets import create_ticket
from ticket_world import MORNING


def test_staff_commands_in_chat(ctx, tw):
    with clock.frozen_at(MORNING):
        ticket = create_ticket(openid="o-res1", kind="report", category="lighting", description="楼道灯不亮",
                               building_id=tw.b1).ticket
        assert tickets_chat.is_staff_command("o-lzz1", f"接单 {ticket.id}")
        assert not tickets_chat.is_staff_command("o-res1", f"接单 {ticket.id}")  # a resident, not staff
        assert "待办工单" in tickets_chat.staff_command("o-lzz1", "待办")
        assert ticket.number in tickets_chat.staff_command("o-lzz1", f"接单 {ticket.id}")
        assert "没有成功" in tickets_chat.staff_command("o-lzz2", f"办结 {ticket.id} 好了")  # not their building
        assert "照片收到了" in tickets_chat.remember_photo("o-lzz1", "MEDIA-1")
        assert tickets_chat.remember_photo("o-res1", "MEDIA-X") is None
        reply = tickets_chat.staff_command("o-lzz1", f"办结 {ticket.id} 已更换灯泡")
        assert "已办结（附照片 1 张）" in reply
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.status == "done" and ticket.handler_id == tw.staff["lzz1"]
    assert ticket.events[-1].note == "已更换灯泡"
    assert db.session.scalars(select(TicketPhoto.media_id)).all() == ["MEDIA-1"]
    assert "没有成功" in tickets_chat.staff_command("o-lzz1", f"接单 {ticket.id}")
    assert "工单指令" in tickets_chat.staff_command("o-lzz1", "你好")
    assert "还没有关联工作账号" in tickets_chat.staff_command("o-res1", "待办")


def test_progress_and_notices_texts(ctx, tw):
    assert "还没有报修" in tickets_chat.progress_text("o-res1")
    with clock.frozen_at(MORNING):
        create_ticket(openid="o-res1", kind="report", category="water", description="水管漏水", building_id=tw.b1)
        text = tickets_chat.progress_text("o-res1")
        assert "BX-20261124-0001 水管漏水：新建" in text and "/h5/tickets" in text
        assert "没有您所在楼栋的通知" in tickets_chat.notices_text("o-res1")
        assert "绑定房屋后才能看到您楼栋的通知公告" in tickets_chat.notices_text("o-unbound")
        notices.publish_notice(db.session.get(StaffUser, tw.staff["shequ"]), tw.estate, kind="power",
                               title="周三停电检修", body="8点到12点")
        assert "【停电】周三停电检修" in tickets_chat.notices_text("o-res2")
