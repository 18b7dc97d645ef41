"""Greetings, thanks, goodbyes and "what can you do": a short answer and the menu."""

from __future__ import annotations

import re

from app.handlers import texts
from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register

_THANKS = re.compile(r"谢|感谢|辛苦|麻烦(你|您)?们?了")
_BYE = re.compile(r"再见|拜拜|晚安|^拜$|^88$")
_ACK = re.compile(r"^(好|好的|好嘞|嗯|嗯嗯|ok|知道了|明白了|收到|行|可以)[啊呀的了哦\s!！。~]*$", re.IGNORECASE)


def start(turn: Turn) -> TextReply:
    """Answer a greeting; hello and "help" get the menu, so the resident can pick by number."""
    text = turn.text.strip().lower()
    if _THANKS.search(text):
        return TextReply("不客气！有事随时找我。")
    if _BYE.search(text):
        return TextReply("再见，祝您生活顺心！有事随时找我。")
    if _ACK.match(text):
        return TextReply("好的。还有需要随时告诉我。")
    turn.conversation.start("menu")
    turn.conversation.choices = list(texts.MENU)
    return TextReply("您好！我是邻里小助手。" + texts.menu_text())


register("greeting", start)
