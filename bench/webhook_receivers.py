"""Webhook isolation in numbers: how long another workspace's event waits while one receiver
trickles its answer a byte every 3 s, and how much memory a 300 MiB error body costs.

Runs the real WebhookSender (scheduler ticks every 2 s, as in `getkey serve`) against
receivers on 127.0.0.1 and a throw-away SQLite database. Prints numbers; asserts nothing.

    PYTHONPATH=$PWD .venv/bin/python bench/webhook_receivers.py
"""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.jobs.webhooks import WebhookSender
from bot.store import Keyring, Store, make_engine
from bot.store.crypto import generate_key
from bot.store.db import upgrade
from bot.workers import Workers
from tests.storage_fixtures import TWO, ok, two_values
from tests.webhook_receivers import BadReceiver

TICK = 2.0


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def ticking(hooks: WebhookSender, stop: threading.Event) -> None:
    while not stop.is_set():
        await hooks.tick()
        await asyncio.sleep(TICK)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        store = Store(make_engine(url), Keyring.from_env(generate_key()))
        workers = Workers(slow_threads=2, quick_threads=4)
        hooks = WebhookSender(store, workers, allow_private=True)
        drip, fine, huge = BadReceiver("trickle"), BadReceiver("ok"), BadReceiver("huge")


        store.set_webhook("TDRIP", drip.url, allow_private=True)
        store.set_webhook("TFINE", fine.url, allow_private=True)
        stop = threading.Event()

        async def scenario() -> tuple[float, float]:
            loop = asyncio.create_task(ticking(hooks, stop))
            store.save(team_id="TDRIP", user_id="U1", flow=TWO, values=two_values(1), result=ok())
            await asyncio.to_thread(drip.got_request.wait, 30)
            started = time.monotonic()
            store.save(team_id="TFINE", user_id="U1", flow=TWO, values=two_values(2), result=ok())
            while not fine.received:
                await asyncio.sleep(0.01)
            stall = time.monotonic() - started
            while not store.deliveries("TDRIP")[0].tries:
                await asyncio.sleep(0.05)
            held = time.monotonic() - started
            stop.set()
            await loop
            return stall, held

        drip._answer_trickle = _trickle_every(drip, 3.0)  # type: ignore[method-assign]
        stall, held = asyncio.run(scenario())
        print(f"other workspace's event waited {stall:.2f} s (ticks every {TICK:g} s) while a "
              f"receiver trickled 1 byte / 3 s; the trickler was cut off after {held:.1f} s")

        store.set_webhook("THUGE", huge.url, allow_private=True)
        before = rss_mib()
        store.save(team_id="THUGE", user_id="U1", flow=TWO, values=two_values(3), result=ok())
        asyncio.run(hooks.drain())
        huge.finished.wait(30)
        print(f"peak RSS {before:.0f} MiB before, {rss_mib():.0f} MiB after a 300 MiB error "
              f"body (the receiver pushed {huge.bytes_sent / 2**20:.1f} MiB before the hang-up)")
        for r in (drip, fine, huge):
            r.close()
        workers.close()


def _trickle_every(receiver: BadReceiver, seconds: float):  # type: ignore[no-untyped-def]
    def answer(h) -> None:  # type: ignore[no-untyped-def]
        h.send_response(200)
        h.send_header("content-length", "100000")
        h.end_headers()
        while not receiver.release.wait(seconds):
            h.wfile.write(b".")
            h.wfile.flush()
            receiver.bytes_sent += 1

    return answer


if __name__ == "__main__":
    main()
