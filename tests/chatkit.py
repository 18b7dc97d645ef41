"""Helpers for dialogue tests: send messages through respond() and check replies against tables."""

from __future__ import annotations

from app import clock
from app.extensions import db
from app.handlers import respond
from app.handlers.messages import Inbound, TextReply
from app.models import ResidentAccount, RoomBinding


def answer_with(monkeypatch, answer) -> None:
    """Replace the engine's routing with answer(inbound); its lock, state and the webhook's claim stay real."""
    from app import handlers

    monkeypatch.setattr(handlers, "route", lambda turn: answer(turn.inbound))


def send(openid: str, text: str = "", kind: str = "text", **fields):
    """One inbound message or event; returns the reply value."""
    return respond(Inbound(openid=openid, kind=kind, received_at=clock.now(), text=text, **fields))


def run_table(openid: str, table: list[tuple[str, str]]) -> list[str]:
    """Send each text and check that its reply contains the expected substring; returns the reply texts."""
    replies = []
    for text, expected in table:
        reply = send(openid, text)
        assert isinstance(reply, TextReply), (text, reply)
        assert expected in reply.text, f"{text!r} → {reply.text!r} (expected {expected!r})"
        replies.append(reply.text)
    return replies


def bind_account(openid: str, room, status: str = "bound") -> ResidentAccount:
    """A resident account bound to a room (status 'bound' unless told otherwise)."""
    account = ResidentAccount(openid=openid, subscribed=True)
    db.session.add(account)
    db.session.flush()
    db.session.add(RoomBinding(account_id=account.id, room_id=room.id, relation="owner", status=status))
    db.session.flush()
    return account
