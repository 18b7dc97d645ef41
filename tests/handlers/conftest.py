"""Fixtures of the engine's dialogue tests: the world of 幸福小区 (helpers live in chat_world.py)."""

from __future__ import annotations

import pytest

from app import clock
from chat_world import NOW, ChatWorld, build_chat_world


@pytest.fixture
def world(ctx) -> ChatWorld:
    """幸福小区, committed, with the clock frozen on Monday 23 Nov 2026 09:00 for the whole test."""
    built = build_chat_world()
    with clock.frozen_at(NOW):
        yield built
