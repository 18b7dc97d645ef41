"""The outbox: enqueue in the caller's transaction; a sender that claims, sends once, and records the outcome."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import requests
from sqlalchemy import select, update
from wechatpy.exceptions import WeChatClientException

from app import clock
from app.extensions import db, kv
from app.models.outbox import OutboxMessage

log = logging.getLogger(__name__)

KIND_CHANNELS = {"text": "custom", "news": "custom", "image": "custom", "template": "template",
                 "subscribe": "subscribe"}
# System busy, API quota; a token still rejected after the client's one refresh is retried later too.
RETRYABLE = {-1, 45009, 40001, 40014, 42001}
WINDOW_CLOSED = {45015, 45047}  # outside the 48 h window / over its reply count
UNSUBSCRIBED = 43004
MAX_ATTEMPTS = 8
CLAIM_TIMEOUT = timedelta(minutes=2)
UNCERTAIN = "发送中断，无法确认是否已送达；请核实后再决定是否重发"


def enqueue(openid: str, kind: str, payload: dict, key: str, *, not_before=None) -> OutboxMessage:
    """Add a message to the caller's session (the caller commits it with its own change); one row per key."""
    if kind not in KIND_CHANNELS:
        raise ValueError(f"unknown outbox kind {kind}")
    existing = db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    if existing is not None:
        return existing
    message = OutboxMessage(idempotency_key=key, openid=openid, kind=kind, channel=KIND_CHANNELS[kind],
                            payload=payload, status="pending", attempts=0,
                            next_attempt_at=not_before or clock.now())
    db.session.add(message)
    return message


def record_delivery(msgid: str, status: str) -> OutboxMessage | None:
    """TEMPLATESENDJOBFINISH: store WeChat's delivery status on the message it refers to."""
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.wechat_msgid == str(msgid)))
    if message is None:
        log.info("delivery report for unknown msgid=%s status=%s", msgid, status)
        return None
    message.delivery_status = status[:60]
    message.delivered_at = clock.now()
    if status.startswith("failed") and "block" in status:
        message.status, message.last_error = "undeliverable", "用户拒收"
    db.session.commit()
    return message


def retry_message(message_id: int) -> bool:
    """Staff decided to send a failed message again: back to pending (same key, still sent at most once)."""
    changed = db.session.execute(update(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.status.in_(("failed", "undeliverable"))).values(
        status="pending", next_attempt_at=clock.now(), attempts=0, claimed_at=None, claimed_by=None)).rowcount
    db.session.commit()
    return bool(changed)


@dataclass
class SendReport:
    """What one sender run did."""

    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    undeliverable: list[int] = field(default_factory=list)
    fell_back: list[int] = field(default_factory=list)
    recovered: int = 0
    rate_limited: bool = False


def send_pending(limit: int = 50, client=None) -> SendReport:
    """Send due messages once each: recover stale claims, then claim → send → record one message at a time."""
    from app.wechat.client import get_client

    client = client or get_client()
    report = SendReport(recovered=_recover_stale())
    token = uuid.uuid4().hex
    for _ in range(limit):
        message_id = _claim_next(token)
        if message_id is None:
            break
        message = db.session.get(OutboxMessage, message_id)
        if kv().hit_limit("wx:outbox:rate", _rate(), 1.0):
            # Over the shared per-second budget: hand it back untouched for the next run.
            _release(message)
            report.rate_limited = True
            break
        _send_one(client, message, report)
        db.session.commit()  # recorded before the next claim: a crash leaves at most one row in doubt
    return report


def _rate() -> int:
    from flask import current_app

    return int(current_app.config.get("WECHAT_SEND_RATE", 20))


def _recover_stale() -> int:
    """A row left in `sending` by a killed sender was mid-request: template sends are idempotent (client_msg_id)
    and go again; for the others WeChat may already have delivered, so a person decides instead of a double."""
    cutoff = clock.now() - CLAIM_TIMEOUT
    stale = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.status == "sending", OutboxMessage.claimed_at < cutoff)).all()
    for message in stale:
        if message.channel == "template":
            message.status, message.next_attempt_at = "pending", clock.now()
        else:
            message.status, message.last_error = "failed", UNCERTAIN
        log.warning("outbox: stale claim id=%s key=%s → %s", message.id, message.idempotency_key, message.status)
    db.session.commit()
    return len(stale)


def _claim_next(token: str) -> int | None:
    """Claim one due row and commit the claim: SKIP LOCKED on PostgreSQL, an atomic pending→sending UPDATE
    everywhere, so two senders never hold the same row."""
    due = (select(OutboxMessage.id).where(OutboxMessage.status == "pending",
                                          OutboxMessage.next_attempt_at <= clock.now())
           .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id))
    if db.engine.dialect.name == "postgresql":
        due = due.limit(1).with_for_update(skip_locked=True)
    else:
        due = due.limit(20)
    for message_id in db.session.scalars(due).all():
        result = db.session.execute(update(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.status == "pending").values(
            status="sending", claimed_at=clock.now(), claimed_by=token, attempts=OutboxMessage.attempts + 1))
        if result.rowcount == 1:
            db.session.commit()
            return message_id
    db.session.commit()
    return None


def _release(message: OutboxMessage) -> None:
    message.status, message.attempts = "pending", max(0, message.attempts - 1)
    message.claimed_at = message.claimed_by = None
    db.session.commit()


def client_msg_id(key: str) -> str:
    """A short stable id derived from the idempotency key (WeChat limits client_msg_id's length)."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:32]


def _send_one(client, message: OutboxMessage, report: SendReport) -> None:
    try:
        result = _dispatch(client, message)
    except (requests.Timeout, requests.ConnectionError) as error:
        if message.channel == "template" or _surely_not_sent(error):
            # Safe to repeat: nothing reached WeChat, or client_msg_id makes WeChat drop the repeat.
            _schedule_retry(message, f"网络超时：{type(error).__name__}", report)
        else:
            # The request may have been delivered before the answer was lost: retrying could send it twice.
            message.status, message.last_error = "failed", f"{UNCERTAIN}（{type(error).__name__}）"
            report.failed.append(message.id)
        return
    except WeChatClientException as error:
        _handle_api_error(message, error, report)
        return
    except (KeyError, ValueError, TypeError) as error:  # a payload or template the sender cannot build
        message.status, message.last_error = "failed", f"消息内容有误：{error}"
        report.failed.append(message.id)
        return
    message.status, message.sent_at, message.last_error = "sent", clock.now(), None
    msgid = (result or {}).get("msgid")
    message.wechat_msgid = str(msgid) if msgid else None
    report.sent.append(message.id)


def _surely_not_sent(error: requests.RequestException) -> bool:
    """Whether the request never left (no connection); a read timeout or a reset is ambiguous."""
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _dispatch(client, message: OutboxMessage) -> dict:
    payload = message.payload or {}
    if message.channel == "custom":
        return client.send_custom(message.openid, message.kind, payload)
    if message.channel == "template":
        template_id, data = _template_data(payload)
        return client.send_template(message.openid, template_id, data, url=payload.get("url"),
                                    client_msg_id=client_msg_id(message.idempotency_key))
    if message.channel == "subscribe":
        return client.send_subscribe(message.openid, payload["template_id"], payload["data"], payload.get("page"))
    raise ValueError(f"unknown channel {message.channel}")


def _template_data(payload: dict) -> tuple[str, dict]:
    """Resolve our template name and values to WeChat's template id and field data via WECHAT_TEMPLATES."""
    from flask import current_app

    spec = current_app.config.get("WECHAT_TEMPLATES", {})[payload["template"]]
    values = payload.get("values", {})
    return spec["template_id"], {name: {"value": str(values.get(source, ""))}
                                 for name, source in spec["fields"].items()}


def _handle_api_error(message: OutboxMessage, error: WeChatClientException, report: SendReport) -> None:
    code = error.errcode
    if code == UNSUBSCRIBED:
        from app.models import ResidentAccount

        message.status, message.last_error = "undeliverable", "居民已取消关注（43004）"
        # WeChat knows better than our record (an unsubscribe event may have been lost): stop messaging them.
        db.session.execute(update(ResidentAccount).where(ResidentAccount.openid == message.openid)
                           .values(subscribed=False))
        kv().delete(f"wx:account-fresh:{message.openid}")
        report.undeliverable.append(message.id)
    elif code in WINDOW_CLOSED and message.channel == "custom":
        _fall_back_to_template(message, code, report)
    elif code in RETRYABLE or code is None:
        _schedule_retry(message, f"微信接口繁忙（{code}）", report)
    else:
        message.status, message.last_error = "failed", f"微信接口错误 {code}：{error.errmsg}"
        report.failed.append(message.id)


def _schedule_retry(message: OutboxMessage, reason: str, report: SendReport) -> None:
    message.last_error = reason
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        report.failed.append(message.id)
        return
    # Exponential backoff: 30 s, 1 min, 2 min … capped at an hour.
    delay = min(30 * 2 ** max(0, message.attempts - 1), 3600)
    message.status, message.next_attempt_at = "pending", clock.now() + timedelta(seconds=delay)
    message.claimed_at = message.claimed_by = None
    report.retried.append(message.id)


def _fall_back_to_template(message: OutboxMessage, code: int, report: SendReport) -> None:
    """The 48 h window is closed: the same content goes out as a notice template (same key, same row)."""
    from flask import current_app

    name = current_app.config.get("WECHAT_FALLBACK_TEMPLATE")
    if not name or name not in current_app.config.get("WECHAT_TEMPLATES", {}):
        message.status, message.last_error = "failed", f"会话窗口已关闭（{code}），且未配置通知模板"
        report.failed.append(message.id)
        return
    payload = message.payload or {}
    text = payload.get("text") or "；".join(a.get("title", "") for a in payload.get("articles", [])) or "您有一条新消息"
    url = (payload.get("articles") or [{}])[0].get("url") if payload.get("articles") else payload.get("url")
    message.payload = {"template": name, "url": url, "values": {
        "title": "邻里通知", "summary": text if len(text) <= 20 else text[:19] + "…", "text": text,
        "time": message.created_at.strftime("%Y-%m-%d %H:%M"), "remark": text}}
    message.channel, message.kind, message.fell_back = "template", "template", True
    message.status, message.next_attempt_at, message.last_error = "pending", clock.now(), f"窗口已关闭（{code}），改发模板消息"
    message.claimed_at = message.claimed_by = None
    report.fell_back.append(message.id)
