"""A light HTTP load generator: wrk replaying pre-built requests, so the client is not what a benchmark measures.

Python builds every request up front (signed, encrypted WeChat pushes need fresh timestamps and unique MsgIds) and
writes them as raw HTTP/1.1 bytes with `write_requests`; `run_load` then runs wrk (C, epoll, keep-alive) with
benchmarks/loadgen.lua, which replays them in a loop — each wrk thread its own slice, threads spread over the
targets — and returns throughput, latency percentiles, errors and answers by status as a dict. The wrk process's
own CPU time (from os.wait4) comes back too: the client's share of the machine, which should stay small.

Why wrk and not the threads + requests client of webhook_throughput.py: measured on the 2-core build machine
against the bare echo (README, "Load"), that client burns several times the CPU per request that wrk does, and
on 2 cores every client cycle is taken from the servers under test.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).resolve().parent / "loadgen.lua"
THINK_CAP_MS = 1500  # below gunicorn's 2 s keep-alive: a longer pause would see the connection closed


@dataclass
class Request:
    """One HTTP request to replay; `kind` only labels it for counting (text, voice, h5…)."""

    method: str
    target: str  # path + query string
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = ""

    def raw(self) -> bytes:
        """The request as HTTP/1.1 bytes (keep-alive; wrk connects to the address, Host is informational)."""
        lines = [f"{self.method} {self.target} HTTP/1.1", "Host: 127.0.0.1"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body or self.method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


def write_requests(path: str | Path, requests: Iterable[Request]) -> int:
    """Write requests in loadgen.lua's format ("<length>\\n<raw request>" each); returns how many."""
    count = 0
    with open(path, "wb") as out:
        for request in requests:
            raw = request.raw()
            out.write(b"%d\n" % len(raw))
            out.write(raw)
            count += 1
    return count


def think_scale(mean_ms: float, cap_ms: float = THINK_CAP_MS) -> float:
    """The exponential's scale m whose capped draws min(X, cap) average mean_ms: m·(1 − e^(−cap/m)) = mean_ms."""
    if mean_ms >= cap_ms * 0.95:
        raise ValueError(f"offered rate too low: a think time of {mean_ms:.0f} ms per connection needs fewer "
                         f"connections (the cap is {cap_ms} ms)")
    low, high = mean_ms, mean_ms * 100
    for _ in range(100):
        middle = (low + high) / 2
        if middle * (1 - math.exp(-cap_ms / middle)) < mean_ms:
            low = middle
        else:
            high = middle
    return low


def wrk_binary() -> str:
    """The wrk executable, or a clear message on how to get it."""
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk not found: apt-get install wrk")
    return found


def run_load(targets: list[str], requests_file: str | Path, connections: int = 50, duration: float = 30,
             threads: int | None = None, timeout: float = 10, out: str | Path | None = None,
             rate: float | None = None) -> dict:
    """Replay requests_file against targets ("host:port" or "http://host:port") for `duration` seconds.

    Without `rate` every connection sends its next request as soon as the answer is in (closed loop: the
    server's saturation throughput). With `rate` (requests/s offered in total) each connection first waits an
    exponential think time (capped at THINK_CAP_MS) averaging connections/rate, as residents do; the achieved
    rate is a little lower, since each request also waits for its answer.

    Threads default to one per target (wrk does ~50k req/s per thread, far beyond a 2-core Python server); the
    connections are divided among the threads, so each target gets an equal share. Returns wrk's figures plus
    `rps`, `errors` (socket errors + non-2xx answers), `non_2xx` and the client's CPU seconds.
    """
    addresses = [t.removeprefix("http://").removeprefix("https://").rstrip("/") for t in targets]
    threads = threads or len(addresses)
    if connections < threads:
        raise ValueError("need at least one connection per wrk thread")
    own_out = out is None
    if own_out:
        handle, out = tempfile.mkstemp(prefix="loadgen-", suffix=".json")
        os.close(handle)
    env = {**os.environ, "LOADGEN_REQUESTS": str(requests_file), "LOADGEN_TARGETS": ",".join(addresses),
           "LOADGEN_THREADS": str(threads), "LOADGEN_OUT": str(out), "LOADGEN_CONNECTIONS": str(connections),
           "LOADGEN_THINK_MS": f"{think_scale(connections * 1000 / rate):.3f}" if rate else "0",
           "LOADGEN_THINK_CAP_MS": str(THINK_CAP_MS)}
    command = [wrk_binary(), "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s",
               "--timeout", f"{timeout:g}s", "-s", str(LUA), f"http://{addresses[0]}/"]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stdout, stderr = process.stdout.read().decode(), process.stderr.read().decode()
    process.stdout.close()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0 or not Path(out).stat().st_size:
        raise RuntimeError(f"wrk failed ({status}): {stderr or stdout}")
    result = json.loads(Path(out).read_text())
    if own_out:
        os.unlink(out)
    return _summarise(result, usage.ru_utime + usage.ru_stime, wall)


def _summarise(result: dict, client_cpu: float, wall: float) -> dict:
    """Add the derived figures every caller wants."""
    statuses = {int(code): n for code, n in result["statuses"].items()}
    result["statuses"] = statuses
    non_2xx = sum(n for code, n in statuses.items() if not 200 <= code < 300)
    socket = sum(result["socket_errors"].values())
    result.update(
        rps=result["requests"] / result["duration_s"] if result["duration_s"] else 0.0,
        non_2xx=non_2xx,
        errors=non_2xx + socket,
        client_cpu_s=round(client_cpu, 3),
        client_cpu_share=round(client_cpu / wall, 4) if wall else 0.0,  # cores used by wrk during the run
        client_cpu_us_per_request=round(client_cpu / result["requests"] * 1e6, 1) if result["requests"] else None,
    )
    return result
