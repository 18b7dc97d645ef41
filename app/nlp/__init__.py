"""Understanding residents' Chinese messages: understand(text, now) -> Understanding(intent, confidence, slots)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Understanding:
    """What a message means: an intent code, a confidence in [0, 1], and the slots found."""

    intent: str
    confidence: float
    slots: dict = field(default_factory=dict)


def warm_up() -> None:
    """Load jieba and the classifier now, so the first message is not slow."""


def understand(text: str, now: datetime | None = None) -> Understanding:
    """Placeholder until the understanding issue lands: nothing is understood."""
    return Understanding("other", 0.0, {})
