"""Understanding residents' Chinese messages: understand(text, now) -> Understanding(intent, confidence, slots)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app import clock

INTENTS = ("report_issue", "order_service", "complaint", "fee", "vote", "notice", "progress", "bind", "human",
           "greeting", "other")
# Below this confidence the caller asks ("您是要：1 … 2 …") or offers the menu instead of acting.
CONFIDENCE_THRESHOLD = 0.5
# Candidates worth offering as a choice when unsure.
_CHOICE_FLOOR = 0.12


@dataclass(frozen=True)
class Understanding:
    """What a message means: an intent code, a confidence in [0, 1], and the slots found.

    `alternatives` lists the intents to offer as choices when the message is ambiguous or the confidence is low.
    """

    intent: str
    confidence: float
    slots: dict = field(default_factory=dict)
    alternatives: tuple[str, ...] = ()

    @property
    def needs_choice(self) -> bool:
        """True when the caller should ask which of `alternatives` is meant rather than act."""
        return bool(self.alternatives)

    @property
    def sure(self) -> bool:
        """True when the caller may act on `intent` directly."""
        return not self.alternatives and self.confidence >= CONFIDENCE_THRESHOLD


def warm_up() -> None:
    """Load jieba and the classifier now, so the first message is not slow."""
    from app.nlp.features import tokenizer
    from app.nlp.model import model

    tokenizer()
    model()
    understand("3号楼2单元楼道灯坏了")


def understand(text: str, now: datetime | None = None) -> Understanding:
    """Intent, confidence and slots of one message; `when` is resolved relative to `now` (default clock.now())."""
    from app.nlp import rules
    from app.nlp.model import model
    from app.nlp.slots import extract_category, extract_place, extract_service
    from app.nlp.text import clean
    from app.nlp.when import extract_when

    cleaned = clean(text)
    if not cleaned:
        return Understanding("other", 0.0, {})
    remaining, ruled_out = rules.negations(cleaned)
    place = extract_place(cleaned)
    ruled = rules.rule_intent(cleaned) if not ruled_out else None
    if ruled is None and place and rules.address_only(cleaned):
        ruled = ("bind", 0.9)
    if ruled:
        intent, confidence = ruled
        ranked = [(intent, confidence)]
    else:
        probs = model().probabilities(remaining or cleaned)
        for name in ruled_out:
            probs[name] = 0.0
        total = sum(probs.values()) or 1.0
        ranked = sorted(((k, v / total) for k, v in probs.items()), key=lambda kv: (-kv[1], kv[0]))
        intent, confidence = ranked[0]
        if len(cleaned.replace(" ", "")) <= rules.SHORT:
            # One or two characters ("楼上", "水") rarely say enough to act on: ask rather than trust the model.
            confidence = min(confidence, CONFIDENCE_THRESHOLD - 0.05)

    alternatives: tuple[str, ...] = ()
    home_or_shared = intent in rules.AMBIGUOUS_PAIR and rules.home_or_shared_unclear(cleaned)
    if home_or_shared:
        alternatives = rules.AMBIGUOUS_PAIR
        confidence = min(confidence, CONFIDENCE_THRESHOLD - 0.01)
    elif confidence < CONFIDENCE_THRESHOLD:
        alternatives = tuple(k for k, v in ranked[:3] if v >= _CHOICE_FLOOR and k not in ("other", "greeting"))

    slots: dict = dict(place)
    appointment = intent == "order_service" or home_or_shared
    if intent not in ("complaint", "greeting"):
        # Complaints describe habits ("半夜跳绳"), greetings say "早上好": neither names a time to act on.
        moment = extract_when(cleaned, now or clock.now(), loose=appointment)
        if moment is not None:
            slots["when"] = moment
    if appointment:
        service = extract_service(cleaned)
        if service:
            slots["service"] = service
    if intent in ("report_issue", "complaint") or home_or_shared:
        slots["category"] = extract_category(cleaned)
    return Understanding(intent, round(float(confidence), 4), slots, alternatives)
