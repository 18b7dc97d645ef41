"""Progress of the resident's reports, complaints and home-service orders, in one short reply with links."""

from __future__ import annotations

from app.handlers.messages import TextReply
from app.handlers.registry import Turn, register

MAX_ORDERS = 5
NOTHING = "您还没有报修、投诉或预约上门服务的记录。"


def progress_text(openid: str) -> str:
    """The resident's tickets (with the tickets page) and orders (with the orders page); a plain line when none."""
    from app.services import order_queries, tickets
    from app.services.tickets_chat import progress_text as tickets_text

    parts = []
    if tickets.my_tickets(openid):
        parts.append(tickets_text(openid))
    orders = order_queries.resident_orders(openid)[:MAX_ORDERS]
    if orders:
        lines = [f"{o.number} {o.item_name} {order_queries.when_text(o.scheduled_at)}：{o.status_label}"
                 for o in orders]
        parts.append("您的上门服务订单：\n" + "\n".join(lines) + f"\n订单详情：{order_queries.orders_page_url()}")
    return "\n\n".join(parts) or NOTHING


def start(turn: Turn) -> TextReply:
    """List what the resident reported or booked and where each one stands."""
    return TextReply(progress_text(turn.inbound.openid))


register("progress", start)
