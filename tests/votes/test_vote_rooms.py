"""One account holding rooms of two owners (staff approved it): each owner's rooms vote once, separately, so a paper
ballot for one room does not stop the other room from voting, in chat and on the H5 page; the count has both."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Ballot, ResidentAccount, Room, RoomBinding, StaffUser, Vote
from app.services import ballots, vote_results
from app.wechat import h5
from chatkit import run_table
from votes_world import CLOSES, OPENS, build_estate, open_vote

DURING = OPENS + timedelta(days=1)
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 100


def hold_both(world) -> None:
    """The household account holds 101 (张建国, also owner of 102) and 202 (赵德明) as owner."""
    zhang = db.session.get(Room, world["room_101"]).ownerships[0].person_id  # set by the first owner binding
    account = ResidentAccount(openid="o-household", subscribed=True, person_id=zhang)
    db.session.add(account)
    db.session.flush()
    for room_id in (world["room_101"], world["room_202"]):
        db.session.add(RoomBinding(account_id=account.id, room_id=room_id, relation="owner", status="bound",
                                   method="approval"))
    db.session.commit()


@pytest.fixture
def voting(app):
    with app.app_context():
        world = build_estate()
        hold_both(world)
        staff = db.session.get(StaffUser, world["staff_id"])
        vote = open_vote(staff, world["estate_id"])
        with clock.frozen_at(DURING):
            ballots.enter_paper(staff, vote.id, world["room_101"], "agree", PNG, "p.png", "image/png")
        world["vote_id"] = vote.id
    return world


def choices(app, vote_id: int) -> dict:
    with app.app_context():
        return dict(db.session.execute(select(Ballot.channel, Ballot.choice).where(Ballot.vote_id == vote_id)).all())


def test_chat_votes_for_the_room_that_has_not_voted(app, voting):
    with app.app_context(), clock.frozen_at(DURING):
        replies = run_table("o-household", [
            ("投票", "1号楼1单元202室"),
            ("2", "您选择：反对"),
            ("1", "投票成功：反对"),
            ("投票", "您已经投过票了"),
        ])
    assert "1号楼1单元101室已投票（纸质票）" in replies[0]
    assert choices(app, voting["vote_id"]) == {"paper": "agree", "chat": "disagree"}
    with app.app_context():
        vote_results.close_due(CLOSES)
        result = db.session.get(Vote, voting["vote_id"]).result
    # zhang (101 + 102 = 150 ㎡) agreed on paper, zhao (202, 90 ㎡) disagreed in chat: two owners, both counted.
    assert (result["participating_heads"], Decimal(result["participating_area"])) == (2, Decimal("240.00"))
    assert (result["agree_heads"], Decimal(result["agree_area"])) == (1, Decimal("150.00"))


def test_h5_ballot_offers_the_room_that_has_not_voted(app, client, voting):
    client.set_cookie(h5.OPENID_COOKIE, h5.sign_openid(app.config["SECRET_KEY"], "o-household"))
    url = f"/h5/votes/{voting['vote_id']}/ballot"
    with clock.frozen_at(DURING):
        page = client.get(url).get_data(as_text=True)
        assert "1号楼1单元101室" in page and "纸质票" in page and "1号楼1单元202室" in page
        assert page.count("提交投票") == 1
        response = client.post(url, data={"choice": "abstain", "confirm": "1", "room_id": str(voting["room_202"])})
    assert response.status_code == 200 and "回执码" in response.get_data(as_text=True)
    assert choices(app, voting["vote_id"]) == {"paper": "agree", "h5": "abstain"}
    with app.app_context():
        assert db.session.scalar(select(func.count(Ballot.id))) == 2


def test_chat_asks_which_room_when_both_may_vote_then_offers_the_other(app):
    with app.app_context():
        world = build_estate()
        hold_both(world)
        vote = open_vote(db.session.get(StaffUser, world["staff_id"]), world["estate_id"])
        with clock.frozen_at(DURING):
            run_table("o-household", [
                ("投票", "请回复序号"),
                ("2", "为1号楼1单元202室投票"),
                ("3", "您选择：弃权（1号楼1单元202室）"),
                ("1", "1号楼1单元101室还没有投票"),
                ("投票", "为1号楼1单元101室投票"),
                ("1", "您选择：同意"),
                ("1", "投票成功：同意"),
                ("投票", "您已经投过票了"),
            ])
        cast = db.session.execute(select(Ballot.rooms, Ballot.choice).where(Ballot.vote_id == vote.id)).all()
    assert sorted((len(rooms), choice) for rooms, choice in cast) == [(1, "abstain"), (2, "agree")]  # 202; 101+102
