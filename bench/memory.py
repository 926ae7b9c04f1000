"""Idle resident memory (RSS) of `getkey serve --http` after start-up and a few requests, next
to the bare Bolt apps on both server types. Each set-up is started --runs times (fresh
process, fresh SQLite database); the median is printed.

    python bench/memory.py [--runs 3]
Target: getkey ≤ 80 MB.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h

COMMANDS = ("help", "wix", "list", "shopify", "wix")


def measure(setup: str, stand: h.StandIns, work: Path) -> tuple[float, float]:
    """(RSS after start-up, RSS after a few requests and a short rest), in MB."""
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
        return started, h.rss_mb(proc.pid)
    finally:
        proc.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    setups = ["getkey", *h.BARE_KINDS]
    print(f"idle RSS, median of {args.runs} fresh starts", flush=True)
    with h.workdir("bench-memory-") as work, h.standins(work) as stand:
        for setup in setups:
            samples = []
            for run in range(args.runs):
                run_dir = work / f"{setup}-{run}"
                run_dir.mkdir()
                samples.append(measure(setup, stand, run_dir))
            start = h.median([s[0] for s in samples])
            idle = h.median([s[1] for s in samples])
            print(f"  {setup:20s} after start-up {start:6.1f} MB; after {len(COMMANDS) * 4} "
                  f"requests {idle:6.1f} MB (runs: {[round(s[1], 1) for s in samples]})")
    print("  target: getkey ≤ 80 MB after requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
