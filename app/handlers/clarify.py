"""Asking instead of guessing: numbered choices after an ambiguous message, and the numbered menu."""

from __future__ import annotations

import re

from app.handlers import texts
from app.handlers.messages import Reply, TextReply
from app.handlers.registry import HANDLERS, Turn, register
from app.nlp import Understanding, understand
from app.nlp.rules import AMBIGUOUS_PAIR

# Words that pick a side when Linli asked "home or shared?".
_HOME = re.compile(r"家里|我家|自己家|屋里|上门|预约|室内|家")
_SHARED = re.compile(r"公共|楼道|小区|大家|外面|报修|公家|楼下")


def ask(turn: Turn, choices: list[str]) -> TextReply:
    """Offer the choices for the current message and remember it, so the answer can pick one."""
    conversation = turn.conversation
    conversation.start("clarify", text=turn.text)
    conversation.choices = list(choices)
    return TextReply(f"您是要：{texts.numbered(choices)}？请回复数字。")


def _picked(turn: Turn) -> str | None:
    choices = turn.conversation.choices
    index = texts.choice_index(turn.text, len(choices))
    if index is not None:
        return choices[index]
    if tuple(sorted(choices)) == tuple(sorted(AMBIGUOUS_PAIR)):
        home, shared = bool(_HOME.search(turn.text)), bool(_SHARED.search(turn.text))
        if home != shared:
            return "order_service" if home else "report_issue"
    for code in choices:
        if texts.LABELS.get(code, "\0") in turn.text:
            return code
    return None


def resume_clarify(turn: Turn) -> Reply | None:
    """Continue with the chosen intent, on the message that needed the choice."""
    chosen = _picked(turn)
    if chosen is None:
        return None
    original = turn.conversation.text
    slots = dict(understand(original).slots) if original else {}
    if chosen == "order_service":
        from app.nlp.slots import extract_service
        from app.nlp.text import clean

        service = extract_service(clean(original))
        if service:
            slots["service"] = service
        slots.pop("category", None)
    elif chosen in ("report_issue", "complaint"):
        from app.nlp.slots import extract_category
        from app.nlp.text import clean

        slots["category"] = extract_category(clean(original))
        slots.pop("service", None)
    turn.conversation.end()
    turn.text = original
    turn.understanding = Understanding(chosen, 1.0, slots)
    return HANDLERS[chosen].start(turn)


def resume_menu(turn: Turn) -> Reply | None:
    """A number after the menu starts that capability afresh."""
    index = texts.choice_index(turn.text, len(turn.conversation.choices))
    if index is None:
        return None
    chosen = turn.conversation.choices[index]
    turn.conversation.end()
    turn.text = ""
    turn.understanding = Understanding(chosen, 1.0, {})
    return HANDLERS[chosen].start(turn)


def _unused(turn: Turn) -> TextReply:
    # "clarify" and "menu" are flows, never intents: nothing starts them through the registry.
    return TextReply(texts.menu_text())


register("clarify", _unused, resume_clarify)
register("menu", _unused, resume_menu)
