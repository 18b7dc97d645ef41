"""Register data (places, bindings, staff roles) cached per process, trusted while the register generation holds.

Chat answers need the resident's room, building, estate and contacts on nearly every message. Every commit that
changes those tables bumps a generation number in the shared store (and empties this process's cache); the chat
engine reads the number in the same round trip as the conversation state, so a change made anywhere is seen by
every process on its next message. Entries also expire after CACHE_SECONDS, a bound on staleness should a bump
be lost (the store was away, or another process runs on the embedded store).
"""

from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import kv
from app.models import Building, Community, Estate, RoleGrant, Room, RoomBinding, StaffUser, Street, Unit

log = logging.getLogger(__name__)
KEY = "register:generation"
WATCHED = (Street, Community, Estate, Building, Unit, Room, RoomBinding, StaffUser, RoleGrant)
WATCHED_TABLES = frozenset(model.__table__ for model in WATCHED)
_CHANGED = "linli_register_changed"
_CACHE = "linli_register_cache"
CACHE_SECONDS = 300.0
CACHE_ENTRIES = 20_000
T = TypeVar("T")


def current() -> str:
    """The current generation ("0" until the first change this store has seen)."""
    return kv().get(KEY) or "0"


def bump() -> None:
    """Tell every process that cached register data is stale."""
    forget()
    kv().incr(KEY, ttl=30 * 24 * 3600)


def forget() -> None:
    """Empty this process's cache (after the tables were wiped without the ORM, as tests do)."""
    current_app.extensions.pop(_CACHE, None)


def cached(kind: str, key, generation: str | None, load: Callable[[], T]) -> T:
    """The value cached for (kind, key) at `generation`, else `load()`; None for generation means "do not cache".

    Values must be plain (no ORM rows): they outlive the session that read them.
    """
    if generation is None:
        return load()
    cache = current_app.extensions.setdefault(_CACHE, {})
    now = time.monotonic()
    entry = cache.get((kind, key))
    if entry is not None and entry[0] == generation and entry[1] > now:
        return entry[2]
    value = load()
    if len(cache) >= CACHE_ENTRIES:
        cache.clear()  # bounded memory; everything is cheap to load again
    cache[(kind, key)] = (generation, now + CACHE_SECONDS, value)
    return value


@event.listens_for(Session, "after_flush")
def _note_flushed_changes(session: Session, _context) -> None:
    if session.info.get(_CHANGED):
        return
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, WATCHED):
            session.info[_CHANGED] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state) -> None:
    # Bulk INSERT/UPDATE/DELETE statements (the register import) bypass the flush.
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and table in WATCHED_TABLES:
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    if not session.info.pop(_CHANGED, False) or not has_app_context():
        return
    try:
        bump()
    except Exception:
        # The store is away: other processes' entries still expire on their own (CACHE_SECONDS).
        log.warning("register generation not bumped", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
