"""The one clock of the domain: timezone-aware Asia/Shanghai time that tests can set."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None
_offset = timedelta(0)


def now() -> datetime:
    """Return the current time in Asia/Shanghai (or the time a test set)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(TZ) + _offset


def localize(value: datetime) -> datetime:
    """Make a datetime aware in Asia/Shanghai (naive values are taken as Shanghai time)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=TZ)
    return value.astimezone(TZ)


@contextmanager
def frozen_at(moment: datetime):
    """Freeze now() at `moment` inside the block (for tests and replays)."""
    global _frozen
    previous = _frozen
    _frozen = localize(moment)
    try:
        yield
    finally:
        _frozen = previous


def advance(delta: timedelta) -> None:
    """Move a frozen clock (or the offset of the live one) forward."""
    global _frozen, _offset
    if _frozen is not None:
        _frozen = _frozen + delta
    else:
        _offset += delta


def reset() -> None:
    """Back to the live clock (tests call this after each test so a frozen time never leaks)."""
    global _frozen, _offset
    _frozen, _offset = None, timedelta(0)
