"""The /wechat webhook: verify → admit by mode → parse → one message per nonce, dedupe → respond under a deadline →
render (encrypted in safe mode).

Pushes (POST) are answered by a WSGI middleware in front of Flask, inside an app context but without a request
context: routing, the session cookie, request and response objects cost more than half of what an echo costs, and
WeChat sends nothing they would serve. The URL verification (GET) is an ordinary view.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import unquote_plus

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.wsgi import get_input_stream

from app import clock
from app.extensions import csrf, db, kv
from app.handlers.messages import Inbound, Reply, TextReply
from app.kv import AlreadyClaimed, Mark, MarkTaken
from app.web.handoff import Pending, Workers
from app.wechat.crypto import check_timestamp, crypto_from_config
from app.wechat.dedupe import DONE, GONE, LATE, Deduper
from app.wechat.errors import BadMessage, BadSignature, GatewayError, TooLarge
from app.wechat.modes import admit, webhook_mode
from app.wechat.parse import Parsed, to_inbound, xml_to_dict
from app.wechat.replay import nonce_mark
from app.wechat.reply import render_reply, reply_to_outbox

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)
csrf.exempt(bp)  # WeChat cannot send a CSRF token; every request is signed instead

SORRY = "抱歉，系统有点忙，请稍后再试一次。"
# Handlers run on this pool so the request can give up at the deadline while the answer is still computed.
_POOL = Workers(16, "wechat-respond")
HEARTBEAT = 1.0  # seconds between renewals of a message's claim while its handler runs (well under PROCESSING_TTL)
NO_REPLY_KINDS = {"template_finish", "subscribe_msg_popup", "subscribe_msg_change", "subscribe_msg_sent"}
GATEWAY_KINDS = NO_REPLY_KINDS | {"unsubscribe"}  # handled here, without the chat engine
DUPLICATE = object()  # the pool's answer when another delivery of the message holds its claim
_REFUSALS = {400: "bad request", 403: "forbidden", 413: "too large"}


def _plain(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def _crypto(app: Flask):
    crypto = app.extensions.get("linli_wechat_crypto")
    if crypto is None:
        crypto = app.extensions["linli_wechat_crypto"] = crypto_from_config(app.config)
    return crypto


def _refusal(error: GatewayError, address: str | None) -> str:
    """Log a refused request; the short plain-text body to answer with, never an HTML page or a stack trace."""
    log.info("wechat request refused status=%s reason=%s ip=%s", error.status, error, address)
    return _REFUSALS.get(error.status, "error")


@bp.errorhandler(GatewayError)
def _refuse(error: GatewayError):
    return _plain(_refusal(error, request.remote_addr), error.status)


@bp.get("/wechat")
def verify():
    """WeChat's URL verification: echo `echostr` when the signature matches.

    In every mode: WeChat checks the URL of a safe-mode account with this same plain GET (echostr is not encrypted
    for official accounts), and echoing a string changes nothing, so the nonce is not marked.
    """
    args = request.args
    _crypto(current_app).check_signature(args.get("signature"), args.get("timestamp", ""), args.get("nonce", ""))
    return _plain(args.get("echostr", ""))


class WebhookMiddleware:
    """WSGI: POST /wechat goes to `receive`, everything else to the Flask app."""

    def __init__(self, app: Flask, wsgi_app) -> None:
        self.app, self.wsgi_app = app, wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/wechat" or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        # No app context here: receive() is given the app, and the work that needs one (database, handlers) runs in
        # its own on the pool; pushing and popping another per message cost more than the URL parsing.
        try:
            status, body, mimetype = receive(self.app, environ)
        except GatewayError as error:
            status, body, mimetype = error.status, _refusal(error, environ.get("REMOTE_ADDR")), "text/plain"
        except Exception:
            log.exception("webhook request failed")
            status, body, mimetype = 500, "error", "text/plain"
        data = body.encode("utf-8")
        start_response(f"{status} {HTTPStatus(status).phrase}", [("Content-Type", f"{mimetype}; charset=utf-8"),
                                                                 ("Content-Length", str(len(data)))])
        return [data]


def receive(app: Flask, environ) -> tuple[int, str, str]:
    """One pushed message or event: (status, body, mimetype)."""
    args = _query_args(environ.get("QUERY_STRING", ""))
    config = app.config
    crypto = _crypto(app)
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    crypto.check_signature(args.get("signature"), timestamp, nonce)
    now, window = clock.now().timestamp(), config["WECHAT_TIMESTAMP_WINDOW"]
    check_timestamp(timestamp, now, window)
    encrypted = args.get("encrypt_type", "raw").lower() == "aes"
    admit(webhook_mode(config), encrypted)  # before the body is even read
    body = _read_body(environ, config["WECHAT_MAX_BODY"])
    data = xml_to_dict(body)
    message = body
    if encrypted:
        if not data.get("Encrypt") or not isinstance(data["Encrypt"], str):
            raise BadMessage("encrypt_type=aes without <Encrypt>")
        inner = crypto.decrypt(data["Encrypt"], args.get("msg_signature"), timestamp, nonce)
        data, message = xml_to_dict(inner), inner.encode("utf-8")
    parsed = to_inbound(data, clock.now())
    if args.get("openid") and args["openid"] != parsed.from_user:
        raise BadMessage("query openid does not match FromUserName")
    # The pair may sign this message only: set with the claim, in its round trip (refused there if it signed another).
    mark = nonce_mark(timestamp, nonce, message, now, window)
    try:
        xml = _handle_once(app, parsed, mark)
    except GatewayError:
        raise  # a refusal (the pair signed another message): nothing ran, WeChat gets the status
    except Exception:
        # Our own failure (database, store…): the resident gets a polite line, WeChat never an error page.
        log.exception("webhook failed openid=%s key=%s", parsed.from_user, parsed.dedupe_key)
        xml = render_reply(TextReply(SORRY), parsed.from_user, parsed.to_user)
    if xml is None:
        return 200, "success", "text/plain"
    if encrypted:
        xml = crypto.encrypt(xml)
    return 200, xml, "application/xml"


def _query_args(query: str) -> dict[str, str]:
    """The query string as a dict, the first value of a name winning (as with request.args.get)."""
    args: dict[str, str] = {}
    # WeChat's parameters (hex, digits, openids) need no decoding: only a query that has escapes pays for it. This is
    # parse_qsl(keep_blank_values=True) for what a push carries, at a fraction of its cost.
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            name, value = unquote_plus(name), unquote_plus(value)
        args.setdefault(name, value)
    return args


def _read_body(environ, limit: int) -> bytes:
    try:
        declared = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadMessage("bad Content-Length") from None
    if declared > limit:
        raise TooLarge("declared length over limit")
    body = get_input_stream(environ).read(limit + 1)
    if len(body) > limit:
        raise TooLarge("body over limit")
    return body


def _handle_once(app: Flask, parsed: Parsed, mark: Mark) -> str | None:
    """Process the first delivery; a retry gets the cached reply (or waits briefly for a concurrent first one)."""
    deduper = Deduper(kv(app))
    key = parsed.dedupe_key
    for attempt in (1, 2):
        try:
            outcome = _process(app, parsed, key, deduper, mark)
        except _FailedAfterClaim:
            # Nothing useful was answered: let a retry of this message try again rather than get `success`. (Other
            # failures may have come before our claim, which may be another delivery's: that one lapses by itself.)
            deduper.release(key)
            raise
        if outcome is not DUPLICATE:
            break
        # A live first delivery settles (done or late) within the deadline; a claim that lapses instead belonged to
        # a worker that died mid-request, and this retry takes the message over (once).
        seen = deduper.wait(key, timeout=app.config["WECHAT_REPLY_DEADLINE"])
        log.info("duplicate delivery key=%s state=%s", key, seen.state)
        if seen.state != GONE or attempt == 2:
            return seen.xml if seen.state == DONE else None
    if outcome is LATE:
        return None
    if isinstance(outcome, Sealed):
        return outcome.xml  # stored for retries together with the conversation state
    xml = render_reply(outcome, parsed.from_user, parsed.to_user)
    try:
        deduper.finish(key, xml)
    except Exception:
        # The work is done and committed: a store that went away must not turn the answer into "please try again".
        log.warning("reply not cached key=%s", key, exc_info=True)
    return xml


def _process(app: Flask, parsed: Parsed, key: str, deduper: Deduper, mark: Mark):
    """Run everything that touches the database or the handlers on the pool, under the reply deadline."""
    inbound = parsed.inbound
    pending = _POOL.submit(_work, app, parsed, deduper, mark)
    deadline = time.monotonic() + app.config["WECHAT_REPLY_DEADLINE"]
    while True:
        if pending.wait(min(HEARTBEAT, deadline - time.monotonic())):
            return pending.result()
        if time.monotonic() >= deadline:
            break
        deduper.keep(key)  # still working: keep the claim alive (it lapses soon if this worker dies)
    log.warning("reply deadline passed openid=%s key=%s; answer goes via the outbox", inbound.openid, key)
    deduper.mark_late(key)
    pending.when_done(lambda done: _send_late(app, inbound, key, done))
    return LATE


@dataclass(frozen=True)
class Sealed:
    """A reply whose XML is already stored for retries (written with the conversation state)."""

    reply: Reply
    xml: str | None


class _FailedAfterClaim(Exception):
    """A side effect failed after this delivery claimed the message (the database is away…): the claim goes back."""


def _work(app, parsed: Parsed, deduper: Deduper, mark: Mark):
    """Mark the nonce and claim the message, then gateway side effects and the handlers: a Reply, Sealed, None or
    DUPLICATE.

    A handler exception becomes a polite text, logged with the openid. Side-effect failures after the claim
    (database down…) raise _FailedAfterClaim, so that the claim is released and a retry can try again. A nonce that
    signed another message raises BadSignature before anything is claimed or run.
    """
    try:
        return _claimed_work(app, parsed, deduper, mark)
    except MarkTaken:
        raise BadSignature("timestamp and nonce already used for another message") from None


def _claimed_work(app, parsed: Parsed, deduper: Deduper, mark: Mark):
    """_work without the translation of MarkTaken."""
    from app import handlers
    from app.services import accounts, outbox

    inbound, key = parsed.inbound, parsed.dedupe_key
    with app.app_context():
        if inbound.kind in GATEWAY_KINDS:
            if not deduper.claim(key, mark):
                return DUPLICATE
            try:
                if inbound.kind == "unsubscribe":
                    accounts.mark_unsubscribed(inbound.openid, inbound.received_at)
                elif inbound.kind == "template_finish":
                    outbox.record_delivery(inbound.msg_id, inbound.text)
                else:
                    log.info("subscribe message event openid=%s kind=%s %s", inbound.openid, inbound.kind,
                             inbound.event_key)
            except Exception as error:
                db.session.rollback()
                raise _FailedAfterClaim from error
            return None

        claimed = False

        def prepare() -> None:
            nonlocal claimed
            claimed = True  # the claim came with the lock
            try:
                accounts.record_interaction(inbound.openid, inbound.kind, inbound.received_at)
            except Exception as error:
                raise _FailedAfterClaim from error

        xml = None

        def seal(reply: Reply) -> tuple[str, str, float, str]:
            nonlocal xml
            xml = render_reply(reply, parsed.from_user, parsed.to_user)
            return deduper.seal_spec(key, xml)

        # The claim goes with the conversation lock and the reply with its state: two round trips, not four.
        once = handlers.Once(claim=deduper.claim_spec(key), seal=seal, prepare=prepare, mark=mark)
        try:
            reply = handlers.respond(inbound, once)
        except AlreadyClaimed:
            return DUPLICATE
        except _FailedAfterClaim:
            db.session.rollback()
            raise
        except Exception:
            db.session.rollback()
            if not claimed:
                raise  # the store failed before the claim was ours: no reply may be stored under this message
            log.exception("handler failed openid=%s kind=%s", inbound.openid, inbound.kind)
            return TextReply(SORRY)
        return Sealed(reply, xml) if once.sealed else reply


def _send_late(app, inbound: Inbound, key: str, pending: Pending) -> None:
    """The handler finished after the deadline: queue its reply as a customer-service message."""
    from app.services import outbox

    if pending.exception() is not None:
        log.error("late processing failed openid=%s key=%s: %r", inbound.openid, key, pending.exception())
        return
    result = pending.result()
    message = reply_to_outbox(result.reply if isinstance(result, Sealed) else result)
    if message is None:
        return
    with app.app_context():
        try:
            outbox.enqueue(inbound.openid, message[0], message[1], key=f"late:{key}")
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("could not queue late reply openid=%s key=%s", inbound.openid, key)
