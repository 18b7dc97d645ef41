"""The resident's context is cached per process at the register generation: changes are seen on the next message."""

from __future__ import annotations

from sqlalchemy import text, update

from app.extensions import db, kv
from app.models import ResidentAccount, Room, RoomBinding
from app.services import register_cache
from chatkit import bind_account, run_table
from chat_world import register_with_contacts


def test_a_binding_committed_after_a_cached_answer_is_seen_on_the_next_message(ctx):
    _, building, room = register_with_contacts()
    db.session.commit()
    run_table("cache-bind", [("楼栋长电话多少", "还没有绑定房屋")])
    generation = register_cache.current()
    account = ResidentAccount(openid="cache-bind", subscribed=True)
    db.session.add(account)
    db.session.flush()
    db.session.add(RoomBinding(account_id=account.id, room_id=room.id, relation="owner", status="bound"))
    db.session.commit()
    assert register_cache.current() != generation
    run_table("cache-bind", [("楼栋长电话多少", "王楼长")])


def test_the_cache_is_used_until_another_process_bumps_the_generation(ctx):
    _, building, room = register_with_contacts()
    bind_account("cache-x", room)
    db.session.commit()
    run_table("cache-x", [("楼栋长电话多少", "3号楼楼栋长：王楼长")])
    # A change that bypasses the ORM (as another process's would, seen from here): the cached answer stays…
    db.session.execute(text("UPDATE staff_users SET display_name = '周楼长'"))
    db.session.commit()
    run_table("cache-x", [("楼栋长电话多少", "王楼长")])
    # …until the generation moves, as another process's commit makes it move; the local cache is not cleared here.
    kv().incr(register_cache.KEY, ttl=60)
    run_table("cache-x", [("楼栋长电话多少", "周楼长")])


def test_register_changes_bump_the_generation_and_other_changes_do_not(ctx):
    _, building, room = register_with_contacts()
    db.session.commit()
    first = register_cache.current()
    bind_account("cache-y", room)
    db.session.rollback()  # nothing committed: no bump
    assert register_cache.current() == first
    run_table("cache-y", [("你好", "我可以帮您")])  # a message (account upkeep, conversation) is not a register change
    assert register_cache.current() == first
    db.session.execute(update(Room).where(Room.id == room.id).values(number="502"))  # a bulk ORM update
    db.session.commit()
    second = register_cache.current()
    assert second != first
    building.number = "3A"
    db.session.commit()
    assert register_cache.current() != second


def test_values_are_not_cached_without_a_generation(ctx):
    calls = []
    for _ in range(2):
        register_cache.cached("t", 1, None, lambda: calls.append(1))
    assert len(calls) == 2
    for _ in range(2):
        register_cache.cached("t", 1, "7", lambda: calls.append(1))
    assert len(calls) == 3
