"""A resident with data in every table (and in the key-value store), made through Linli's own services, plus a
neighbour and a co-owner whose data must survive the resident's erasure and stay out of the resident's export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from app import clock
from app.extensions import db, kv
from app.models import (Bill, CatalogItem, Estate, OutboxMessage, Payment, Provider, Room, StaffUser, Ticket,
                        TicketFollower)
from app.services import (arrears, ballots, billing, binding, orders, payments, plans, reminders, staff_links,
                          tickets, tickets_flow)
from app.wechat.dedupe import Deduper
from factories import make_building, make_estate, make_person, make_room, make_staff_user, make_unit

OPENID = "oQx7-ZhangJianguo_2xKd91"  # distinctive: a scan for it finds only what erasure missed
NEIGHBOUR = "o-li-neighbour"
T0 = clock.localize(datetime(2026, 11, 2, 9, 0))
# The resident's own words, each distinctive; OWN_REPORT is longer than the 40 characters a head's notice quotes.
OWN_REPORT = "卫生间水管接头一直漏水滴答响个不停，楼下邻居说天花板都湿了一大片，麻烦尽快派人来看看吧私记甲"
SUPPLEMENT = "补充一下漏水越来越严重私记乙"
RATING_COMMENT = "师傅很细心下次还找他私记丙"
FOLLOW_NOTE = "三楼楼道灯也不亮私记戊"
ORDER_NOTE = "门口有只狗别怕私记己"
ORDER_COMMENT = "修得很好私记庚"
OPEN_ORDER_NOTE = "明天下午来私记辛"
PLAN_COMMENT = "希望多装几个路灯私记壬"
CLAIMED_NAME = "张小明私记"
OWN_WORDS = (OWN_REPORT, SUPPLEMENT, RATING_COMMENT, FOLLOW_NOTE, ORDER_NOTE, ORDER_COMMENT, OPEN_ORDER_NOTE,
             PLAN_COMMENT, CLAIMED_NAME)
# Others' data: the neighbour's report and the co-owner's contacts.
NEIGHBOUR_REPORT = "楼道灯坏了好几天李四反映私记丁"
CO_OWNER, CO_OWNER_PHONE = "王丽华", "13900001111"
VISIT_NOTE = "业主说月底一定交清"


@dataclass
class World:
    room_id: int
    neighbour_room_id: int
    own_ticket_id: int
    neighbour_ticket_id: int
    vote_id: int
    staff_id: int
    volunteer_id: int


def build() -> World:
    """Build and commit everything; time moves from T0 as a resident's weeks would."""
    with clock.frozen_at(T0):
        world = _register_and_staff()
        _bind_and_report(world)
        _order(world)
        world.vote_id = _plan_and_vote(world)
    with clock.frozen_at(T0 + timedelta(days=16)):
        ballots.open_due(clock.now())
        ballots.cast(OPENID, world.vote_id, "agree")
        ballots.cast(NEIGHBOUR, world.vote_id, "disagree")
    with clock.frozen_at(T0 + timedelta(days=20, hours=1)):
        _fees(world)
    _store_state()
    return world


def _register_and_staff() -> World:
    estate = make_estate(name="幸福里小区")
    building, other_building = make_building(estate, "5"), make_building(estate, "6")
    unit = make_unit(building, "1")
    room = make_room(unit, "302", owner=make_person("张建国", "13812345678"),
                     co_owners=(make_person(CO_OWNER, CO_OWNER_PHONE),))
    neighbour_room = make_room(unit, "301", owner=make_person("李四", "13700002222"))
    make_room(unit, "401", owner=make_person("赵六", "13600003333"))
    staff = make_staff_user("shequ", role="community_staff", scope=estate.community)
    head = make_staff_user("lzz5", role="building_head", scope=building)
    head.openid = "o-head-5"
    # The resident also volunteers as head of another building and linked that work account to the same WeChat.
    volunteer = make_staff_user("lzz6", role="building_head", scope=other_building)
    db.session.commit()
    return World(room.id, neighbour_room.id, 0, 0, 0, staff.id, volunteer.id)


def _bind_and_report(world: World) -> None:
    room, neighbour_room = db.session.get(Room, world.room_id), db.session.get(Room, world.neighbour_room_id)
    [own_code, neighbour_code] = binding.issue_codes([room, neighbour_room], actor="staff:1")
    for openid, code in ((OPENID, own_code), (NEIGHBOUR, neighbour_code)):
        binding.record_consent(openid)
        binding.bind_with_code(openid, code.code)
    spare = db.session.scalar(select(Room).where(Room.number == "401"))
    binding.request_binding(OPENID, spare, CLAIMED_NAME, "3333", "family")
    staff_links.link_staff(OPENID, staff_links.create_link_code(_staff(world.volunteer_id)))
    staff = _staff(world.staff_id)
    own = tickets.create_ticket(openid=OPENID, kind="report", category="water", description=OWN_REPORT,
                                building_id=room.building_id, unit_id=room.unit_id, room_id=room.id,
                                media_ids=["media-own-1"], client_key=f"h5:{OPENID}:n1")
    world.own_ticket_id = own.ticket_id
    tickets.add_supplement(OPENID, own.ticket_id, SUPPLEMENT, media_ids=["media-own-2"])
    tickets_flow.transition(staff, own.ticket_id, "accept")
    tickets_flow.transition(staff, own.ticket_id, "done", note="已更换水管接头")
    tickets_flow.rate(OPENID, own.ticket_id, "satisfied", RATING_COMMENT)
    theirs = tickets.create_ticket(openid=NEIGHBOUR, kind="report", category="lighting", description=NEIGHBOUR_REPORT,
                                   building_id=room.building_id, unit_id=room.unit_id, spot="楼道")
    world.neighbour_ticket_id = theirs.ticket_id
    linked = tickets.create_ticket(openid=OPENID, kind="report", category="lighting", description=FOLLOW_NOTE,
                                   building_id=room.building_id, unit_id=room.unit_id, spot="楼道",
                                   client_key=f"chat:{OPENID}:msg-77")
    assert linked.ticket_id == theirs.ticket_id, linked
    assert db.session.scalar(select(TicketFollower.id)) is not None


def _order(world: World) -> None:
    room = db.session.get(Room, world.room_id)
    worker = make_staff_user("fuwu", role="provider", scope=room.estate.community, display_name="王师傅")
    worker.openid = "o-worker"
    provider = Provider(name="邻家便民维修部", kind="company", street_id=room.estate.community.street_id,
                        members=[worker])
    item = CatalogItem(estate_id=room.estate_id, code="plumbing", name="水暖维修", price_fen=5000, opens="07:00",
                       closes="22:00", providers=[provider])
    db.session.add_all([provider, item])
    db.session.commit()
    slot = T0.replace(hour=15)
    done, _ = orders.place_order(OPENID, item.id, slot, client_key="h5-order-1", room_id=room.id, note=ORDER_NOTE)
    orders.accept(worker, done.number)
    orders.complete(worker, done.number)
    orders.confirm(OPENID, done.number, 5, ORDER_COMMENT)
    db.session.add(Payment(order_id=done.id, amount_fen=5000, method="cash", status="paid", paid_at=clock.now()))
    db.session.commit()
    orders.place_order(OPENID, item.id, slot + timedelta(days=1), client_key=f"chat:{OPENID}:o2", room_id=room.id,
                       note=OPEN_ORDER_NOTE)


def _plan_and_vote(world: World) -> int:
    staff = _staff(world.staff_id)
    room = db.session.get(Room, world.room_id)
    plan = plans.create_plan(staff, room.estate_id, title="幸福里小区物业管理方案", area_scope="光明路88号院",
                             body="全文……", management_modes=["menu"], fee_mode="per_area", fee_amount_fen=30,
                             fee_cycle="quarterly")
    plans.publish(staff, plan.id)
    plans.add_comment(OPENID, plan.id, PLAN_COMMENT)
    vote = plans.put_to_vote(staff, plan.id, T0 + timedelta(days=15), T0 + timedelta(days=30))
    return vote.id


def _fees(world: World) -> None:
    estate = db.session.get(Estate, db.session.get(Room, world.room_id).estate_id)
    schedule = billing.create_schedule(estate, basis="per_area", rate_fen=Decimal("30"), cycle="quarterly",
                                       starts_on=date(2026, 10, 1), actor="staff:1")
    db.session.commit()
    billing.generate_bills(schedule, date(2026, 10, 1))
    bill = db.session.scalar(select(Bill).where(Bill.room_id == world.room_id))
    staff = _staff(world.staff_id)
    payments.record_payment(staff, bill.id, 1000, "cash", client_key="pay-1")
    reminders.run_reminders(clock.now())
    head = db.session.scalar(select(StaffUser).where(StaffUser.username == "lzz5"))
    arrears.log_visit(head, db.session.get(Room, world.room_id), VISIT_NOTE)
    # One message to the resident went out already; the others wait in the outbox.
    sent = db.session.scalar(select(OutboxMessage).where(OutboxMessage.openid == OPENID).order_by(OutboxMessage.id))
    sent.status, sent.sent_at = "sent", clock.now()
    db.session.commit()


def _store_state() -> None:
    """What the chat leaves in the key-value store: a conversation, flags, a rate limit, cached replies."""
    store = kv()
    store.set(f"conv:{OPENID}", json.dumps({"flow": "report", "slots": {"text": OWN_REPORT}}, ensure_ascii=False),
              ttl=600)
    store.flag(f"wx:account-fresh:{OPENID}", 300)
    store.hit_limit(f"bind-try:{OPENID}", 5, 3600)
    store.set_json(f"tickets:staff-photos:{OPENID}", ["media-x"], ttl=600)
    deduper = Deduper(store)
    deduper.finish("m:900001", f"<xml><ToUserName><![CDATA[{OPENID}]]></ToUserName></xml>")
    deduper.finish(f"e:{OPENID}:1700000000:CLICK:MENU_FEES:", None)
    deduper.finish("m:900002", "<xml><ToUserName><![CDATA[o-li-neighbour]]></ToUserName></xml>")


def _staff(user_id: int) -> StaffUser:
    return db.session.get(StaffUser, user_id)


def ticket_count() -> int:
    return len(db.session.scalars(select(Ticket.id)).all())
