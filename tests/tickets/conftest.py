"""Fixtures of the ticket tests (helpers live in ticket_world.py: a unique module name, unlike conftest)."""

from __future__ import annotations

import pytest

from ticket_world import TicketWorld, build_ticket_world


@pytest.fixture
def tw(app) -> TicketWorld:
    """The ticket world, committed; ids only."""
    with app.app_context():
        return build_ticket_world()


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    """Photos uploaded by a test go to its temporary folder, not the working tree's instance folder."""
    monkeypatch.setitem(app.config, "TICKET_UPLOAD_DIR", str(tmp_path / "uploads"))
