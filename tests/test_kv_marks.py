"""Marks (set-if-absent, same value fine, another refused) in the round trips of guarded() and claim_marked()."""

from __future__ import annotations

import pytest

from app.kv import AlreadyClaimed, MarkTaken
from test_kv import kvs  # noqa: F401  (the fixture: the embedded store, and Redis when configured)


def test_guarded_sets_a_mark_with_the_claim_and_refuses_another_value(kvs):  # noqa: F811
    with kvs.guarded("conv:a", "state:a", claim=("claim:1", "c", 5), mark=("mark:1", "body-1", 5)) as g:
        g.put("s1")
    assert kvs.get("mark:1") == "body-1" and kvs.get("claim:1") == "c"
    # The same value again (a retry): the mark lets it through; the claim is what turns it away.
    with pytest.raises(AlreadyClaimed):
        with kvs.guarded("conv:a", "state:a", claim=("claim:1", "c", 5), mark=("mark:1", "body-1", 5)):
            pass
    # Another value: refused, and neither its claim nor the lock is left behind.
    with pytest.raises(MarkTaken):
        with kvs.guarded("conv:a", "state:a", claim=("claim:2", "c", 5), mark=("mark:1", "body-2", 5)):
            raise AssertionError("the block must not run")
    assert kvs.get("claim:2") is None and kvs.get("lock:conv:a") is None
    assert kvs.get("mark:1") == "body-1" and kvs.get("state:a") == "s1"
    assert 0 < kvs.ttl("mark:1") <= 5


def test_claim_marked(kvs):  # noqa: F811
    assert kvs.claim_marked("claim:1", "c", 5, ("mark:1", "body-1", 5))
    assert not kvs.claim_marked("claim:1", "c", 5, ("mark:1", "body-1", 5))
    with pytest.raises(MarkTaken):
        kvs.claim_marked("claim:2", "c", 5, ("mark:1", "body-2", 5))
    assert kvs.get("claim:2") is None and kvs.get("mark:1") == "body-1"
