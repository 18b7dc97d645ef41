"""The services demo seed: provider fuwu, the 幸福里小区 catalogue at below-market prices, orders; safe twice."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import CatalogItem, Order, OutboxMessage, Payment, Provider, VolunteerHours
from app.services.demo import seed_demo


def test_demo_seed_twice(ctx):
    seed_demo()
    counts = [db.session.scalar(select(func.count()).select_from(m)) for m in
              (Provider, CatalogItem, Order, Payment, VolunteerHours, OutboxMessage)]
    seed_demo()
    again = [db.session.scalar(select(func.count()).select_from(m)) for m in
             (Provider, CatalogItem, Order, Payment, VolunteerHours, OutboxMessage)]
    assert counts == again and counts[:5] == [2, 6, 3, 1, 1]
    shop = db.session.scalar(select(Provider).where(Provider.name == "邻家便民维修部"))
    assert [m.username for m in shop.members] == ["fuwu"]
    prices = {i.name: (i.price_fen, i.market_price_fen) for i in db.session.scalars(select(CatalogItem))}
    assert prices["开锁"] == (5000, 8000) and prices["疏通下水"] == (6000, 10000)
    assert all(price < market for price, market in prices.values())
    statuses = sorted(db.session.scalars(select(Order.status)))
    assert statuses == ["accepted", "confirmed", "ordered"]
