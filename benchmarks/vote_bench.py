"""Vote benchmarks: tally() of 20,000 rooms beside a plain-sum floor; 1,000 owners, each with two co-owner accounts,
voting from 2 processes at once on PostgreSQL — through ballots.cast() and through the signed webhook (the chat
dialogue) — exactly 1,000 ballots must result, none lost, none doubled.

    .venv/bin/python benchmarks/vote_bench.py [--rooms 20000] [--owners 1000] [--via service|webhook|both]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/linli_votes_bench]
        [--redis-url redis://127.0.0.1:6379/15] [--skip-db]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.services.voting import RoomVote, tally  # noqa: E402

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/linli_votes_bench"


def make_rooms(n: int) -> list[RoomVote]:
    """n rooms: 3% developer-held, 5% owners with a second room, 80% voted."""
    rng = random.Random(278)
    rooms, owners = [], []
    for i in range(n):
        area = Decimal(rng.randrange(4000, 14000)) / 100
        if rng.random() < 0.03:
            rooms.append(RoomVote(f"r{i}", "dev", area, None, developer_held=True))
            continue
        if owners and rng.random() < 0.05:
            key, choice = rng.choice(owners)  # a second room: same owner, same choice
        else:
            key = f"o{i}"
            choice = rng.choices(["agree", "disagree", "abstain", None], weights=[55, 15, 10, 20])[0]
            owners.append((key, choice))
        rooms.append(RoomVote(f"r{i}", key, area, choice))
    return rooms


def floor(rooms: list[RoomVote]) -> tuple:
    """Baseline: one pass summing Decimal areas by choice, with no owner merging or rules."""
    total, agree = Decimal(0), Decimal(0)
    for room in rooms:
        total += room.area
        if room.choice == "agree":
            agree += room.area
    return total, agree


def best_of(func, *args, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def bench_tally(n: int) -> None:
    rooms = make_rooms(n)
    t_floor = best_of(floor, rooms)
    t_plain = best_of(tally, rooms)
    t_major = best_of(lambda r: tally(r, tier="major", follow_majority=True), rooms)
    result = tally(rooms)
    print(f"tally() of {n:,} rooms ({result.total_heads:,} heads), best of 5:")
    print(f"  baseline plain Decimal sum      {t_floor * 1000:8.1f} ms")
    print(f"  tally(ordinary)                 {t_plain * 1000:8.1f} ms   (target ≤ 1000 ms)")
    print(f"  tally(major, follow_majority)   {t_major * 1000:8.1f} ms")


TOKEN = "bench-token"


def _app(url: str, redis_url: str | None = None):
    import logging

    from app import create_app

    logging.disable(logging.INFO)  # one log line per chat message would drown the figures

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "LINLI_NLP_PRELOAD": False,
                       "SECRET_KEY": "bench", "REDIS_URL": redis_url, "REDIS_PREFIX": "linli-bench:",
                       "WECHAT_TOKEN": TOKEN, "WECHAT_AES_KEY": None, "WTF_CSRF_ENABLED": False})


def _ensure_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("select 1 from pg_database where datname = :n"), {"n": target.database}):
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def setup_vote(url: str, redis_url: str | None, owners: int) -> int:
    """A fresh schema, one estate of `owners` single-room owners each bound to an account, and an open vote."""
    from app import clock
    from app.extensions import db
    from app.models import (Building, Community, Estate, Ownership, Person, ResidentAccount, RoleGrant, Room,
                            RoomBinding, StaffUser, Street, Unit)
    from app.services import ballots, plans

    app = _app(url, redis_url)
    with app.app_context():
        from app.extensions import kv

        kv().clear()  # earlier runs' webhook dedupe entries and conversations (bench prefix only)
        db.drop_all()
        db.create_all()
        street = Street(name="基准街道")
        community = Community(street=street, name="基准社区")
        estate = Estate(community=community, name="基准小区")
        building = Building(estate=estate, number="1", sort_key="1")
        unit = Unit(building=building, number="1", sort_key="1")
        db.session.add_all([street, community, estate, building, unit])
        db.session.flush()
        staff = StaffUser(username="bench", display_name="bench", password_hash="x")
        db.session.add(staff)
        db.session.flush()
        db.session.add(RoleGrant(user_id=staff.id, role="community_staff", scope_type="community",
                                 scope_id=community.id))
        for i in range(owners):
            person = Person(name=f"业主{i}", identity_key=f"bench-{i}")
            room = Room(unit=unit, building=building, estate=estate, number=str(1000 + i), sort_key=str(i),
                        area=Decimal("88.50"))
            db.session.add_all([person, room])
            db.session.flush()
            db.session.add(Ownership(room_id=room.id, person_id=person.id))
            for side in ("a", "b"):  # two co-owners' phones, both bound as owner: one vote between them
                account = ResidentAccount(openid=f"bench-{side}-{i}", person_id=person.id)
                db.session.add(account)
                db.session.flush()
                db.session.add(RoomBinding(account_id=account.id, room_id=room.id, relation="owner",
                                           status="bound"))
        db.session.commit()
        plan = plans.create_plan(staff, estate.id, title="基准方案", body="正文")
        plans.publish(staff, plan.id)
        now = clock.now()
        with clock.frozen_at(now - timedelta(days=16)):
            vote = plans.put_to_vote(staff, plan.id, now - timedelta(minutes=1), now + timedelta(days=1))
        ballots.open_due(now)
        return vote.id


def _caster(url: str, redis_url: str | None, vote_id: int, side: str, order: list[int], start, out) -> None:
    """Service layer: each owner's ballot through ballots.cast from this side's account."""
    from app.services import ballots
    from app.services.errors import DomainError

    app = _app(url, redis_url)
    ok = refused = 0
    with app.app_context():
        start.wait()
        for i in order:
            try:
                ballots.cast(f"bench-{side}-{i}", vote_id, "agree", channel="chat")
                ok += 1
            except DomainError:
                refused += 1
    out.put((ok, refused))


def _push(client, openid: str, text: str, msg_id: int) -> str:
    """POST one signed plaintext text message to the webhook, as WeChat does; returns the reply XML."""
    import hashlib
    import secrets

    # A fresh nonce per push, as WeChat: the webhook refuses a (timestamp, nonce) pair that comes with another body.
    ts, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
    sig = hashlib.sha1("".join(sorted([TOKEN, ts, nonce])).encode()).hexdigest()
    xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
           f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    response = client.post(f"/wechat?signature={sig}&timestamp={ts}&nonce={nonce}", data=xml.encode(),
                           content_type="text/xml")
    return response.get_data(as_text=True)


def _chatter(url: str, redis_url: str | None, vote_id: int, side: str, order: list[int], start, out) -> None:
    """Webhook: each owner's whole dialogue (投票 → 1 同意 → 1 确认) from this side's account."""
    app = _app(url, redis_url)
    client = app.test_client()
    from app.nlp import understand

    understand("投票")  # load the language model before the start signal
    ok = refused = other = 0
    base = (1 if side == "a" else 2) * 10**9
    start.wait()
    for i in order:
        reply = ""
        for step, text in enumerate(("投票", "1", "1")):
            reply = _push(client, f"bench-{side}-{i}", text, base + i * 10 + step)
            if "已经投过票" in reply:
                break
        if "投票成功" in reply:
            ok += 1
        elif "已经投过票" in reply:
            refused += 1
        else:
            other += 1
    out.put((ok, refused, other))


def bench_concurrent(url: str, redis_url: str | None, owners: int, via: str) -> None:
    """Two processes at once, one per co-owner's account, every owner's ballot from both; count what was stored."""
    from sqlalchemy import create_engine, text

    _ensure_database(url)
    vote_id = setup_vote(url, redis_url, owners)
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    target = _chatter if via == "webhook" else _caster
    sides = (("a", list(range(owners))), ("b", list(reversed(range(owners)))))
    procs = [ctx.Process(target=target, args=(url, redis_url, vote_id, side, order, start, out))
             for side, order in sides]
    for proc in procs:
        proc.start()
    time.sleep(8 if via == "webhook" else 3)  # let both processes import, connect and warm up first
    began = time.perf_counter()
    start.set()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - began
    for proc in procs:
        proc.join()
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.scalar(text("select count(*) from ballots where vote_id = :v"), {"v": vote_id})
        distinct = conn.scalar(text("select count(distinct owner_key) from ballots where vote_id = :v"),
                               {"v": vote_id})
    engine.dispose()
    accepted, refused = sum(r[0] for r in results), sum(r[1] for r in results)
    unexpected = sum(r[2] for r in results) if via == "webhook" else 0
    path = "the webhook (/wechat, signed plaintext XML, chat dialogue)" if via == "webhook" else "ballots.cast()"
    print(f"\n{owners:,} owners × 2 co-owner accounts, 2 processes at once (opposite orders) through {path}"
          f"{', Redis store' if redis_url else ''}:")
    print(f"  accepted {accepted:,}, refused as already voted {refused:,}, unexpected replies {unexpected}, "
          f"in {elapsed:.2f} s")
    ok = rows == owners == distinct == accepted and unexpected == 0
    print(f"  ballots in PostgreSQL: {rows:,} rows, {distinct:,} distinct owners → "
          f"{'OK: none lost, none doubled' if ok else 'MISMATCH'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rooms", type=int, default=20000)
    parser.add_argument("--owners", type=int, default=1000)
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--via", choices=["service", "webhook", "both"], default="both")
    parser.add_argument("--skip-db", action="store_true")
    args = parser.parse_args()
    bench_tally(args.rooms)
    if not args.skip_db:
        for via in (["service", "webhook"] if args.via == "both" else [args.via]):
            bench_concurrent(args.database_url, args.redis_url or None, args.owners, via)


if __name__ == "__main__":
    main()
