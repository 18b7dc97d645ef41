"""The world of the authorization matrix: the demo data plus the few objects it lacks, and one client per role."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import (Ballot, Building, CatalogItem, Estate, Order, Ownership, Person, Plan, ResidentAccount, Room,
                        RoomBinding, StaffUser, Vote)
from app.models.fee import Bill, FeePayment, LedgerEntry
from app.models.outbox import OutboxMessage
from app.models.ticket import TicketPhoto
from app.services import binding, ledger, notices
from app.services.demo import DEMO_PASSWORD, OLD_ESTATE, SINGLE_BUILDING, seed_demo
from app.services.staff import issue_api_token
from app.services.tickets import create_ticket, store_photo
from app.wechat import h5
from factories import DEFAULT_PASSWORD, make_community, make_staff_user

# Staff roles: street admin, community staff, a building head in reach (1号楼) and one of the other estate,
# the provider's member, and community staff of another community (the outsider).
STAFF = ("jiedao", "shequ", "lzz1", "lzz17", "fuwu", "outsider")
# H5 roles: a bound owner of 幸福里 3号楼 (whose ticket, order and notice the URLs name), a bound owner of the other
# estate, and the provider's member signed in on WeChat (his openid linked to `fuwu`).
RESIDENTS = {"resident": "demo-svc-zhang", "neighbour": "o-matrix-neighbour", "worker": "o-matrix-worker"}
ROLES = ("anonymous",) + STAFF + tuple(RESIDENTS)
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


@dataclass
class Ids:
    """Real ids the URL rules are filled with."""

    estate: int
    other_estate: int
    person: int
    request: int
    plan: int
    vote: int
    scan: int
    item: int
    order: int
    order_number: str
    provider: int
    street: int
    ticket: int
    photo: int
    my_ticket: int
    notice: int
    bill: int
    payment: int
    message: int
    receipt: str
    room_b1: int


def _one(query):
    return db.session.scalars(query.limit(1)).one()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 90, 0)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _bind(openid: str, room: Room) -> None:
    account = ResidentAccount(openid=openid, subscribed=True)
    db.session.add(account)
    db.session.flush()
    db.session.add(RoomBinding(account_id=account.id, room_id=room.id, relation="owner", status="bound",
                               method="demo", decided_at=clock.now()))


def build_world() -> Ids:
    """Seed the demo, add what it lacks (outsider, neighbour, worker link, photo, receipt, binding request …)."""
    seed_demo()
    make_staff_user("outsider", role="community_staff", scope=make_community(name="别的社区"))
    old = _one(select(Estate).where(Estate.name == OLD_ESTATE))
    single = _one(select(Estate).where(Estate.name == SINGLE_BUILDING))
    b1 = _one(select(Building).where(Building.estate_id == old.id, Building.number == "1"))
    room_b1 = _one(select(Room).where(Room.building_id == b1.id).order_by(Room.id))
    _bind(RESIDENTS["neighbour"], _one(select(Room).where(Room.estate_id == single.id)))
    fuwu = _one(select(StaffUser).where(StaffUser.username == "fuwu"))
    fuwu.openid = RESIDENTS["worker"]
    shequ = _one(select(StaffUser).where(StaffUser.username == "shequ"))
    binding.account_for(RESIDENTS["worker"])  # as after a first visit, so a refused POST adds no row
    db.session.commit()

    binding.record_consent("o-matrix-applicant", channel="h5")
    request = binding.request_binding("o-matrix-applicant", room_b1, "张三", "1234", "family")
    db.session.commit()
    ticket = create_ticket(openid="o-matrix-reporter", kind="report", category="lighting", description="楼道灯不亮",
                           building_id=b1.id, spot="楼道", uploads=[store_photo(_jpeg(), "a.jpg")],
                           confirmed_new=True).ticket
    account = _one(select(ResidentAccount).where(ResidentAccount.openid == RESIDENTS["resident"]))
    my_room = db.session.get(Room, account.active_bindings()[0].room_id)
    my_ticket = create_ticket(openid=RESIDENTS["resident"], kind="report", category="water", description="厨房漏水",
                              building_id=my_room.building_id, room_id=my_room.id, confirmed_new=True).ticket
    notice = notices.publish_notice(shequ, old.id, kind="water", title="3号楼停水", body="明天停水",
                                    building_ids=[my_room.building_id],
                                    valid_until=clock.now() + timedelta(days=2))
    entry = ledger.record_entry(shequ, old, "expense", "cleaning", 30000, clock.now().date() - timedelta(days=1),
                                "保洁", receipt=PNG)
    db.session.commit()

    vote = _one(select(Vote).where(Vote.estate_id == old.id))
    order = _one(select(Order).where(Order.status == "accepted"))
    return Ids(
        estate=old.id, other_estate=single.id,
        person=_one(select(Person.id).join(Ownership, Ownership.person_id == Person.id)
                    .where(Ownership.room_id == room_b1.id)),
        request=request.id, plan=_one(select(Plan.id).where(Plan.estate_id == old.id)), vote=vote.id,
        scan=_one(select(Ballot.scan_id).where(Ballot.vote_id == vote.id, Ballot.scan_id.is_not(None))),
        item=_one(select(CatalogItem.id).where(CatalogItem.estate_id == old.id)), order=order.id,
        order_number=order.number, provider=order.provider_id,
        street=old.community.street_id, ticket=ticket.id,
        photo=_one(select(TicketPhoto.id).where(TicketPhoto.ticket_id == ticket.id)), my_ticket=my_ticket.id,
        notice=notice.id,
        bill=_one(select(Bill.id).where(Bill.building_id == b1.id, Bill.status == "open")),
        payment=_one(select(FeePayment.id).where(FeePayment.estate_id == old.id)),
        message=_one(select(OutboxMessage.id)), receipt=db.session.get(LedgerEntry, entry.id).receipt_file,
        room_b1=room_b1.id)


def clients(app) -> dict:
    """One test client per role: staff signed in through the login form, residents with a signed openid cookie."""
    result = {"anonymous": app.test_client()}
    for username in STAFF:
        client = app.test_client()
        password = DEFAULT_PASSWORD if username == "outsider" else DEMO_PASSWORD
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, username
        result[username] = client
    for role, openid in RESIDENTS.items():
        client = app.test_client()
        client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid(app.config["SECRET_KEY"], openid))
        result[role] = client
    return result


def api_tokens(app) -> dict:
    """A bearer token per staff role."""
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(StaffUser).where(StaffUser.username.in_(STAFF)))}
        return {name: issue_api_token(users[name], name="matrix") for name in STAFF}

