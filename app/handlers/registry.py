"""The handler registry: one entry per intent (or flow), each with a start and an optional resume step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from app.handlers.context import Resident, resident
from app.handlers.messages import Inbound, Reply
from app.handlers.state import Conversation
from app.nlp import Understanding


@dataclass
class Turn:
    """One resident message on its way through the handlers."""

    inbound: Inbound
    conversation: Conversation
    text: str = ""
    understanding: Understanding = field(default_factory=lambda: Understanding("other", 0.0, {}))
    generation: str | None = None  # the register generation read with the conversation (None: do not cache)
    _resident: Resident | None = None

    @property
    def resident(self) -> Resident:
        """The resident's bound room and scanned building, looked up once per turn."""
        if self._resident is None:
            self._resident = resident(self.inbound.openid, self.conversation.building_id, self.generation)
        return self._resident

    def forget_resident(self) -> None:
        """Look the resident up again on next use (after a scan changed the building)."""
        self._resident = None


@dataclass(frozen=True)
class Handler:
    """How a capability answers: `start` for a new request, `resume` for the next message inside its flow.

    `resume` returns None when the message does not answer the pending question, so the engine can treat it anew.
    """

    start: Callable[[Turn], Reply]
    resume: Callable[[Turn], Reply | None] | None = None
    ask: Callable[[Turn], Reply] | None = None  # repeats the pending question of the flow


HANDLERS: dict[str, Handler] = {}


def register(name: str, start: Callable[[Turn], Reply], resume: Callable[[Turn], Reply | None] | None = None,
             ask: Callable[[Turn], Reply] | None = None) -> None:
    """Add a handler; a name can be registered once (a second registration is a programming error)."""
    if name in HANDLERS:
        raise ValueError(f"handler {name!r} registered twice")
    HANDLERS[name] = Handler(start, resume, ask)


def handler_for(name: str) -> Handler:
    """The handler of an intent or flow; unknown names fall back to `other`."""
    return HANDLERS.get(name) or HANDLERS["other"]
