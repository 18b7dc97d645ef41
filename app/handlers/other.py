"""Out of scope or not understood: say so plainly and offer the menu (numbers pick an item)."""

from __future__ import annotations

from app.handlers import texts
from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register


def start(turn: Turn) -> TextReply:
    """The fallback: an honest "I can't help with that" (or "I didn't understand") and the menu."""
    understood = turn.understanding
    if understood.intent == "other" and understood.confidence >= 0.5:
        lead = "抱歉，这个问题我帮不上忙。"
    else:
        lead = "抱歉，我没太明白您的意思。"
    turn.conversation.start("menu", text=turn.text)
    turn.conversation.choices = list(texts.MENU)
    return TextReply(lead + texts.menu_text())


register("other", start)
