"""Load harness (#10): realistic resident traffic against 2 Linli instances, beside a bare echo and a WeRoBot echo.

Run: .venv/bin/python benchmarks/load_harness.py [--clients 50] [--duration 30] [--rounds 1] [--quick]
     [--pg postgresql+psycopg://postgres@127.0.0.1:5432/linli_load] [--redis redis://127.0.0.1:6379/9]
     [--issue3]   (issue #3's setting: text only, 20 clients, Linli 1 instance × 2 workers)
     [--rate R]   (offer R req/s instead of answering as fast as possible) [--only KIND] (one kind of message)
     [--client-cost]   (only: CPU per request of wrk vs webhook_throughput.py's Python client)

Traffic ("resident" mix): 55% text over the intents of the NLU dev set, 10% voice with Recognition, 5% image,
10% events (subscribe, subscribe/SCAN of a building code `b:<id>`, menu CLICK), all signed and safe-mode
encrypted, and 20% H5 GETs (notice board, my tickets, my fees) with a signed resident cookie — from a few hundred
openids, most of them bound to rooms of the demo estate. Each resident appears once per round of the order, so
no resident has two messages in flight (as in life; Linli serialises a resident's turns).

Targets, each started fresh, in this order every round (same gunicorn totals: 2 processes × --threads, default 2
as `linli serve`):
  echo       bare Flask + wechatpy: verify, decrypt, parse, answer — webhook_throughput.echo_app, whose parse
             step here also gives non-text messages a `content` — the floor
  werobot    WeRoBot 1.13 echo, safe mode, its Bottle WSGI app under gunicorn — the peer
  linli      2 × `linli serve --workers 1` on two ports sharing one PostgreSQL db and one Redis db, full mix
  linli-msg  the same, message traffic only (no H5): the figure to compare with the echoes
The echoes get the message traffic only (they have no pages). The load is wrk (benchmarks/loadgen.py), spread
over the instances; a warm-up run with its own requests comes first and is not counted. Besides req/s and
latency, each row gives the CPU the target's processes (and, for Linli, its PostgreSQL backends) spent per
request, which depends far less on what else runs on the machine than req/s does.
Results: a table on stdout and JSON in benchmarks/results/load-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from loadgen import Request, run_load, write_requests
from webhook_throughput import AES_KEY, APPID, TOKEN, _free_port, _serve, _stop

SECRET_KEY = "bench-load-secret"
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/linli_load"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
# Share of each kind in the resident mix; the echoes and `linli-msg` get the same mix without "h5".
MIX = {"text": 55, "voice": 10, "image": 5, "event": 10, "h5": 20}
ISSUE3_TEXTS = ["你好", "楼道灯坏了", "物业电话多少", "3号楼电梯不动了", "谢谢"]  # webhook_throughput.py's texts
# Replies inside an open dialogue (which building, yes, a time…), beside the first messages from the dev set.
FOLLOW_UPS = ["是的", "对", "好的", "不用了", "取消", "3号楼2单元", "1号楼", "明天下午三点", "1", "2", "谢谢"]
H5_PAGES = {"/h5/notices": 40, "/h5/tickets": 30, "/h5/fees": 30}
EVENTS = {"subscribe": 2, "subscribe_scene": 2, "scan": 3, "click": 3}
CLICK_KEYS = ["REPORT", "PROGRESS", "FEES", "NOTICES", "VOTE", "MY", "SERVICES", "HUMAN", "COMPLAINT"]
WECHAT_UA = ("Mozilla/5.0 (Linux; Android 13; M2012K11AC) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Version/4.0 Chrome/116.0 Mobile Safari/537.36 XWEB/1160065 MicroMessenger/8.0.47.2560(0x28002F35) "
             "NetType/WIFI Language/zh_CN")


# --- the peers ---------------------------------------------------------------------------------------------------

def _echo_text(kind: str, text: str = "", key: str = "") -> str:
    """What both echoes answer: the text, the recognised speech, or a line naming the event."""
    if kind in ("text", "voice"):
        return text or "（没听清）"
    return f"[{kind} {key}]".replace(" ]", "]")


def echo_app():
    """The floor for the mix: webhook_throughput.echo_app itself, its parse step taught to give every message a
    `content` (text, recognised speech, or a line naming the kind), since that echo answers `message.content`."""
    import wechatpy
    from webhook_throughput import echo_app as text_echo_app

    parse = wechatpy.parse_message

    def parse_any(xml):
        message = parse(xml)
        if message.type != "text":
            kind = message.type if message.type != "event" else message.event
            key = getattr(message, "key", "") or getattr(message, "scene_id", "") or ""
            message.content = _echo_text(kind, getattr(message, "recognition", None) or "", key)
        return message

    # text_echo_app imports parse_message when called: hand it parse_any for the app's lifetime.
    wechatpy.parse_message = parse_any
    try:
        return text_echo_app()
    finally:
        wechatpy.parse_message = parse


def werobot_app():
    """WeRoBot's echo in safe mode (no session storage: an echo keeps no state), as its own WSGI app."""
    import werobot

    robot = werobot.WeRoBot(token=TOKEN, encoding_aes_key=AES_KEY, app_id=APPID)
    robot.config["SESSION_STORAGE"] = False  # its default is a SQLite file per process

    @robot.handler
    def echo(message):
        kind = message.type.removesuffix("_event")
        text = getattr(message, "content", None) or getattr(message, "recognition", None) or ""
        return "收到：" + _echo_text(kind, text, getattr(message, "key", "") or "")

    return robot.wsgi


# --- the world: a seeded database and residents ------------------------------------------------------------------

@dataclass
class Resident:
    """A synthetic WeChat user; `cookie` is the signed H5 cookie value."""

    openid: str
    bound: bool
    cookie: str
    event_seconds: int = 0  # events dedupe on CreateTime: each of a resident's events gets its own second


@dataclass
class World:
    residents: list[Resident]
    building_ids: list[int]
    texts: list[str] = field(default_factory=list)


def reset_postgres(url: str) -> None:
    """Drop and create the benchmark database."""
    from register_import import reset_postgres as reset

    reset(url)


def seed_world(pg_url: str, redis_url: str, residents: int, bound_share: float, rng: random.Random) -> World:
    """A fresh database: migrations, the demo data, and `residents` openids of which bound_share are bound."""
    import redis as redis_lib
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Building, Consent, ResidentAccount, Room, RoomBinding
    from app.services.binding import NOTICE_VERSION
    from app.services.demo import seed_demo
    from app.wechat.h5 import sign_openid

    reset_postgres(pg_url)
    redis_lib.Redis.from_url(redis_url).flushdb()
    app = create_app({"SQLALCHEMY_DATABASE_URI": pg_url, "REDIS_URL": redis_url, "SECRET_KEY": SECRET_KEY,
                      "LINLI_NLP_PRELOAD": False})
    people = []
    with app.app_context():
        upgrade()
        seed_demo()
        rooms = list(db.session.scalars(select(Room.id)))
        building_ids = list(db.session.scalars(select(Building.id)))
        for n in range(residents):
            openid = f"oLoad{n:04d}{rng.randrange(16**8):08x}"[:28]
            bound = rng.random() < bound_share
            account = ResidentAccount(openid=openid, subscribed=True)
            db.session.add(account)
            db.session.flush()
            if bound:
                db.session.add(RoomBinding(account_id=account.id, room_id=rng.choice(rooms), relation="owner",
                                           status="bound", method="code"))
                db.session.add(Consent(account_id=account.id, notice_version=NOTICE_VERSION))
            people.append(Resident(openid, bound, sign_openid(SECRET_KEY, openid)))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return World(people, building_ids, _dev_texts())


def _dev_texts() -> list[str]:
    """First messages of every intent in the NLU dev set (never trained on), plus dialogue follow-ups."""
    texts = []
    for line in (ROOT / "app/nlp/data/dev.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        texts.append(line.split("\t")[1])
    return texts + FOLLOW_UPS * max(1, len(texts) // (9 * len(FOLLOW_UPS)))  # ~10% follow-ups


# --- requests ----------------------------------------------------------------------------------------------------

def _pick(weights: dict, rng: random.Random) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def mix_weights(mix: str, only: str | None, with_h5: bool) -> dict:
    """Kinds and their shares: the resident mix (without H5 for message-only targets), or a single kind."""
    if only:
        return {only: 1}
    if mix == "text":
        return {"text": 1}
    return {k: v for k, v in MIX.items() if with_h5 or k != "h5"}


def build_requests(world: World, count: int, mix: str, weights: dict, rng: random.Random) -> list[Request]:
    """`count` requests: each resident once per round of a shuffled order, kinds drawn from `weights`."""
    from app.wechat.peer import Peer, message_xml, new_msg_id

    peer = Peer(TOKEN, APPID, AES_KEY)
    order: list[Resident] = []
    out: list[Request] = []
    now = int(time.time())
    while len(out) < count:
        if not order:
            order = rng.sample(world.residents, len(world.residents))
        resident = order.pop()
        kind = _pick(weights, rng)
        if kind == "h5":
            page = _pick(H5_PAGES, rng)
            out.append(Request("GET", page, headers={"Cookie": f"linli_openid={resident.cookie}",
                                                     "User-Agent": WECHAT_UA}, kind="h5"))
            continue
        msg_type, fields, create_time = _message(kind, mix, world, resident, rng, now, new_msg_id)
        xml = message_xml(resident.openid, peer.account, msg_type, fields, create_time)
        query, body = peer.push(xml, resident.openid)
        out.append(Request("POST", f"/wechat?{query}", body, {"Content-Type": "text/xml"}, kind=kind))
    return out


def _message(kind, mix, world, resident, rng, now, new_msg_id) -> tuple[str, dict, int | None]:
    """(MsgType, fields, CreateTime) of one message or event."""
    if kind == "text":
        return "text", {"Content": rng.choice(ISSUE3_TEXTS if mix == "text" else world.texts),
                        "MsgId": new_msg_id()}, None
    if kind == "voice":
        said = "" if rng.random() < 0.1 else rng.choice(world.texts).rstrip("。！？!?") + "。"
        return "voice", {"MediaId": f"media_{rng.getrandbits(64):016x}", "Format": "amr", "Recognition": said,
                         "MsgId": new_msg_id()}, None
    if kind == "image":
        media = f"{rng.getrandbits(64):016x}"
        return "image", {"PicUrl": f"http://mmbiz.qpic.cn/mmbiz_jpg/{media}/0", "MediaId": f"media_{media}",
                         "MsgId": new_msg_id()}, None
    resident.event_seconds += 1
    create_time = now - resident.event_seconds  # a resident's events never share (CreateTime, Event, EventKey)
    event = _pick(EVENTS, rng)
    building = rng.choice(world.building_ids)
    if event == "subscribe":
        return "event", {"Event": "subscribe", "EventKey": ""}, create_time
    if event == "subscribe_scene":
        return "event", {"Event": "subscribe", "EventKey": f"qrscene_b:{building}",
                         "Ticket": f"gQ{rng.getrandbits(64):016x}"}, create_time
    if event == "scan":
        return "event", {"Event": "SCAN", "EventKey": f"b:{building}",
                         "Ticket": f"gQ{rng.getrandbits(64):016x}"}, create_time
    return "event", {"Event": "CLICK", "EventKey": rng.choice(CLICK_KEYS)}, create_time


# --- running the targets -----------------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")
UNSATURATED_BELOW = 0.75 * (os.cpu_count() or 2)  # cores busy below which a closed-loop round is flagged


def _proc_stats():
    """(pid, pgrp, cpu seconds, cmdline) of every process we can read."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        rest = stat.rsplit(")", 1)[1].split()
        yield int(entry.name), int(rest[2]), (int(rest[11]) + int(rest[12])) / CLK_TCK, cmdline


def cpu_snapshot(pgids: list[int], pg_database: str) -> dict:
    """CPU seconds so far of the target's process groups, its PostgreSQL backends, Redis and the whole machine."""
    target = pg = redis_cpu = 0.0
    for _pid, pgrp, cpu, cmdline in _proc_stats():
        if pgrp in pgids:
            target += cpu
        elif cmdline.startswith("postgres: ") and f" {pg_database} " in cmdline:
            pg += cpu
        elif cmdline.startswith(("/usr/bin/redis-server", "redis-server")):
            redis_cpu += cpu
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    # All but idle and iowait; guest time is already counted in user time.
    busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4, 8, 9)) / CLK_TCK
    return {"target": target, "pg": pg, "redis": redis_cpu, "machine": busy, "at": time.perf_counter()}


class Linli:
    """N `linli serve` instances on their own ports, sharing the database and the Redis db."""

    def __init__(self, instances: int, workers: int, pg_url: str, redis_url: str, prefix: str, logdir: Path,
                 threads: int = 2):
        self.env = {**os.environ, "DATABASE_URL": pg_url, "REDIS_URL": redis_url, "REDIS_PREFIX": prefix,
                    "WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID, "WECHAT_AES_KEY": AES_KEY,
                    "SECRET_KEY": SECRET_KEY, "LINLI_NLP_PRELOAD": "1",
                    # Nothing outside this machine: an accidental API call fails at once on a closed port.
                    "WECHAT_API_BASE": "http://127.0.0.1:9"}
        self.instances, self.workers, self.logdir, self.threads = instances, workers, logdir, threads
        self.procs: list[subprocess.Popen] = []
        self.addresses: list[str] = []
        self.logs: list[Path] = []

    def start(self) -> None:
        for n in range(self.instances):
            port = _free_port()
            log = self.logdir / f"linli-{port}.log"
            self.logs.append(log)
            with open(log, "wb") as handle:  # the server keeps its own copy of the descriptor
                self.procs.append(subprocess.Popen(
                    [str(ROOT / ".venv/bin/linli"), "serve", "--workers", str(self.workers),
                     "--threads", str(self.threads), "--port", str(port)],
                    env=self.env, cwd=self.logdir, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True))
            self.addresses.append(f"127.0.0.1:{port}")
        for address in self.addresses:
            _wait_healthy(address)

    def stop(self) -> None:
        for proc in self.procs:
            _stop(proc)

    def problems(self) -> dict:
        """Counts (and a few samples) of worrying lines in the servers' logs: errors, deadlines, timeouts."""
        found: dict = {"error_lines": 0, "deadline_passed": 0, "worker_timeouts": 0, "samples": []}
        for log in self.logs:
            for line in log.read_text(errors="replace").splitlines():
                if "reply deadline passed" in line:
                    found["deadline_passed"] += 1
                elif "WORKER TIMEOUT" in line:
                    found["worker_timeouts"] += 1
                elif " ERROR " in line or "Traceback" in line or "[ERROR]" in line:
                    found["error_lines"] += 1
                    if len(found["samples"]) < 5:
                        found["samples"].append(line[:300])
        return found


def _wait_healthy(address: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{address}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"linli at {address} did not become healthy")


def probe(addresses: list[str], requests: list[Request]) -> dict:
    """Send a few requests one by one and open the replies: valid encrypted XML, Linli's "busy" apology, pages."""
    from app.web.wechat import SORRY
    from app.wechat.peer import Peer

    peer = Peer(TOKEN, APPID, AES_KEY)
    counts: Counter = Counter()
    samples: list[str] = []
    for n, request in enumerate(requests):
        url = f"http://{addresses[n % len(addresses)]}{request.target}"
        call = urllib.request.Request(url, data=request.body or None, method=request.method, headers=request.headers)
        try:
            with urllib.request.urlopen(call, timeout=10) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        if request.kind == "h5" or status != 200:
            counts[f"{request.kind} HTTP {status}"] += 1
            continue
        try:
            reply = peer.open_reply(body)
        except Exception:  # noqa: BLE001 — any failure to open the reply is what we count
            counts["unreadable reply"] += 1
            continue
        content = (reply or {}).get("Content", "")
        counts["no reply (success)" if reply is None else "apology (SORRY)" if SORRY in content else "reply"] += 1
        if content and len(samples) < 4:
            samples.append(f"{request.kind}: {content[:60]}")
    return {"answers": dict(counts), "samples": samples}


@dataclass
class Target:
    name: str
    traffic: str  # "messages" or "messages + H5"


def run_target(target: Target, args, world: World, rng: random.Random, tmp: Path, round_no: int) -> dict:
    """Start the target fresh, warm it up with its own requests, measure, stop it; returns the figures."""
    with_h5 = target.name == "linli" and args.mix == "resident"
    weights = mix_weights(args.mix, args.only, with_h5)
    procs, linli = [], None
    if target.name in ("echo", "werobot"):
        spec = {"echo": "webhook_throughput:echo_app()" if args.mix == "text" else "load_harness:echo_app()",
                "werobot": "load_harness:werobot_app()"}[target.name]
        # One server: both wrk threads on it (the same connections as Linli's two instances get in total).
        proc, base = _serve(spec, args.workers, {}, args.threads)
        procs, addresses = [proc], [base.removeprefix("http://")] * args.instances
        pgids = [proc.pid]
    else:
        linli = Linli(args.instances, args.workers // args.instances, args.pg, args.redis,
                      f"linli-load-{os.getpid()}-{round_no}-{target.name}:", tmp, args.threads)
        linli.start()
        addresses, pgids = linli.addresses, [p.pid for p in linli.procs]
    try:
        warm_file, run_file = tmp / "warm.req", tmp / "run.req"
        write_requests(warm_file, build_requests(world, max(500, int(args.warmup * 400)), args.mix, weights, rng))
        per_second = min(args.rate_guess, args.rate * 1.5) if args.rate else args.rate_guess
        write_requests(run_file, build_requests(world, int(args.duration * per_second), args.mix, weights, rng))
        run_load(addresses, warm_file, args.clients, args.warmup, threads=len(addresses), rate=args.rate)
        checked = probe(addresses, build_requests(world, 30, args.mix, weights, rng))
        before = cpu_snapshot(pgids, args.pg.rsplit("/", 1)[1])
        result = run_load(addresses, run_file, args.clients, args.duration, threads=len(addresses),
                          rate=args.rate)
        after = cpu_snapshot(pgids, args.pg.rsplit("/", 1)[1])
    finally:
        for proc in procs:
            _stop(proc)
        if linli:
            linli.stop()
    used = {k: after[k] - before[k] for k in ("target", "pg", "redis", "machine")}
    wall = after["at"] - before["at"]
    requests = max(result["requests"], 1)
    result.update(
        target=target.name, traffic=f"only {args.only}" if args.only else target.traffic,
        round=round_no, addresses=addresses, probe=checked,
        server_cpu_ms_per_request=round((used["target"] + used["pg"]) * 1000 / requests, 3),
        cores={"target": round(used["target"] / wall, 2), "postgres": round(used["pg"] / wall, 2),
               "redis (whole server)": round(used["redis"] / wall, 2), "wrk": result["client_cpu_share"],
               "machine": round(used["machine"] / wall, 2)},
        load_average=os.getloadavg())
    result["cores"]["others"] = round(result["cores"]["machine"] - result["cores"]["target"]
                                      - result["cores"]["postgres"] - result["cores"]["redis (whole server)"]
                                      - result["cores"]["wrk"], 2)
    # Closed loop on 2 cores keeps the machine busy; well under that, most connections sat on one gunicorn process
    # (they are handed out as the processes happen to accept them) and the round measured one core, not the target.
    result["unsaturated"] = not args.rate and result["cores"]["machine"] < UNSATURATED_BELOW
    if linli:
        result["server_log"] = linli.problems()
    return result


def targets_for(args) -> list[Target]:
    wanted = args.targets.split(",")
    if args.only:
        wanted = [t for t in wanted if t in ("echo", "werobot", "linli-msg")] if args.only != "h5" else ["linli"]
    options = [Target("echo", "messages"), Target("werobot", "messages"),
               Target("linli", "messages + H5" if args.mix == "resident" else "messages")]
    if args.mix == "resident":
        options.append(Target("linli-msg", "messages"))
    return [t for t in options if t.name in wanted]


# --- report ------------------------------------------------------------------------------------------------------

def print_round(rows: list[dict]) -> None:
    """One round's table; "% echo" compares req/s, "CPU % echo" the echo's CPU per request with the target's."""
    echo = next((r for r in rows if r["target"] == "echo"), None)
    print(f"{'target':11} {'traffic':14} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7} "
          f"{'% echo':>7} {'CPU ms/req':>10} {'CPU % echo':>10} {'others':>6}  answers")
    for r in rows:
        share = f"{r['rps'] / echo['rps']:7.0%}" if echo else f"{'-':>7}"
        cpu_share = (f"{echo['server_cpu_ms_per_request'] / r['server_cpu_ms_per_request']:10.0%}"
                     if echo else f"{'-':>10}")
        lat = r["latency_ms"]
        answers = ", ".join(f"{k} {v}" for k, v in r["bodies"].items() if v)
        if r["non_2xx"]:
            answers += "; " + ", ".join(f"HTTP {c} {n}" for c, n in sorted(r["statuses"].items()) if c != 200)
        if r["wraps"] and r["target"].startswith("linli"):
            answers += f"; WRAPPED {r['wraps']}× (raise --rate-guess: replays hit the dedupe cache)"
        if r.get("unsaturated"):
            answers += f"; UNSATURATED (machine {r['cores']['machine']} cores busy: not comparable, see README)"
        print(f"{r['target']:11} {r['traffic']:14} {r['rps']:7.0f} {lat['p50']:8.1f} {lat['p99']:8.1f} "
              f"{lat['max']:8.0f} {r['errors']:7d} {share} {r['server_cpu_ms_per_request']:10.2f} {cpu_share} "
              f"{r['cores']['others']:6.2f}  {answers}")


def print_summary(all_rows: list[dict]) -> None:
    """Median and range over the rounds, per target."""
    names = list(dict.fromkeys(r["target"] for r in all_rows))

    def median(name: str, key) -> float:
        return statistics.median(key(r) for r in all_rows if r["target"] == name)

    echo = "echo" in names
    print(f"\nover {max(r['round'] for r in all_rows)} round(s): median [min–max]")
    print(f"{'target':11} {'req/s':>20} {'p99 ms':>22} {'% echo':>7} {'CPU ms/req':>10} {'CPU % echo':>10}")
    for name in names:
        rows = [r for r in all_rows if r["target"] == name]
        rps = [r["rps"] for r in rows]
        p99 = [r["latency_ms"]["p99"] for r in rows]
        cpu = median(name, lambda r: r["server_cpu_ms_per_request"])
        share = f"{statistics.median(rps) / median('echo', lambda r: r['rps']):7.0%}" if echo else f"{'-':>7}"
        cpu_share = (f"{median('echo', lambda r: r['server_cpu_ms_per_request']) / cpu:10.0%}"
                     if echo else f"{'-':>10}")
        print(f"{name:11} {statistics.median(rps):7.0f} [{min(rps):4.0f}–{max(rps):4.0f}]"
              f" {statistics.median(p99):8.1f} [{min(p99):5.0f}–{max(p99):5.0f}] {share} {cpu:10.2f} {cpu_share}")


def client_cost(args) -> None:
    """CPU per request of wrk and of webhook_throughput.py's threads + requests client, against the bare echo."""
    import webhook_throughput

    proc, base = _serve("webhook_throughput:echo_app()", args.workers, {}, args.threads)
    try:
        pushes = webhook_throughput._pushes(int(args.duration * 300), ISSUE3_TEXTS)
        cpu, started = time.process_time(), time.perf_counter()
        elapsed, latencies, _outcomes = webhook_throughput._fire(base, pushes, args.clients)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - started
        python = {"requests": len(pushes), "rps": len(latencies) / elapsed, "cpu_us": cpu / len(pushes) * 1e6,
                  "cores": cpu / wall, "p50": statistics.median(latencies)}
        with tempfile.TemporaryDirectory(prefix="linli-load-") as tmp:
            path = Path(tmp) / "text.req"
            fresh = webhook_throughput._pushes(int(args.duration * 1500), ISSUE3_TEXTS)
            write_requests(path, (Request("POST", f"/wechat?{q}", b, {"Content-Type": "text/xml"}) for q, b in fresh))
            result = run_load([base], path, args.clients, args.duration, threads=1)
    finally:
        _stop(proc)
    print(f"{'client':26} {'requests':>8} {'req/s':>7} {'echo p50 ms':>11} {'client CPU µs/req':>17} {'cores':>6}")
    print(f"{'threads + requests':26} {python['requests']:8d} {python['rps']:7.0f} {python['p50']:11.1f} "
          f"{python['cpu_us']:17.0f} {python['cores']:6.2f}")
    print(f"{'wrk + loadgen.lua':26} {result['requests']:8d} {result['rps']:7.0f} {result['latency_ms']['p50']:11.1f} "
          f"{result['client_cpu_us_per_request']:17.0f} {result['client_cpu_share']:6.2f}")


def app_digest() -> str:
    """A short hash of app/'s Python sources: which state of the code a result file measured."""
    import hashlib

    digest = hashlib.sha1()
    for path in sorted((ROOT / "app").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent connections (wrk -c)")
    parser.add_argument("--duration", type=float, default=30, help="seconds measured per target")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of uncounted warm-up per target")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every target this many times, interleaved")
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL URL (the database is dropped and recreated)")
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="Redis URL (the db is flushed)")
    parser.add_argument("--quick", action="store_true", help="short runs (8 s, 2 s warm-up) to try the harness")
    parser.add_argument("--issue3", action="store_true",
                        help="issue #3's setting: text only, 20 clients, 1 Linli instance × 2 workers")
    parser.add_argument("--mix", choices=["resident", "text"], default="resident")
    parser.add_argument("--only", choices=list(MIX),
                        help="a single kind of the resident mix (h5: Linli only), to see what each costs")
    parser.add_argument("--rate", type=float,
                        help="offered load in req/s (think time per connection) instead of as fast as answered")
    parser.add_argument("--instances", type=int, default=2, help="Linli instances (wrk threads spread over them)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes per target, in total")
    parser.add_argument("--threads", type=int, default=2,
                        help="gunicorn threads per worker, for every target (`linli serve` defaults to 2)")
    parser.add_argument("--residents", type=int, default=300)
    parser.add_argument("--bound-share", type=float, default=0.85)
    parser.add_argument("--targets", default="echo,werobot,linli,linli-msg")
    parser.add_argument("--rate-guess", type=float, default=1200,
                        help="requests built per measured second (Linli must not replay: dedupe would answer)")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--client-cost", action="store_true",
                        help="only compare the CPU cost of the clients (wrk vs threads + requests) on the echo")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.warmup = 8, 2
    if args.issue3:
        args.mix, args.instances = "text", 1
        if "--clients" not in sys.argv:
            args.clients = 20
    if args.workers % args.instances:
        raise SystemExit("--workers must be a multiple of --instances")
    if args.client_cost:
        client_cost(args)
        return

    if args.rate and args.clients > 0.01 * args.rate * args.duration:
        print(f"note: with --rate every connection's first request goes at once, a burst of {args.clients}; "
              f"p99 leaves it out only when a run has over 100× that many requests (--duration ≥ "
              f"{100 * args.clients / args.rate:.0f} s at this rate)")
    rng = random.Random(args.seed)
    started = time.strftime("%Y%m%d-%H%M%S")
    print(f"seeding {args.pg.rsplit('/', 1)[1]} (demo + {args.residents} residents, "
          f"{args.bound_share:.0%} bound) …", flush=True)
    world = seed_world(args.pg, args.redis, args.residents, args.bound_share, rng)
    targets = targets_for(args)
    load = f"offered {args.rate:g} req/s" if args.rate else "as fast as answered"
    print(f"{args.only or args.mix} mix, {args.clients} connections (wrk, {load}), {args.duration:g} s measured "
          f"after {args.warmup:g} s "
          f"warm-up; {args.workers} gunicorn workers × {args.threads} threads per target "
          f"(Linli: {args.instances} instance(s) × "
          f"{args.workers // args.instances}); PostgreSQL + Redis for Linli", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="linli-load-") as tmp:
        for round_no in range(1, args.rounds + 1):
            round_rows = []
            for target in targets:
                print(f"  round {round_no}: {target.name} …", flush=True)
                round_rows.append(run_target(target, args, world, rng, Path(tmp), round_no))
            print()
            print_round(round_rows)
            for row in round_rows:
                print(f"  probe {row['target']}: {row['probe']['answers']}")
            rows += round_rows
    if args.rounds > 1:
        print_summary(rows)
    RESULTS.mkdir(exist_ok=True)
    suffix = ("-issue3" if args.issue3 else "") + (f"-only-{args.only}" if args.only else "") + \
        (f"-rate{args.rate:g}" if args.rate else "")
    out = RESULTS / f"load-{started}{suffix}.json"
    out.write_text(json.dumps({"settings": vars(args), "app_digest": app_digest(), "rows": rows}, indent=1,
                              ensure_ascii=False))
    print(f"\nJSON: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
