"""Fixtures of the dashboard and API tests."""

from __future__ import annotations

import pytest

from web_world import World, build_world


@pytest.fixture
def world(app) -> World:
    """The places, owners and one staff user per role (username = role name), committed."""
    with app.app_context():
        return build_world()

