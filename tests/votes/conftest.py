"""Fixtures of the vote tests (helpers live in votes_world.py)."""

from __future__ import annotations

import pytest

from app.extensions import db
from votes_world import build_estate


@pytest.fixture
def world(ctx):
    """The estate built inside the test's app context."""
    return build_estate()


@pytest.fixture
def staff(world):
    from app.models import StaffUser

    return db.session.get(StaffUser, world["staff_id"])
