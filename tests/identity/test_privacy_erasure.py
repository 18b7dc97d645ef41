"""Erasure (注销) leaves no openid and none of the resident's words anywhere, keeps the register's owner record and
the community's counts, and is all or nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db, kv
from app.models import Ballot, Bill, FeePayment, Order, OutboxMessage, Person, Ticket, Visit
from app.services import ballots, privacy_erasure, privacy_rights
from app.services.privacy_erasure import MARKER
from privacy_world import (CO_OWNER, OPENID, OWN_REPORT, OWN_WORDS, NEIGHBOUR, NEIGHBOUR_REPORT, VISIT_NOTE, build,
                           ticket_count)


@pytest.fixture
def world(ctx):
    return build()


def dump_database() -> dict[str, list[str]]:
    """Every row of every table as text (binary columns left out)."""
    dumped = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).mappings().all()
        dumped[table.name] = [json.dumps({k: v for k, v in row.items() if not isinstance(v, bytes)},
                                         ensure_ascii=False, default=str, sort_keys=True) for row in rows]
    return dumped


def dump_store() -> list[tuple[str, str | None]]:
    return sorted(kv().items())


def found(needle: str, dumped: dict[str, list[str]]) -> list[str]:
    return [f"{table}: {row[:200]}" for table, rows in dumped.items() for row in rows if needle in row]


def _counts() -> dict:
    vote_id = db.session.scalar(select(Ballot.vote_id))
    from app.models import Vote

    return {"tickets": ticket_count(), "orders": len(db.session.scalars(select(Order.id)).all()),
            "paid": sum(db.session.scalars(select(FeePayment.amount_fen))),
            "bills": [(b.id, b.amount_fen, b.paid_fen) for b in db.session.scalars(select(Bill).order_by(Bill.id))],
            "ballots": sorted((b.owner_key, b.choice, tuple(b.rooms)) for b in db.session.scalars(select(Ballot))),
            "turnout": ballots.turnout(db.session.get(Vote, vote_id))}


def test_erasure_leaves_no_openid_and_no_words_anywhere(world):
    assert found(OPENID, dump_database()) and any(OPENID in k or OPENID in (v or "") for k, v in dump_store())
    privacy_rights.erase_account(OPENID)
    db.session.expire_all()
    dumped = dump_database()
    assert found(OPENID, dumped) == []
    for words in OWN_WORDS:
        # A quote is often cut short (a head's notice takes the first 40 characters): look for the beginning too.
        assert found(words[:12], dumped) == [], words
    leftovers = [(k, v) for k, v in dump_store() if OPENID in k or OPENID in (v or "")]
    assert leftovers == []
    assert found(MARKER, dumped)


def test_erasure_keeps_the_register_owner_record(world):
    before = {p.id: (p.name, p.phone) for p in db.session.scalars(select(Person))}
    privacy_rights.erase_account(OPENID)
    db.session.expire_all()
    after = {p.id: (p.name, p.phone, p.erased_at) for p in db.session.scalars(select(Person))}
    assert {k: v[:2] for k, v in after.items()} == before
    assert ("张建国", "13812345678") in before.values() and all(v[2] is None for v in after.values())


def test_erasure_keeps_the_ledger_counts_and_other_residents_data(world):
    before = _counts()
    privacy_rights.erase_account(OPENID)
    db.session.expire_all()
    assert _counts() == before
    neighbour = db.session.get(Ticket, world.neighbour_ticket_id)
    assert neighbour.description == NEIGHBOUR_REPORT and neighbour.reporter.openid == NEIGHBOUR
    assert db.session.scalar(select(Visit.note)) == VISIT_NOTE  # the community's record of its visit
    own = db.session.get(Ticket, world.own_ticket_id)
    assert own.description == MARKER and own.reporter_id is None and own.rating == "satisfied"
    # Nothing more goes out to the erased resident; the open order was cancelled and its provider told.
    statuses = {m.status for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.openid.like("erased-%")))}
    assert statuses <= {"sent", "cancelled"} and "cancelled" in statuses
    assert sorted(db.session.scalars(select(Order.status))) == ["cancelled", "confirmed"]
    told = db.session.scalars(select(OutboxMessage.payload).where(OutboxMessage.openid == "o-worker")).all()
    assert any("居民已注销账号" in p["text"] for p in told)


def test_a_failure_late_in_erasure_erases_nothing(world, monkeypatch):
    database, store = dump_database(), dump_store()

    def broken(*args, **kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr(privacy_erasure, "replace_everywhere", broken)
    with pytest.raises(RuntimeError):
        privacy_rights.erase_account(OPENID)
    db.session.expire_all()
    assert dump_database() == database
    assert dump_store() == store
    assert privacy_rights.my_data(OPENID)["报事报修"][0]["描述"] == OWN_REPORT


def test_same_wechat_can_start_again_after_erasure(world):
    privacy_rights.erase_account(OPENID)
    from app.services import binding

    fresh = binding.account_for(OPENID)
    db.session.commit()
    assert privacy_rights.my_data(OPENID)["报事报修"] == [] and fresh.person_id is None
    assert CO_OWNER not in json.dumps(privacy_rights.my_data(OPENID), ensure_ascii=False)


def test_erasure_from_chat_leaves_nothing_in_the_store(world):
    from chatkit import run_table

    run_table(OPENID, [("注销账号", "台账上的业主姓名和电话由社区保管"), ("确认注销", "已注销")])
    db.session.expire_all()
    assert found(OPENID, dump_database()) == []
    assert [(k, v) for k, v in dump_store() if OPENID in k or OPENID in (v or "")] == []
