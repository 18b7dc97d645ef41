"""Chat handlers: respond(inbound) turns one resident message into a reply value.

The engine: load the conversation state → control words (取消, 返回) → the open flow's next step → understand the
text → ask when unsure → the handler registered for the intent → save the state. No Flask request, no XML.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Callable

from app.handlers import (bind, clarify, commands, events, fee, greeting, human, notice, other,  # noqa: F401
                          progress, report, service, state, texts, vote)
from app.extensions import kv
from app.handlers.messages import Inbound, NoReply, Reply, TextReply
from app.handlers.registry import HANDLERS, Turn
from app.kv import AlreadyClaimed, LockTimeout
from app.nlp import understand
from app.nlp.text import clean
from app.services import register_cache

log = logging.getLogger(__name__)

_CANCEL = re.compile(r"^(取消|算了|算了吧|不用了|不要了|不办了|不弄了|退出|结束|不报了|不约了|没事了|不用麻烦了)"
                     r"[了吧啊呀哈。,!\s]*$")
_BACK = re.compile(r"^(返回|上一步|回到上一步|退回|后退|返回上一步)[吧。!\s]*$")
_SILENT_KINDS = {"view", "location_event", "unsubscribe"}


@dataclass
class Once:
    """The webhook's retry safety, riding on the conversation's two round trips instead of two of its own.

    `claim` (key, value, ttl) is set-if-absent with the lock (AlreadyClaimed when another delivery has it);
    `prepare` runs once the claim is ours; `seal(reply)` gives (key, value, ttl, only_if) to write with the state.
    `sealed` tells the caller that write went out with the state (applied only where `only_if` still held).
    `mark` (key, value, ttl) is set-if-absent in the same round trip, before the claim (MarkTaken: see kv.guarded).
    """

    claim: tuple[str, str, float]
    seal: Callable[[Reply], tuple[str, str, float, str]]
    prepare: Callable[[], None] = lambda: None
    sealed: bool = False
    mark: tuple[str, str, float] | None = None


def respond(inbound: Inbound, once: Once | None = None) -> Reply:
    """Answer one inbound message or event, keeping the resident's conversation state in the key-value store."""
    # One message of a resident at a time: two quick messages must not overwrite each other's state. The lock and
    # the state travel together (one round trip to take and read, one to write and release).
    reply = None
    try:
        # The register generation comes along: the resident's room and contacts cached at it can be trusted.
        with kv().guarded(f"conv:{inbound.openid}", state.key(inbound.openid), timeout=15, wait=3,
                          also=(register_cache.KEY,), claim=once.claim if once else None,
                          mark=once.mark if once else None) as stored:
            if once:
                once.prepare()
            conversation = state.decode(inbound.openid, stored.value)
            turn = Turn(inbound=inbound, conversation=conversation, text=(inbound.text or "").strip(),
                        generation=stored.also[register_cache.KEY] or "0")
            reply = route(turn)
            raw = state.encode(conversation)
            if raw is None:
                stored.remove()
            else:
                stored.put(raw, ttl=state.TTL_SECONDS)
            if once:
                stored.seal(*once.seal(reply))
        if once:
            once.sealed = True
    except AlreadyClaimed:
        raise
    except LockTimeout:
        log.warning("conversation busy openid=%s kind=%s", inbound.openid, inbound.kind)
        return TextReply("上一条消息还在处理，请稍等几秒再发。")
    except Exception:
        if reply is None:
            raise
        # The handler's work is committed; only saving the state failed (the store went away). The real answer
        # beats "please try again", which would make the resident report the same thing twice.
        log.warning("conversation state not saved openid=%s", inbound.openid, exc_info=True)
        return reply
    # DEBUG, not INFO: a line per message cost about 5 % of the webhook's throughput and wrote every resident's
    # openid to the logs; failures, refusals and late replies are logged at INFO and above all the same.
    log.debug("chat openid=%s kind=%s intent=%s flow=%s", inbound.openid, inbound.kind,
             turn.understanding.intent, conversation.flow)
    return reply


def route(turn: Turn) -> Reply:
    """Answer one turn by its kind: the engine between loading the conversation and saving it."""
    kind = turn.inbound.kind
    if kind == "subscribe":
        return events.subscribe(turn)
    if kind == "scan":
        return events.scan(turn)
    if kind == "click":
        return events.click(turn)
    if kind in ("image", "video", "shortvideo"):
        return events.media(turn)
    if kind in ("location", "location_event"):
        return events.location(turn)
    if kind in _SILENT_KINDS:
        return NoReply()
    if kind == "voice":
        if turn.conversation.flow in events.FLOWS_WITH_MEDIA:
            turn.conversation.attach("voice", turn.inbound.media_id)
        if not clean(turn.text):
            return TextReply(texts.DIDNT_HEAR)
        return _text(turn)
    if kind == "text":
        return _text(turn)
    return TextReply("暂时只能看懂文字、语音和照片。" + texts.EXAMPLE)


def _text(turn: Turn) -> Reply:
    reply = _answer_text(turn)
    if isinstance(reply, TextReply) and texts.EMERGENCY.search(turn.text):
        return TextReply(texts.EMERGENCY_TEXT + "\n" + reply.text)
    return reply


def _answer_text(turn: Turn) -> Reply:
    conversation, cleaned = turn.conversation, clean(turn.text)
    if not cleaned:
        return TextReply("收到。" + texts.EXAMPLE)
    if _CANCEL.match(cleaned):
        was_open = conversation.flow is not None
        conversation.end()
        return TextReply(texts.CANCELLED if was_open else "好的。有需要随时找我。")
    handler = HANDLERS.get(conversation.flow) if conversation.flow else None
    command = commands.match(turn)
    if command is not None:
        return command
    if _BACK.match(cleaned):
        if handler is not None and handler.ask is not None:
            if conversation.back():
                return handler.ask(turn)
            return TextReply("已经是第一步了。" + handler.ask(turn).text)
        conversation.end()
        return TextReply("已回到开始。" + texts.menu_text())
    turn.understanding = understand(turn.text)
    if handler is not None and handler.resume is not None:
        reply = handler.resume(turn)
        if reply is not None:
            return reply
        understood = turn.understanding
        switching = understood.sure and understood.intent not in ("greeting", "other", conversation.flow)
        if handler.ask is not None and not switching:
            return TextReply("抱歉，没听明白。" + handler.ask(turn).text)
        conversation.end()
    return dispatch(turn)


def dispatch(turn: Turn) -> Reply:
    """Start the handler of the understood intent: ask when ambiguous, the fallback when unsure or out of scope."""
    understood = turn.understanding
    if understood.needs_choice:
        return clarify.ask(turn, list(understood.alternatives))
    if not understood.sure:
        return HANDLERS["other"].start(turn)
    return HANDLERS[understood.intent].start(turn)
