"""A linked staff member's photo outside a report is kept for their next "办结 编号 说明", not taken as a new report."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db, kv
from app.models import Room
from app.models.ticket import Ticket, TicketPhoto
from chatkit import bind_account, run_table, send

KEPT = "照片收到了，发送“办结 编号 说明”即可附上。"


def _reported_ticket(world) -> int:
    bind_account("o-zhang", db.session.get(Room, world.room501))
    run_table("o-zhang", [("楼道灯坏了", "请确认报修"), ("1", "已登记报修")])
    return db.session.scalar(select(Ticket.id))


def _photos() -> list[str]:
    return sorted(db.session.scalars(select(TicketPhoto.media_id)))


def test_a_staff_photo_goes_with_the_next_done_command(world):
    ticket_id = _reported_ticket(world)
    run_table("o-head3", [(f"接单 {ticket_id}", "已受理")])
    assert send("o-head3", kind="image", media_id="SITE-1").text == KEPT
    assert send("o-head3", kind="image", media_id="SITE-2").text == KEPT
    assert kv().get("conv:o-head3") is None  # no report was started
    run_table("o-head3", [(f"办结 {ticket_id} 已更换灯泡", "已办结（附照片 2 张）")])
    assert _photos() == ["SITE-1", "SITE-2"]
    assert db.session.get(Ticket, ticket_id).status == "done"
    # The photos were used: the next 办结 carries none.
    assert kv().get_json("tickets:staff-photos:o-head3") is None


def test_a_staff_photo_after_the_menu_is_kept_too(world):
    ticket_id = _reported_ticket(world)
    run_table("o-head3", [(f"接单 {ticket_id}", "已受理"), ("你好", "我可以帮您")])
    assert send("o-head3", kind="image", media_id="SITE-3").text == KEPT
    run_table("o-head3", [(f"办结 {ticket_id} 修好了", "附照片 1 张")])
    assert _photos() == ["SITE-3"]


def test_a_staff_photo_inside_a_report_belongs_to_the_report(world):
    run_table("o-head3", [("单元门关不上", "哪栋楼")])  # a head reporting like any resident
    reply = send("o-head3", kind="image", media_id="DOOR-1").text
    assert "照片收到了，会一起提交" in reply and KEPT not in reply
    assert kv().get_json("tickets:staff-photos:o-head3") is None


def test_a_residents_photo_still_starts_a_report(world):
    bind_account("o-zhang", db.session.get(Room, world.room501))
    assert "请问是哪里坏了" in send("o-zhang", kind="image", media_id="R-1").text
    run_table("o-zhang", [("楼道灯不亮", "附件：1个"), ("1", "已登记报修")])
    assert _photos() == ["R-1"]
    assert kv().get_json("tickets:staff-photos:o-zhang") is None
