"""Render reply values to WeChat XML: To/From swapped, CDATA with `]]>` escaped, news capped at 8."""

from __future__ import annotations

import time

from app.handlers.messages import ImageReply, NewsReply, NoReply, Reply, TextReply

MAX_ARTICLES = 8


def cdata(value) -> str:
    """Wrap text in CDATA, splitting any `]]>` so the document stays well-formed."""
    return "<![CDATA[" + str(value if value is not None else "").replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_reply(reply: Reply | None, to_user: str, from_user: str, now: float | None = None) -> str | None:
    """XML for a reply to `to_user` (the resident) from `from_user` (our account); None means answer `success`."""
    if reply is None or isinstance(reply, NoReply):
        return None
    head = (f"<ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
            f"<CreateTime>{int(now if now is not None else time.time())}</CreateTime>")
    if isinstance(reply, TextReply):
        return f"<xml>{head}<MsgType>{cdata('text')}</MsgType><Content>{cdata(reply.text)}</Content></xml>"
    if isinstance(reply, ImageReply):
        return (f"<xml>{head}<MsgType>{cdata('image')}</MsgType>"
                f"<Image><MediaId>{cdata(reply.media_id)}</MediaId></Image></xml>")
    if isinstance(reply, NewsReply):
        articles = list(reply.articles)[:MAX_ARTICLES]
        if not articles:
            return None
        items = "".join(
            f"<item><Title>{cdata(a.title)}</Title><Description>{cdata(a.description)}</Description>"
            f"<PicUrl>{cdata(a.image)}</PicUrl><Url>{cdata(a.url)}</Url></item>" for a in articles)
        return (f"<xml>{head}<MsgType>{cdata('news')}</MsgType><ArticleCount>{len(articles)}</ArticleCount>"
                f"<Articles>{items}</Articles></xml>")
    raise TypeError(f"unknown reply value {type(reply).__name__}")


def reply_to_outbox(reply: Reply | None) -> tuple[str, dict] | None:
    """The (kind, payload) of a customer-service message carrying the same content, or None."""
    if isinstance(reply, TextReply):
        return "text", {"text": reply.text}
    if isinstance(reply, NewsReply) and reply.articles:
        return "news", {"articles": [{"title": a.title, "description": a.description, "url": a.url,
                                      "image": a.image} for a in reply.articles[:MAX_ARTICLES]]}
    if isinstance(reply, ImageReply):
        return "image", {"media_id": reply.media_id}
    return None
