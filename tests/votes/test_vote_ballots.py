"""Opening snapshots and casting ballots: who may vote, once, when; paper ballots; receipts; races."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import AuditEntry, Ballot, Room, SetAsideBallot, Vote, VoteRoll
from app.services import ballots
from app.services.errors import DomainError, PermissionDenied
from votes_world import CLOSES, OPENS, TOTAL_AREA, TOTAL_HEADS, open_vote

DURING = OPENS + timedelta(days=1)
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 100


def n_ballots() -> int:
    return db.session.scalar(select(func.count(Ballot.id)))


def test_opening_snapshots_heads_and_area(world, staff):
    vote = open_vote(staff, world["estate_id"])
    assert vote.status == "open"
    assert vote.total_area == Decimal(TOTAL_AREA) and vote.total_heads == TOTAL_HEADS and vote.total_rooms == 7
    keys = db.session.scalars(select(VoteRoll.owner_key).where(VoteRoll.vote_id == vote.id)).all()
    assert keys.count("developer") == 2  # two developer rooms, one head
    # A later change of the register does not move the snapshot.
    db.session.get(Room, world["room_202"]).area = Decimal("999")
    db.session.commit()
    assert ballots.turnout(vote)["total_area"] == Decimal(TOTAL_AREA)


def test_opening_refuses_rooms_without_area(world, staff):
    db.session.get(Room, world["room_202"]).area = None
    db.session.commit()
    vote = open_vote(staff, world["estate_id"])
    assert vote.status == "announced" and "1号楼1单元202室" in vote.open_problem
    assert db.session.scalar(select(func.count(VoteRoll.id))) == 0
    ballots.open_due(OPENS + timedelta(minutes=1))  # the job retries; the reason is audited once
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "vote_open_fail")) == 1
    db.session.get(Room, world["room_202"]).area = Decimal("90.00")
    db.session.commit()
    ballots.open_due(OPENS + timedelta(minutes=2))
    vote = db.session.get(Vote, vote.id)
    assert vote.status == "open" and vote.open_problem is None


def test_owner_votes_once_for_all_their_rooms(world, staff):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING):
        result = ballots.cast("o-zhang", vote.id, "agree")
        assert sorted(result.ballot.rooms) == sorted([world["room_101"], result.ballot.rooms[1]])
        assert len(result.receipt) == ballots.RECEIPT_LENGTH
        with pytest.raises(DomainError, match="已经投过票"):
            ballots.cast("o-zhang", vote.id, "disagree")
    assert n_ballots() == 1
    assert db.session.scalar(select(Ballot.choice)) == "agree"
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "ballot_cast")) == 1


def test_co_owned_room_has_one_vote(world, staff):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING):
        ballots.cast("o-li", vote.id, "agree")
        with pytest.raises(DomainError, match="已经投过票"):
            ballots.cast("o-wang", vote.id, "disagree")
    assert n_ballots() == 1


@pytest.mark.parametrize("openid, message", [
    ("o-stranger", "只有已绑定的业主本人"), ("o-tenant", "只有已绑定的业主本人"),
    ("o-family", "只有已绑定的业主本人"), ("o-pending", "只有已绑定的业主本人")])
def test_non_owners_are_refused_and_nothing_is_written(world, staff, openid, message):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING), pytest.raises(PermissionDenied, match=message):
        ballots.cast(openid, vote.id, "agree")
    assert n_ballots() == 0


@pytest.mark.parametrize("moment, message", [(OPENS - timedelta(minutes=1), "还没有开始"),
                                             (CLOSES, "已经截止"), (CLOSES + timedelta(days=1), "已经截止")])
def test_outside_the_window_is_refused(world, staff, moment, message):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(moment), pytest.raises(DomainError, match=message):
        ballots.cast("o-zhang", vote.id, "agree")
    assert n_ballots() == 0


def test_before_the_vote_opens_is_refused(world, staff):
    from votes_world import T0, publish_plan
    from app.services import plans

    plan = publish_plan(staff, world["estate_id"])
    with clock.frozen_at(T0):
        vote = plans.put_to_vote(staff, plan.id, OPENS, CLOSES)
    with clock.frozen_at(DURING), pytest.raises(DomainError, match="还没有开始"):
        ballots.cast("o-zhang", vote.id, "agree")  # the opening job has not run yet


@pytest.mark.parametrize("choice", ["yes", "", None, "AGREE"])
def test_unknown_choice_is_refused(world, staff, choice):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING), pytest.raises(DomainError, match="同意、反对或弃权"):
        ballots.cast("o-zhang", vote.id, choice)
    assert n_ballots() == 0


def test_staff_cannot_cast_paper_through_the_resident_path(world, staff):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING), pytest.raises(PermissionDenied, match="纸质票只能由工作人员登记"):
        ballots.cast("o-zhang", vote.id, "agree", channel="paper")


def test_changes_until_close_only_when_the_estate_allows(world, staff):
    vote = open_vote(staff, world["estate_id"], allow_change_until_close=True)
    with clock.frozen_at(DURING):
        first = ballots.cast("o-zhang", vote.id, "agree")
        second = ballots.cast("o-zhang", vote.id, "disagree", channel="chat")
    assert n_ballots() == 1 and db.session.scalar(select(Ballot.choice)) == "disagree"
    aside = db.session.scalar(select(SetAsideBallot))
    assert (aside.choice, aside.reason) == ("agree", "changed")
    assert ballots.check_receipt(first.receipt)["status"] == "set_aside"
    assert ballots.check_receipt(second.receipt)["status"] == "counted"


def test_paper_ballot_records_who_entered_it_and_the_scan(world, staff):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING):
        result = ballots.enter_paper(staff, vote.id, world["room_202"], "abstain", PNG, "zhao.png", "image/png")
    ballot = result.ballot
    assert (ballot.channel, ballot.entered_by, ballot.choice) == ("paper", staff.id, "abstain")
    assert ballot.scan_id is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ballot_paper"))
    assert entry.actor_id == str(staff.id) and entry.detail["scan_sha256"]


@pytest.mark.parametrize("scan, mimetype, message", [(b"", "image/png", "请上传"),
                                                     (b"x", "text/html", "JPG、PNG 或 PDF")])
def test_paper_ballot_needs_a_scan(world, staff, scan, mimetype, message):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING), pytest.raises(DomainError, match=message):
        ballots.enter_paper(staff, vote.id, world["room_202"], "agree", scan, "s", mimetype)
    assert n_ballots() == 0


def test_building_head_cannot_enter_paper_ballots(world, staff):
    from app.models import StaffUser

    vote = open_vote(staff, world["estate_id"])
    head = db.session.get(StaffUser, world["head_id"])
    with clock.frozen_at(DURING), pytest.raises(PermissionDenied):
        ballots.enter_paper(head, vote.id, world["room_202"], "agree", PNG, "s.png", "image/png")
    assert n_ballots() == 0


@pytest.mark.parametrize("rule, counted", [("electronic", ("h5", "agree")), ("paper", ("paper", "disagree"))])
def test_both_ways_the_estate_rule_decides(world, staff, rule, counted):
    vote = open_vote(staff, world["estate_id"], both_ways_rule=rule)
    with clock.frozen_at(DURING):
        ballots.cast("o-zhang", vote.id, "agree")
        ballots.enter_paper(staff, vote.id, world["room_101"], "disagree", PNG, "s.png", "image/png")
    ballot = db.session.scalar(select(Ballot))
    assert n_ballots() == 1 and (ballot.channel, ballot.choice) == counted
    assert db.session.scalar(select(SetAsideBallot.reason)) == "both_ways"


def test_online_after_paper_counts_when_electronic_counts(world, staff):
    vote = open_vote(staff, world["estate_id"])  # default rule: electronic counts
    with clock.frozen_at(DURING):
        ballots.enter_paper(staff, vote.id, world["room_101"], "disagree", PNG, "s.png", "image/png")
        ballots.cast("o-zhang", vote.id, "agree")
    ballot = db.session.scalar(select(Ballot))
    assert (n_ballots(), ballot.channel, ballot.choice, ballot.entered_by) == (1, "h5", "agree", None)
    aside = db.session.scalar(select(SetAsideBallot))
    assert (aside.channel, aside.choice, aside.reason, aside.scan_id is not None) == ("paper", "disagree",
                                                                                      "both_ways", True)


def test_online_after_paper_is_refused_when_paper_counts(world, staff):
    vote = open_vote(staff, world["estate_id"], both_ways_rule="paper")
    with clock.frozen_at(DURING):
        ballots.enter_paper(staff, vote.id, world["room_101"], "disagree", PNG, "s.png", "image/png")
        with pytest.raises(DomainError, match="以纸质票为准"):
            ballots.cast("o-zhang", vote.id, "agree")
    assert (n_ballots(), db.session.scalar(select(Ballot.choice))) == (1, "disagree")
    assert db.session.scalar(select(func.count(SetAsideBallot.id))) == 0


def test_receipt_shows_the_choice_only_to_its_owner(world, staff):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING):
        result = ballots.cast("o-zhang", vote.id, "agree")
    assert "choice" not in ballots.check_receipt(result.receipt)
    assert ballots.check_receipt(result.receipt.lower(), result.ballot.person_id)["choice"] == "同意"
    with pytest.raises(DomainError, match="没有找到这个回执码"):
        ballots.check_receipt("ABCDEFGHJK")
    assert result.receipt not in str(db.session.scalar(select(Ballot.receipt_hash)))


def test_turnout_per_building_without_choices(world, staff):
    vote = open_vote(staff, world["estate_id"])
    with clock.frozen_at(DURING):
        ballots.cast("o-zhang", vote.id, "disagree")
    figures = ballots.turnout(vote)
    first = figures["buildings"][0]
    assert (first["building"], first["rooms"], first["voted_rooms"], first["voted_area"]) == ("1号楼", 4, 2,
                                                                                            Decimal("150.00"))
    assert figures["voted_heads"] == 1 and "disagree" not in str(figures)


def test_two_concurrent_casts_leave_exactly_one_ballot(app, world, staff):
    vote = open_vote(staff, world["estate_id"])
    vote_id = vote.id
    db.session.remove()
    barrier, outcomes = threading.Barrier(2), []

    def worker(openid):
        with app.app_context():  # the clock is frozen once, by the main thread: it is one global for all threads
            barrier.wait()
            try:
                ballots.cast(openid, vote_id, "agree")
                outcomes.append("ok")
            except DomainError as exc:
                outcomes.append(exc.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(openid,)) for openid in ("o-li", "o-wang")]
    with clock.frozen_at(DURING):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(outcomes) == sorted(["ok", ballots.DUPLICATE])
    assert db.session.scalar(select(func.count(Ballot.id)).where(Ballot.vote_id == vote_id)) == 1
    assert db.session.get(Vote, vote_id).status == "open"
