"""Greeting, human, other, and non-text messages: subscribe, QR scans, menu clicks, photos and voice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.handlers.messages import NoReply, TextReply
from app.models import Room
from app.models.ticket import Ticket
from chat_world import NOW, register_with_contacts
from factories import make_building, make_estate, make_room, make_unit
from chatkit import bind_account, run_table, send


def test_greetings(ctx):
    run_table("g", [
        ("你好", "我可以帮您"),
        ("谢谢", "不客气"),
        ("再见", "再见"),
        ("你能做什么", "报修公共设施"),
    ])


def test_the_menu_numbers_start_capabilities(world):
    bind_account("g-menu", db.session.get(Room, world.room501))
    replies = run_table("g-menu", [("菜单", "1 报修公共设施"), ("2", "请问需要哪项上门服务？回复数字")])
    assert "1 开锁 50元/次" in replies[1]
    run_table("g-menu", [("1", "请问什么时候上门"), ("算了", "已取消")])
    run_table("g-menu", [("菜单", "4 查询物业费"), ("4", "目前没有未缴的费用")])
    run_table("g-menu", [("菜单", "1 报修公共设施"), ("1", "哪里坏了")])


def test_the_menu_numbers_for_an_unbound_resident(ctx):
    run_table("g-menu2", [("菜单", "1 报修公共设施"), ("2", "预约上门服务要先绑定房屋")])
    run_table("g-menu2", [("菜单", "8 绑定房屋"), ("8", "个人信息处理说明")])


def test_out_of_scope_gets_an_honest_answer_and_the_menu(ctx):
    run_table("g-other", [("今天天气怎么样", "帮不上忙"), ("1", "哪里坏了")])


def test_gibberish_gets_the_menu(ctx):
    run_table("g-gib", [("asdfgh jkl", "我可以帮您")])


def test_human_lists_the_building_head_and_community_staff(ctx):
    _, _, room = register_with_contacts()
    bind_account("h-bound", room)
    replies = run_table("h-bound", [("转人工", "王楼长")])
    assert "13900001111" in replies[0] and "李社工" in replies[0] and "0571-88880000" in replies[0]
    assert "赵楼长" not in replies[0]


def test_human_for_an_unbound_resident_gives_general_office_information(ctx):
    register_with_contacts()
    replies = run_table("h-unbound", [("楼栋长电话多少", "还没有绑定房屋")])
    assert "居委会" in replies[0] and "王楼长" not in replies[0]


def test_human_after_scanning_a_building(ctx):
    _, building, _ = register_with_contacts()
    send("h-scan", kind="scan", scene=f"b:{building.id}")
    run_table("h-scan", [("我要找人", "王楼长")])


def test_subscribe_welcomes_and_explains(ctx):
    reply = send("s1", kind="subscribe")
    assert isinstance(reply, TextReply) and "感谢关注" in reply.text and "报修" in reply.text


def test_subscribe_with_a_building_scene_prefills_the_building(ctx):
    estate = make_estate(name="东风小区")
    building = make_building(estate, "3")
    reply = send("s2", kind="subscribe", scene=f"qrscene_b:{building.id}")
    assert "东风小区3号楼" in reply.text
    run_table("s2", [("楼道灯坏了", "3号楼的几单元"), ("2", "3号楼2单元")])


@pytest.mark.parametrize("scene", ["b:999999", "b:abc", "x:1", "b:", "b:1;drop"])
def test_unknown_or_forged_scenes_get_a_clear_message(ctx, scene):
    reply = send("s3", kind="scan", scene=scene)
    assert "无法识别" in reply.text


def test_scan_answers_which_building_inside_a_report(ctx):
    building = make_building(make_estate(name="南苑"), "8")
    run_table("s4", [("垃圾好几天没人清运了", "哪栋楼")])
    reply = send("s4", kind="scan", scene=f"b:{building.id}")
    assert "南苑8号楼" in reply.text and "请确认报修" in reply.text and "地点：8号楼" in reply.text
    with clock.frozen_at(NOW):
        run_table("s4", [("1", "已登记报修，编号 BX-20261123-0001")])
    ticket = db.session.scalars(select(Ticket)).one()
    assert (ticket.building_id, ticket.category) == (building.id, "sanitation")


def test_scan_prefills_the_building_of_a_report(world):
    send("s6", kind="scan", scene=f"b:{world.b3}")
    run_table("s6", [("电梯坏了", "3号楼的几单元"), ("2", "地点：3号楼2单元"), ("1", "已登记报修，编号 BX-20261123-0001")])
    ticket = db.session.scalars(select(Ticket)).one()
    assert (ticket.building_id, ticket.unit.number, ticket.category) == (world.b3, "2", "elevator")


def test_scan_before_saying_what_is_wrong_keeps_the_building(ctx):
    building = make_building(make_estate(name="西园"), "2")
    run_table("s5", [("我要报修", "哪里坏了")])
    assert "哪里坏了" in send("s5", kind="scan", scene=f"b:{building.id}").text
    run_table("s5", [("垃圾桶满了没人清", "2号楼")])


@pytest.mark.parametrize("key,expected", [
    ("REPORT", "哪里坏了"), ("SERVICES", "预约上门服务要先绑定房屋"), ("FEES", "查物业费要先绑定您家的房屋"),
    ("VOTE", "查看小区方案和投票需要先绑定房屋"), ("NOTICES", "绑定房屋后才能看到您楼栋的通知公告"),
    ("PROGRESS", "您还没有报修、投诉或预约上门服务的记录"), ("HUMAN", "还没有绑定房屋"),
    ("BIND", "个人信息处理说明"), ("MY", "还没有绑定房屋"), ("repair_report", "哪里坏了"),
    ("complaint_report", "反映什么问题"), ("service_order", "预约上门服务要先绑定房屋"),
    ("ticket_status", "您还没有报修、投诉或预约上门服务的记录"), ("contact", "还没有绑定房屋"),
    ("NO_SUCH_KEY", "我可以帮您"),
])
def test_menu_clicks(ctx, key, expected):
    reply = send("c1", kind="click", event_key=key)
    assert expected in reply.text


@pytest.mark.parametrize("key,expected", [
    ("REPORT", "哪里坏了"), ("SERVICES", "请问需要哪项上门服务？回复数字"), ("FEES", "目前没有未缴的费用"),
    ("VOTE", "您的小区目前没有公示中的方案"), ("NOTICES", "现在没有您所在楼栋的通知"),
    ("PROGRESS", "您还没有报修、投诉或预约上门服务的记录"), ("HUMAN", "王楼长"),
    ("MY", "幸福小区 3号楼2单元501室"), ("complaint_report", "反映什么问题"),
    ("service_order", "请问需要哪项上门服务？回复数字"), ("contact", "李社工"),
])
def test_menu_clicks_of_a_bound_resident(world, key, expected):
    bind_account("c3", db.session.get(Room, world.room501))
    reply = send("c3", kind="click", event_key=key)
    assert expected in reply.text


def test_a_menu_click_leaves_the_open_flow(world):
    bind_account("c4", db.session.get(Room, world.room501))
    run_table("c4", [("楼道灯坏了", "请确认报修")])
    assert "请问需要哪项上门服务" in send("c4", kind="click", event_key="SERVICES").text
    run_table("c4", [("1", "请问什么时候上门"), ("1", "开锁"), ("1", "预约成功！订单号 FW-20261123-0001")])
    assert db.session.scalars(select(Ticket)).all() == []


def test_my_rooms_click_lists_bound_rooms(ctx):
    room = make_room(make_unit(make_building(make_estate(name="北苑"), "6"), "1"), "101")
    bind_account("c2", room)
    assert "北苑 6号楼1单元101室" in send("c2", kind="click", event_key="MY").text


def test_a_photo_inside_a_flow_is_attached(ctx):
    run_table("p1", [("电梯坏了", "哪栋楼")])
    assert "照片收到了" in send("p1", kind="image", media_id="MEDIA-1", pic_url="http://x/1.jpg").text
    replies = run_table("p1", [("2栋1单元", "附件：1个")])
    assert "请确认报修" in replies[0]


def test_a_photo_outside_a_flow_starts_a_report(ctx):
    assert "哪里坏了" in send("p2", kind="image", media_id="MEDIA-2").text
    run_table("p2", [("单元门关不上", "哪栋楼"), ("3号楼1单元", "附件：1个")])


def test_voice_uses_the_recognised_text_and_attaches_inside_a_flow(ctx):
    assert "哪栋楼" in send("v1", "楼道灯坏了", kind="voice", media_id="VOICE-1").text
    reply = send("v1", "三号楼二单元。", kind="voice", media_id="VOICE-2")
    assert "3号楼2单元" in reply.text and "附件：1个" in reply.text


def test_voice_without_recognition_asks_again(ctx):
    reply = send("v2", "", kind="voice", media_id="VOICE-3")
    assert reply.text == "没听清，请再说一遍或打字告诉我。"


def test_silent_events(ctx):
    assert isinstance(send("e1", kind="view", event_key="http://x"), NoReply)
    assert isinstance(send("e1", kind="location_event", latitude=30.1, longitude=120.2), NoReply)


def test_state_is_per_resident(ctx):
    run_table("a", [("楼道灯坏了", "哪栋楼")])
    run_table("b", [("1", "我可以帮您")])
