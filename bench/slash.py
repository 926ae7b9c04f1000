"""Slash-command throughput and latency: `/getkey wix` (the guide) and `/getkey list`, getkey
against bare Bolt apps on the two server types, side by side in one run.

Set-ups (each its own process on loopback, load from wrk or bench/loadgen.py in another):
  getkey              `python -m bot.cli serve --http` (whatever server it uses)
  bare-async-uvicorn  AsyncApp + uvicorn, acks /getkey with a small ephemeral message
  bare-sync-waitress  App(process_before_response=True) + waitress, the same ack
For each command and concurrency (8, 32, 128): requests/s, p50/p99/max of answered requests,
how many took over Slack's 3 s, and the server's CPU time per answered request (user + system,
from /proc); medians over --runs runs (max: the worst run; over 3 s: the sum), then getkey's
requests/s as a ratio of the best bare set-up's.
The `/getkey list` person has one stored key (submitted through the real form first).

    python bench/slash.py [--runs 3] [--duration 5] [--levels 8,32,128] [--tool auto|wrk|python]
Targets (issue 21): `/getkey wix` ratio ≥ 0.95 at 32 and ≥ 0.9 at 128, p99 < 50 ms at 32;
`/getkey list` ratio ≥ 0.5 at 32, p99 < 100 ms, ≤ 1 ms CPU per request beyond the bare ack's;
nothing over 3 s at 128.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h
from loadgen import LoadResult, have_wrk, run_load

COMMANDS = {"wix": "U0BENCHGUIDE", "list": "U0BENCHLIST"}
# (ratio at ≤ 32, ratio above 32, p99 ms at 32) each command is held to (None: no target).
TARGETS: dict[str, tuple[float, float | None, float]] = {
    "wix": (0.95, 0.9, 50.0), "list": (0.5, None, 100.0)}


def store_one_key(app_url: str, stand: h.StandIns, user_id: str) -> None:
    """The /getkey list person submits one Wix key through the real form."""
    with httpx.Client(trust_env=False) as client:
        view = h.open_form(client, app_url, stand, user_id, 0)
        before = stand.stats()["result_count"]
        body = h.payload_body(h.submission(view, user_id, h.WIX_VALUES))
        h.post_signed(client, app_url, body).raise_for_status()
    deadline = time.monotonic() + 30
    while stand.stats()["result_count"] <= before:
        if time.monotonic() > deadline:
            raise RuntimeError("the /getkey list person's key was not verified within 30 s")
        time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--levels", default="8,32,128")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    tool = args.tool if args.tool != "auto" else ("wrk" if have_wrk() else "python")
    print(f"slash commands: {args.runs} runs × {args.duration:g} s per point, load from {tool}, "
          f"levels {levels}", flush=True)

    results: dict[tuple[str, int, str], list[LoadResult]] = defaultdict(list)
    cpu: dict[tuple[str, int, str], list[float]] = defaultdict(list)  # ms per request
    with h.workdir("bench-slash-") as work, h.standins(work) as stand:
        servers = {"getkey": h.start_getkey(stand, work)}
        try:
            servers["bare-async-uvicorn"] = h.start_bare(
                "bare-async-uvicorn", stand, work, process_before_response=False)
            servers["bare-sync-waitress"] = h.start_bare(
                "bare-sync-waitress", stand, work, process_before_response=True)
            store_one_key(servers["getkey"].url, stand, COMMANDS["list"])
            for proc in servers.values():  # warm-up: imports, first auth.test, caches
                for text, user in COMMANDS.items():
                    body = h.command_body(text, user, stand.slack_url)
                    run_load(proc.url + "/slack/events", body, h.Signer().headers(body), 8, 1,
                             tool=tool)
            for run in range(args.runs):
                for text, user in COMMANDS.items():
                    for level in levels:
                        for name, proc in servers.items():
                            body = h.command_body(text, user, stand.slack_url, run)
                            used = h.cpu_seconds(proc.pid)
                            result = run_load(proc.url + "/slack/events", body,
                                              h.Signer().headers(body), level, args.duration,
                                              tool=tool)
                            used = h.cpu_seconds(proc.pid) - used
                            results[(text, level, name)].append(result)
                            cpu[(text, level, name)].append(
                                used * 1000 / result.requests if result.requests else float("nan"))
                            if proc.popen.poll() is not None:
                                raise RuntimeError(f"{name} died:\n{proc.log_tail()}")
                print(f"  run {run + 1}/{args.runs} done", flush=True)
        finally:
            for proc in servers.values():
                proc.stop()
    report(results, cpu, levels, list(servers))
    return 0


def report(results: dict[tuple[str, int, str], list[LoadResult]],
           cpu: dict[tuple[str, int, str], list[float]], levels: list[int],
           names: list[str]) -> None:
    for text in COMMANDS:
        h.print_header(f"/getkey {text}")
        print(f"  {'set-up':20s} {'conc':>5s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} "
              f"{'max ms':>8s} {'>3 s':>6s} {'non-2xx':>8s} {'errors':>7s} {'CPU ms/req':>10s}")
        for level in levels:
            for name in names:
                rs = results[(text, level, name)]
                print(f"  {name:20s} {level:5d} {h.median([r.rps for r in rs]):8.0f} "
                      f"{h.median([r.p50_ms for r in rs]):8.1f} "
                      f"{h.median([r.p99_ms for r in rs]):8.1f} "
                      f"{max(r.max_ms for r in rs):8.1f} {sum(r.over_3s for r in rs):6d} "
                      f"{sum(r.non2xx for r in rs):8d} {sum(r.errors for r in rs):7d} "
                      f"{h.median(cpu[(text, level, name)]):10.2f}")
        at32, at128, p99_target = TARGETS[text]
        for level in levels:
            getkey = h.median([r.rps for r in results[(text, level, "getkey")]])
            bares = {n: h.median([r.rps for r in results[(text, level, n)]])
                     for n in names if n != "getkey"}
            best = max(bares, key=lambda n: bares[n])
            ratio = getkey / bares[best] if bares[best] else float("nan")
            target = at32 if level <= 32 else at128
            wanted = f"target ≥ {target:.2f}" if target is not None else "no target"
            print(f"  ratio at {level:3d}: getkey {getkey:.0f} req/s / best bare ({best}) "
                  f"{bares[best]:.0f} = {ratio:.2f}×  ({wanted})")
            extra = h.median(cpu[(text, level, "getkey")]) - h.median(cpu[(text, level, best)])
            print(f"  CPU at {level:3d}: getkey {extra:+.2f} ms per request beyond {best}")
        if 32 in levels:
            p99 = h.median([r.p99_ms for r in results[(text, 32, "getkey")]])
            print(f"  getkey p99 at 32: {p99:.1f} ms (target < {p99_target:.0f} ms)")
        top = max(levels)
        over = sum(r.over_3s for r in results[(text, top, "getkey")])
        done = sum(r.requests for r in results[(text, top, "getkey")])
        print(f"  getkey at {top}: {over} request(s) over 3 s out of {done + over} "
              f"(target 0)")


if __name__ == "__main__":
    sys.exit(main())
