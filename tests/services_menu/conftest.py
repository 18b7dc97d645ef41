"""Fixtures of the 菜单式 service tests: an estate with bound residents, two providers and a catalogue."""

from __future__ import annotations

import pytest

from svc_world import SvcWorld, build_svc_world


@pytest.fixture
def svc(app) -> SvcWorld:
    """The committed service world (ids only; open your own app context to read objects)."""
    with app.app_context():
        return build_svc_world()
