"""How many rooms one WeChat account may take by binding code: a few rooms of one register owner bind directly;
a room of another owner (or one too many) becomes a request for staff, who are alerted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db, kv
from app.models import BindingCode, BindingRequest, OutboxMessage, ResidentAccount
from app.services import binding
from app.services.binding_review import CODE_ROOMS_PER_ACCOUNT as LIMIT
from app.wechat import h5
from chatkit import run_table
from factories import make_building, make_community, make_estate, make_person, make_room, make_staff_user, make_unit


@pytest.fixture
def estate(ctx):
    estate = make_estate(name="幸福里小区")
    unit = make_unit(make_building(estate, "5"), "1")
    owners = [make_person(name, f"1381234{index:04d}") for index, name in enumerate(("张建国", "李秀英", "王芳",
                                                                                     "赵德明", "刘海燕"))]
    rooms = [make_room(unit, f"{index + 1}01", owner=owner) for index, owner in enumerate(owners)]
    zhang_rooms = [rooms[0]] + [make_room(unit, f"{floor}02", owner=owners[0]) for floor in range(1, 7)]
    staff = make_staff_user("shequ", role="community_staff", scope=estate.community)
    street = make_staff_user("jiedao", role="street_admin", scope=estate.community.street)
    elsewhere = make_staff_user("other", role="community_staff", scope=make_community(name="别的社区"))
    staff.openid, street.openid, elsewhere.openid = "o-shequ", "o-jiedao", "o-elsewhere"
    db.session.commit()
    return {"rooms": rooms, "zhang_rooms": zhang_rooms}


def codes_for(rooms) -> list[str]:
    return [issued.code for issued in binding.issue_codes(rooms, actor="staff:1")]


def bound_room_ids(openid: str) -> list[int]:
    account = db.session.scalar(select(ResidentAccount).where(ResidentAccount.openid == openid))
    return sorted(b.room_id for b in account.active_bindings()) if account else []


def test_codes_of_five_owners_bind_only_the_first_and_alert_staff(estate):
    rooms = estate["rooms"]
    binding.record_consent("o-collector")
    first, *others = codes_for(rooms)
    binding.bind_with_code("o-collector", first)
    for code in others:
        with pytest.raises(binding.BindingNeedsApproval, match="社区核对后会通知您") as raised:
            binding.bind_with_code("o-collector", code)
        assert raised.value.request.status == "pending"
    assert bound_room_ids("o-collector") == [rooms[0].id]
    requests = db.session.scalars(select(BindingRequest).order_by(BindingRequest.id)).all()
    assert [(r.room_id, r.method, r.status) for r in requests] == [(room.id, "code", "pending") for room in rooms[1:]]
    # The codes are used up: nobody else can take those rooms with them while staff decide.
    assert {c.status for c in db.session.scalars(select(BindingCode))} == {"used"}
    for openid in ("o-shequ", "o-jiedao"):
        alerts = db.session.scalars(select(OutboxMessage).where(OutboxMessage.openid == openid)).all()
        assert len(alerts) == 4 and all("其他业主" in a.payload["text"] for a in alerts)
    assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.openid == "o-elsewhere")).all() == []


def test_rooms_of_the_same_owner_bind_up_to_the_limit(estate):
    zhang_rooms = estate["zhang_rooms"]
    binding.record_consent("o-zhang")
    codes = codes_for(zhang_rooms)
    for code in codes[:LIMIT]:
        assert binding.bind_with_code("o-zhang", code).status == "bound"
    assert len(bound_room_ids("o-zhang")) == LIMIT
    kv().delete("rl:bind-try:o-zhang")  # as an hour later: the guessing limit counts every try, right ones too
    with pytest.raises(binding.BindingNeedsApproval, match=f"最多凭绑定码绑定{LIMIT}套"):
        binding.bind_with_code("o-zhang", codes[LIMIT])
    assert len(bound_room_ids("o-zhang")) == LIMIT


def test_in_chat_the_resident_is_told_the_code_became_a_request(estate):
    rooms = estate["rooms"]
    first, second = codes_for(rooms[:2])
    run_table("o-collector", [
        ("绑定", "个人信息处理说明"), ("同意", "8位绑定码"),
        (first, "绑定成功"),
        (second, "已转为绑定申请"),
    ])
    assert bound_room_ids("o-collector") == [rooms[0].id]


def test_on_the_h5_page_the_resident_is_told_the_code_became_a_request(app, client, estate):
    rooms = estate["rooms"]
    first, second = codes_for(rooms[:2])
    binding.record_consent("o-collector")
    binding.bind_with_code("o-collector", first)
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid(app.config["SECRET_KEY"], "o-collector"))
    response = client.post("/h5/bind", data={"action": "code", "code": second})
    assert response.status_code == 200 and "已转为绑定申请" in response.get_data(as_text=True)
    db.session.remove()
    assert bound_room_ids("o-collector") == [rooms[0].id]
