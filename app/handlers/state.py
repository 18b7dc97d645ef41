"""A resident's conversation state: JSON in the key-value store under conv:<openid>, expiring after 30 minutes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from app.extensions import kv

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


def _key(openid: str) -> str:
    return f"conv:{openid}"


def load(openid: str) -> Conversation:
    """The resident's conversation, or a fresh one."""
    raw = kv().get_json(_key(openid))
    if not isinstance(raw, dict):
        return Conversation(openid=openid)
    known = {name: raw[name] for name in Conversation.__dataclass_fields__ if name in raw}
    known["openid"] = openid
    return Conversation(**known)


def save(conversation: Conversation) -> None:
    """Store the conversation with a fresh TTL; an empty one is deleted instead."""
    if conversation.flow is None and conversation.building_id is None:
        kv().delete(_key(conversation.openid))
        return
    kv().set_json(_key(conversation.openid), asdict(conversation), ttl=TTL_SECONDS)
