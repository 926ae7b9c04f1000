"""Time from a modal submission to the result view, through the real app.

The bot runs as in the tests (waitress on a free port, the Slack stand-in, a local Wix server,
a fresh SQLite database). Each run opens the form the way a person does (/getkey wix, press the
button), then times:
  ack     submission sent → "Verifying…" ack received (what Slack waits for; must be < 3 s)
  result  submission sent → views.update with the verified result recorded by the stand-in
          (live check against the local Wix + encrypted save + result view)
The result view is held until the server has written the ack (it must not overtake the ack on
its way to Slack); "overtook" counts the runs where it did anyway (should be 0).

    .venv/bin/python bench/verify_latency.py [--runs 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.slack.ui import ids
from tests.bot_fixtures import BOT_TOKEN, start_bot
from tests.platforms import wix as wix_platform
from tests.platforms.wix import WixServer
from tests.slack_standin import SlackStandIn

VALUES = {
    ids.field_block("api_key"): wix_platform.KEY,
    ids.field_block("account_id"): wix_platform.ACCOUNT,
    ids.field_block("site_id"): "",
}


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def one_run(bot, n: int) -> tuple[float, float, bool]:
    person = bot.person(f"U{n:06d}BENCH")
    guide = person.command("wix").json()
    person.click(guide["blocks"], ids.OPEN_FORM)
    opened = bot.standin.wait_for(
        "views.open",
        where=lambda c: c.args.get("trigger_id") and c.response.get("ok"),
        count=n + 1,
    )[n]
    view_id = opened.response["view"]["id"]
    payload = person.view_payload(view_id, VALUES)
    started = time.monotonic()
    reply = person.deliver_submission(payload)
    acked = time.monotonic()
    assert reply.json()["response_action"] == "update", reply.body
    (done,) = bot.standin.wait_for("views.update", where=lambda c: c.args.get("view_id") == view_id)
    assert "verified" in str(done.args["view"]), "verification did not succeed"
    return (acked - started) * 1000, (done.at - started) * 1000, done.at < acked


def measure(runs: int, warmup: int) -> tuple[list[float], list[float], int]:
    acks: list[float] = []
    results: list[float] = []
    overtook = 0
    with (
        tempfile.TemporaryDirectory() as tmp,
        SlackStandIn(bot_token=BOT_TOKEN) as standin,
        WixServer() as wix,
    ):
        bot, stop = start_bot(Path(tmp), standin, [wix])
        try:
            for n in range(warmup + runs):
                ack_ms, result_ms, early = one_run(bot, n)
                if n >= warmup:
                    acks.append(ack_ms)
                    results.append(result_ms)
                    overtook += early
        finally:
            stop()
    return acks, results, overtook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    print(f"submission → result view, {args.runs} runs (local Wix, SQLite, loopback Slack)")
    acks, results, overtook = measure(args.runs, args.warmup)
    for name, samples in (("ack (Verifying…)", acks), ("result view", results)):
        print(
            f"  {name:17s} median {statistics.median(samples):7.1f} ms   "
            f"p90 {percentile(samples, 90):7.1f} ms   "
            f"p99 {percentile(samples, 99):7.1f} ms   max {max(samples):7.1f} ms"
        )
    print(f"  result view before the ack reached the client: {overtook} of {len(results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
