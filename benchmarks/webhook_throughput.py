"""Benchmark: a safe-mode text message through Linli's full webhook vs a bare Flask+wechatpy echo, same run.

Run: .venv/bin/python benchmarks/webhook_throughput.py [--requests 2000] [--clients 20] [--workers 2]
     [--pg postgresql+psycopg://postgres@127.0.0.1:5432/linli_bench] [--redis redis://127.0.0.1:6379/13]
Both servers run under gunicorn (gthread, same workers/threads) on loopback; the client pre-builds every signed,
encrypted push (unique MsgIds, so no dedupe hits) and fires them from `--clients` threads. Prints requests/s,
p50 and p99 in milliseconds for: the echo baseline, Linli with an echo handler (gateway cost only), and Linli
with the real conversation engine (full stack), plus each one's throughput as a share of the echo's.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN, APPID = "bench-token", "wxbenchapp0000001"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def echo_app():
    """The baseline: verify, decrypt, parse and answer with wechatpy only — no dedupe, no database, no handlers."""
    from flask import Flask, request
    from wechatpy import parse_message
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.replies import TextReply
    from wechatpy.utils import check_signature

    app = Flask("echo")
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)

    @app.post("/wechat")
    def echo():
        args = request.args
        check_signature(TOKEN, args["signature"], args["timestamp"], args["nonce"])
        xml = crypto.decrypt_message(request.get_data(), args["msg_signature"], args["timestamp"], args["nonce"])
        message = parse_message(xml)
        reply = TextReply(content=f"收到：{message.content}", message=message).render()
        return crypto.encrypt_message(reply, args["nonce"], args["timestamp"])

    return app


def linli_gateway_app():
    """Linli's real app with the handlers replaced by an echo: what the gateway (with the conversation's lock and
    state, which carry the message's claim and cached reply) costs."""
    from app import create_app, handlers
    from app.handlers.messages import TextReply

    handlers.route = lambda turn: TextReply(f"收到：{turn.inbound.text}")
    return create_app()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(target: str, workers: int, env: dict, threads: int = 2) -> tuple[subprocess.Popen, str]:
    """gunicorn gthread with `threads` per worker (2, as `linli serve` by default)."""
    port = _free_port()
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-k", "gthread", "--threads", str(threads),
         "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT), "--pythonpath", str(ROOT / "benchmarks"),
         "--log-level", "warning", target],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, base
        except OSError:
            time.sleep(0.1)
    _stop(proc)
    raise SystemExit(f"{target} did not start")


def _stop(proc: subprocess.Popen) -> None:
    """Stop gunicorn and its workers (its own process group), forcefully if handlers are still busy."""
    import signal

    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _pushes(count: int, texts: list[str], openids: int = 200) -> list[tuple[str, bytes]]:
    from app.wechat.peer import Peer, message_xml, new_msg_id

    peer = Peer(TOKEN, APPID, AES_KEY)
    out = []
    for i in range(count):
        openid = f"o_bench_{os.getpid()}_{i % openids:06d}"
        xml = message_xml(openid, peer.account, "text", {"Content": texts[i % len(texts)], "MsgId": new_msg_id()})
        out.append(peer.push(xml, openid))
    return out


def _fire(base: str, pushes: list[tuple[str, bytes]], clients: int) -> tuple[float, list[float], Counter]:
    import requests

    local = threading.local()
    latencies: list[float] = []
    outcomes: Counter = Counter()

    def one(push):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        try:
            response = session.post(f"{base}/wechat?{push[0]}", data=push[1],
                                    headers={"Content-Type": "text/xml"}, timeout=10)
        except requests.RequestException:
            outcomes["client timeout"] += 1
            return
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code == 200 and b"<Encrypt>" in response.content:
            outcomes["encrypted reply"] += 1
        elif response.status_code == 200 and response.content == b"success":
            outcomes["success (late)"] += 1  # past the deadline: the reply goes out via the outbox
        else:
            outcomes[f"HTTP {response.status_code}"] += 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, pushes[: clients * 2]))  # warm-up: imports, connections, first token
    latencies.clear()
    outcomes.clear()
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, pushes[clients * 2:]))
    return time.perf_counter() - started, latencies, outcomes


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg", help="PostgreSQL URL for Linli (default: a temporary SQLite file)")
    parser.add_argument("--redis", default=os.environ.get("LINLI_BENCH_REDIS_URL"),
                        help="Redis URL (needed for correct dedupe across workers)")
    parser.add_argument("--skip-full", action="store_true", help="only the gateway with an echo handler")
    parser.add_argument("--openids", type=int, default=200,
                        help="distinct residents cycled through (a large number = every message from a new resident)")
    parser.add_argument("--full-requests", type=int, default=500,
                        help="requests for the full stack (the conversation engine is much slower)")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="linli-bench-")
    db_url = args.pg or f"sqlite:///{tmp}/bench.sqlite3"
    env = {"DATABASE_URL": db_url, "WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID, "WECHAT_AES_KEY": AES_KEY,
           "SECRET_KEY": "bench-secret", "LINLI_NLP_PRELOAD": "1", "REDIS_URL": args.redis or "",
           "REDIS_PREFIX": f"linli-bench-{os.getpid()}:"}
    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL",)})
    from app import create_app
    from app.extensions import db

    schema_app = create_app({"LINLI_NLP_PRELOAD": False})  # reads DATABASE_URL set above
    with schema_app.app_context():
        db.create_all()

    texts = ["你好", "楼道灯坏了", "物业电话多少", "3号楼电梯不动了", "谢谢"]
    targets = [("echo (Flask+wechatpy)", "webhook_throughput:echo_app()"),
               ("Linli gateway, echo handler", "webhook_throughput:linli_gateway_app()")]
    if not args.skip_full:
        targets.append(("Linli full stack", "app:create_app()"))
    print(f"{args.requests} safe-mode text pushes from {args.openids} residents, {args.clients} clients, {args.workers} gunicorn workers × 4 "
          f"threads; DB {'PostgreSQL' if args.pg else 'SQLite'}, store {'Redis' if args.redis else 'in-process'}")
    results = []
    for label, target in targets:
        proc, base = _serve(target, args.workers, env)
        count = args.full_requests if target.startswith("app:") else args.requests
        try:
            elapsed, latencies, outcomes = _fire(base, _pushes(count + args.clients * 2, texts, args.openids), args.clients)
        finally:
            _stop(proc)
        results.append((label, len(latencies) / elapsed, _percentile(latencies, 50), _percentile(latencies, 99),
                        outcomes))
    baseline = results[0][1]
    print(f"{'server':32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs echo':>8}  answers")
    for label, rps, p50, p99, outcomes in results:
        answers = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        print(f"{label:32} {rps:8.0f} {p50:8.1f} {p99:8.1f} {rps / baseline:8.0%}  {answers}")


if __name__ == "__main__":
    main()
