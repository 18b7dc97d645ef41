"""The values that cross the chat pipeline: one inbound message and the reply values handlers return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Inbound kinds the gateway produces (events are lower-case event names):
# text, voice, image, location, link, video, subscribe, scan, click, view, location_event, unknown.


@dataclass(frozen=True)
class Inbound:
    """One message or event from a resident, already verified, decrypted, parsed and deduplicated."""

    openid: str
    kind: str
    received_at: datetime
    text: str = ""  # text content, or the voice Recognition text
    msg_id: str = ""
    media_id: str = ""
    pic_url: str = ""
    event_key: str = ""  # menu key (click), URL (view)
    scene: str = ""  # QR scene string from subscribe(qrscene_…) or SCAN
    latitude: float | None = None
    longitude: float | None = None
    label: str = ""  # location label


@dataclass(frozen=True)
class Article:
    """One item of a news reply: a card linking to an H5 page."""

    title: str
    description: str = ""
    url: str = ""
    image: str = ""


@dataclass(frozen=True)
class TextReply:
    text: str


@dataclass(frozen=True)
class NewsReply:
    articles: list[Article] = field(default_factory=list)


@dataclass(frozen=True)
class ImageReply:
    media_id: str


@dataclass(frozen=True)
class NoReply:
    """Answer WeChat with `success`: nothing to say now (or the answer goes out later via the outbox)."""


Reply = TextReply | NewsReply | ImageReply | NoReply
