"""Resident memory (RSS) of `getkey serve --http`, next to the bare Bolt apps, in three states:
after start-up; idle after a few requests; and after load (--requests slash commands, then
--burst simultaneous form submissions against a platform answering in --delay s, then --settle s
of rest, long enough for the worker pools to shrink back). Each set-up is started --runs times
(fresh process, fresh SQLite database); medians are printed.

    python bench/memory.py [--runs 3] [--requests 20000] [--burst 200] [--settle 20]
Targets: getkey ≤ 70 MB idle; ≤ +25 MB after the load.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h
from loadgen import have_wrk, run_load
from submissions import burst

COMMANDS = ("help", "wix", "list", "shopify", "wix")
LOADED = ("bare-async-uvicorn",)  # the bare set-up that takes the same load, for the yardstick
LIST_USER = "U0MEMORYLIST"


@dataclass
class Sample:
    started: float
    idle: float
    loaded: float | None = None  # None: not loaded (the other bare set-up)
    requests: int = 0


def slash_load(proc: h.Proc, stand: h.StandIns, total: int, tool: str) -> int:
    """`/getkey wix` and `/getkey list` alternately at 32 connections until `total` answered."""
    done = n = 0
    while done < total:
        text = ("wix", "list")[n % 2]
        body = h.command_body(text, LIST_USER, stand.slack_url, n)
        seconds = max(0.5, min(5.0, (total - done) / 1500))
        result = run_load(proc.url + "/slack/events", body, h.Signer().headers(body), 32,
                          seconds, tool=tool)
        done += result.requests
        n += 1
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} died:\n{proc.log_tail()}")
    return done


def measure(setup: str, stand: h.StandIns, work: Path, args: argparse.Namespace,
            run: int) -> Sample:
    proc = (h.start_getkey(stand, work) if setup == "getkey" else
            h.start_bare(setup, stand, work, process_before_response=False))
    try:
        time.sleep(1.0)
        started = h.rss_mb(proc.pid)
        with httpx.Client(trust_env=False) as client:
            for n, text in enumerate(COMMANDS * 4):
                h.post_signed(client, proc.url, h.command_body(text, "U0MEMORY1", stand.slack_url,
                                                              n)).raise_for_status()
            if setup == "getkey":
                client.get(proc.url + "/healthz")
        time.sleep(2.0)  # let work after the acks (e.g. /getkey list's answer) finish
        sample = Sample(started, h.rss_mb(proc.pid))
        if setup in ("getkey", *LOADED) and args.requests + args.burst > 0:
            sample.requests = slash_load(proc, stand, args.requests, args.tool)
            if args.burst:
                b = burst(proc, stand, setup, args.burst, run, args.wait)
                if len(b.results) < args.burst:
                    print(f"  ({setup}: {len(b.results)}/{args.burst} results in {args.wait:g} s)")
            time.sleep(args.settle)
            sample.loaded = h.rss_mb(proc.pid)
        return sample
    finally:
        proc.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20000, help="slash commands of the load")
    parser.add_argument("--burst", type=int, default=200, help="simultaneous submissions after")
    parser.add_argument("--delay", type=float, default=1.0, help="platform answer time (s)")
    parser.add_argument("--settle", type=float, default=20.0, help="rest before the last RSS (s)")
    parser.add_argument("--wait", type=float, default=60.0, help="give up on results after")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()
    if args.tool == "auto":
        args.tool = "wrk" if have_wrk() else "python"
    setups = ["getkey", *h.BARE_KINDS]
    print(f"RSS, median of {args.runs} fresh starts; load: {args.requests} slash commands "
          f"({args.tool}), then {args.burst} submissions at once (platform {args.delay:g} s), "
          f"then {args.settle:g} s of rest", flush=True)
    medians: dict[str, tuple[float, float, float | None]] = {}
    with h.workdir("bench-memory-") as work, h.standins(work, args.delay) as stand:
        for setup in setups:
            samples = []
            for run in range(args.runs):
                run_dir = work / f"{setup}-{run}"
                run_dir.mkdir()
                samples.append(measure(setup, stand, run_dir, args, run))
            loads = [s.loaded for s in samples if s.loaded is not None]
            medians[setup] = (h.median([s.started for s in samples]),
                              h.median([s.idle for s in samples]),
                              h.median(loads) if loads else None)
            start, idle, loaded = medians[setup]
            after = (f"; after load {loaded:6.1f} MB (+{loaded - idle:.1f}; "
                     f"{h.median([s.requests for s in samples]):.0f} requests)"
                     if loaded is not None else "")
            runs = f"idle runs: {[round(s.idle, 1) for s in samples]}"
            if loads:
                runs += f", loaded runs: {[round(x, 1) for x in loads]}"
            print(f"  {setup:20s} after start-up {start:6.1f} MB; after {len(COMMANDS) * 4} "
                  f"requests {idle:6.1f} MB{after} ({runs})", flush=True)
    idle = medians["getkey"][1]
    bare = medians[h.BARE_KINDS[0]][1]
    print(f"  getkey idle / {h.BARE_KINDS[0]} idle: {idle / bare:.2f}× (+{idle - bare:.1f} MB)")
    print("  targets: getkey ≤ 70 MB idle; ≤ +25 MB after the load")
    return 0


if __name__ == "__main__":
    sys.exit(main())
