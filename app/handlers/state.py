"""A resident's conversation state: JSON under conv:<openid>, kept by the engine under a lock, for 30 minutes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


TTL_SECONDS = 30 * 60
MAX_MEDIA = 9
MAX_HISTORY = 10


@dataclass
class Conversation:
    """Where a resident is in a dialogue: the flow (an intent code, "clarify" or "menu"), its step and slots."""

    openid: str
    flow: str | None = None
    step: str | None = None
    slots: dict = field(default_factory=dict)  # JSON-safe: `when` is kept as an ISO string
    media: list = field(default_factory=list)  # [{"kind": "image", "media_id": "…"}]
    history: list = field(default_factory=list)  # earlier steps with the slots they started from, for 返回
    entered: dict = field(default_factory=dict)  # the slots when the current step was entered
    asked: bool = False  # whether the current step's question was asked (a placeholder step is not)
    choices: list = field(default_factory=list)  # intent codes offered as numbered choices
    text: str = ""  # the message that started the flow or the clarification
    building_id: int | None = None  # from a QR scan of a building

    def start(self, flow: str, step: str | None = None, text: str = "") -> None:
        """Begin a flow, keeping the scanned building (it still tells where the resident is)."""
        self.flow, self.step, self.text, self.asked = flow, step, text, False
        self.slots, self.media, self.history, self.choices, self.entered = {}, [], [], [], {}

    def goto(self, step: str) -> None:
        """Ask a step's question next; the question asked before is remembered so that 返回 can go back to it."""
        if self.step == step and self.asked:
            return
        if self.asked:
            self.history.append({"step": self.step, "slots": self.entered})
            del self.history[:-MAX_HISTORY]
        self.step, self.entered, self.asked = step, dict(self.slots), True

    def back(self) -> bool:
        """Return to the previous question, with the slots as they were before it was answered."""
        if not self.history:
            return False
        previous = self.history.pop()
        self.step, self.slots, self.entered = previous["step"], dict(previous["slots"]), dict(previous["slots"])
        return True

    def end(self) -> None:
        """Leave any flow (the scanned building stays for the rest of the session)."""
        self.flow = self.step = None
        self.text, self.asked = "", False
        self.slots, self.media, self.history, self.choices, self.entered = {}, [], [], [], {}

    def attach(self, kind: str, media_id: str) -> None:
        """Keep a photo or voice message with the current flow."""
        if media_id and len(self.media) < MAX_MEDIA:
            self.media.append({"kind": kind, "media_id": media_id})


def key(openid: str) -> str:
    """The key-value key of a resident's conversation."""
    return f"conv:{openid}"


def decode(openid: str, raw: str | None) -> Conversation:
    """The conversation stored as `raw` JSON, or a fresh one."""
    data = json.loads(raw) if raw else None
    if not isinstance(data, dict):
        return Conversation(openid=openid)
    known = {name: data[name] for name in Conversation.__dataclass_fields__ if name in data}
    known["openid"] = openid
    return Conversation(**known)


def encode(conversation: Conversation) -> str | None:
    """The JSON to store, or None when there is nothing worth keeping (no flow, no scanned building)."""
    if conversation.flow is None and conversation.building_id is None:
        return None
    # A shallow dict: dataclasses.asdict deep-copies every slot and list first, which json.dumps does not need.
    fields = {name: getattr(conversation, name) for name in Conversation.__dataclass_fields__}
    return json.dumps(fields, ensure_ascii=False, default=str)
