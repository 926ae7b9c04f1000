"""N people submit the credential form at the same moment while the platform takes 1 s to
answer: every ack's latency (Slack gives up after 3 s) and the time until every person's
modal shows the verified result (views.update recorded by the Slack stand-in).

getkey: each person first opens the form the real way (/getkey wix, press the guide's
button, the modal arrives through views.open); then all N submissions are sent at once from
this process (raw asyncio sockets, one connection each). The bare Bolt apps
(bench/bare_bolt.py) do the same work in the least code: ack "Verifying…", one call to
the platform, views.update.
Stand-ins (Slack and the 1 s Wix) run in their own asyncio process.

    python bench/submissions.py [--sizes 200,500] [--runs 3] [--delay 1.0] [--wait 60]
Targets (getkey, 500): every ack < 3 s; all results within 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h


@dataclass
class Burst:
    acks: list[float]  # seconds, one per submission answered
    failed: int  # no answer, or not a 200
    results: list[float]  # seconds from the burst to each result views.update
    expected: int

    def line(self) -> str:
        over = sum(a > h.SLACK_LIMIT for a in self.acks) + self.failed
        done = len(self.results)
        last = max(self.results) if done else float("nan")
        within = sum(r <= 10 for r in self.results)
        return (
            f"ack p50 {h.percentile(self.acks, 50) * 1000:7.0f} ms  "
            f"p99 {h.percentile(self.acks, 99) * 1000:7.0f} ms  "
            f"max {max(self.acks, default=float('nan')) * 1000:7.0f} ms  "
            f"over 3 s {over:4d} ({over / self.expected:4.0%})  | results {done}/{self.expected}, "
            f"last at {last:6.2f} s, within 10 s {within}/{self.expected}"
        )


def bare_view(tag: str, n: int, run: int) -> dict[str, Any]:
    """A form like getkey's, for the bare apps (which open nothing themselves)."""
    def text_input(key: str) -> dict[str, Any]:
        return {"type": "input", "block_id": key,
                "label": {"type": "plain_text", "text": key},
                "element": {"type": "plain_text_input", "action_id": "value"}}

    return {"id": f"VB{tag}{run:02d}{n:06d}", "type": "modal", "callback_id": "bench_form",
            "private_metadata": "", "hash": "h0", "title": {"type": "plain_text", "text": "Wix"},
            "blocks": [text_input("api_key"), text_input("account_id")]}


def people(setup: str, n: int, run: int) -> list[str]:
    tag = "G" if setup == "getkey" else "B" + "".join(w[0] for w in setup.split("-")).upper()
    return [f"U{tag}{run:02d}{i:06d}" for i in range(n)]


def open_forms(app_url: str, stand: h.StandIns, users: list[str]) -> list[dict[str, Any]]:
    with httpx.Client(trust_env=False, limits=httpx.Limits(max_connections=16)) as client:
        def one(user: str) -> dict[str, Any]:
            return h.open_form(client, app_url, stand, user, 1)

        with ThreadPoolExecutor(16) as pool:
            return list(pool.map(one, users))


def raw_request(url: str, body: str, headers: dict[str, str]) -> tuple[str, int, bytes]:
    """(host, port, bytes) of one HTTP/1.1 POST that closes its connection afterwards."""
    parts = urlsplit(url)
    lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}",
             f"Content-Length: {len(body.encode())}", "Connection: close",
             *(f"{k}: {v}" for k, v in headers.items())]
    data = ("\r\n".join(lines) + "\r\n\r\n" + body).encode()
    return parts.hostname or "", parts.port or 80, data


async def fire(url: str, bodies: list[str]) -> tuple[float, list[float], int]:
    """Send every body at once, each on its own connection; (moment sent, ack latencies,
    failures). Raw asyncio sockets with the requests built beforehand, so that the client's
    own work adds as little as possible to what is measured."""
    signer = h.Signer()
    requests = [raw_request(url, body, signer.headers(body)) for body in bodies]
    acks: list[float] = []
    failed = 0

    async def one(host: str, port: int, data: bytes) -> None:
        nonlocal failed
        started = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(data)
            status = (await reader.readline()).split()
            await reader.read()  # the rest, until the server closes
            writer.close()
            if len(status) < 2 or status[1] != b"200":
                failed += 1
                return
            acks.append(time.monotonic() - started)
        except OSError:
            failed += 1

    start = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(one(*r) for r in requests)), 180)
    return start, acks, failed


def burst(proc: h.Proc, stand: h.StandIns, setup: str, n: int, run: int, wait: float) -> Burst:
    users = people(setup, n, run)
    stand.reset()  # results are looked up by view id; the last burst's are no longer needed
    if setup == "getkey":
        views = open_forms(proc.url, stand, users)
    else:
        views = [bare_view(users[i][1:5], i, run) for i in range(n)]
    bodies = [h.payload_body(h.submission(v, u, h.WIX_VALUES)) for v, u in zip(views, users,
                                                                              strict=True)]
    ids = {v["id"] for v in views}
    start, acks, failed = asyncio.run(fire(proc.url + "/slack/events", bodies))
    deadline = start + wait
    while True:
        seen = stand.control("stats", results=1)["results"]
        mine = [t - start for v, t in seen.items() if v in ids]
        if len(mine) >= n or time.monotonic() > deadline:
            return Burst(acks, failed, mine, n)
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,500")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delay", type=float, default=1.0, help="platform answer time (s)")
    parser.add_argument("--wait", type=float, default=60.0, help="give up on results after")
    parser.add_argument("--setups", default="getkey," + ",".join(h.BARE_KINDS))
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    setups = args.setups.split(",")
    print(f"simultaneous submissions, platform answers in {args.delay:g} s; sizes {sizes}, "
          f"{args.runs} runs each (median run by ack p99 shown, then every run)", flush=True)
    bursts: dict[tuple[str, int], list[Burst]] = {}
    with h.workdir("bench-submit-") as work, h.standins(work, args.delay) as stand:
        servers: dict[str, h.Proc] = {}
        try:
            for setup in setups:
                servers[setup] = (h.start_getkey(stand, work) if setup == "getkey" else
                                  h.start_bare(setup, stand, work, process_before_response=False))
                # Warm-up: one submission each (imports, first auth.test, connection pools).
                burst(servers[setup], stand, setup, 1, 99, args.wait)
            for run in range(args.runs):
                for n in sizes:
                    for setup in setups:
                        b = burst(servers[setup], stand, setup, n, run, args.wait)
                        bursts.setdefault((setup, n), []).append(b)
                        print(f"  run {run + 1} {setup:20s} N={n:4d}: {b.line()}", flush=True)
        finally:
            for proc in servers.values():
                proc.stop()
    h.print_header("median run (by ack p99)")
    for n in sizes:
        for setup in setups:
            runs = sorted(bursts[(setup, n)], key=lambda b: h.percentile(b.acks, 99))
            print(f"  {setup:20s} N={n:4d}: {runs[len(runs) // 2].line()}")
    for n in sizes:
        runs = bursts.get(("getkey", n), [])
        if runs:
            over = [sum(a > h.SLACK_LIMIT for a in b.acks) + b.failed for b in runs]
            last = [max(b.results) if len(b.results) == n else float("inf") for b in runs]
            print(f"  getkey N={n}: acks over 3 s per run {over} (target 0); last result per run "
                  f"{[round(x, 2) for x in last]} s (target ≤ 10 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
