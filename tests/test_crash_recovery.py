"""Crash recovery in seconds on a single-instance (SQLite) deployment: after `kill -9`, the
next start knows that everything in flight was orphaned. A verification the crash interrupted
is reported to its person, and an outbox message the dead process had claimed is sent, right
after start-up, not once the rows are two minutes old and the minute job comes round (the old
code: up to 3 minutes on "Checking…", 122 s for a claimed confirmation).

Prints the seconds from the restart to each; the waits are generous deadlines for a busy
machine (30 s after the restarted process answers), not timing assertions."""

from __future__ import annotations

import time
from pathlib import Path

from bot.store import Keyring, Store, make_engine
from bot.store.crypto import generate_key
from flows import catalog
from flows.base import VerifyResult
from tests.platforms import wix as wix_platform
from tests.platforms.wix import WixServer
from tests.resilience_support import WAIT, ServeProcess
from tests.slack_standin import TEAM_ID, SlackStandIn, check_view
from tests.slack_standin import visible_text as visible
from tests.test_resilience_faults import BOT_TOKEN, bot_env, kill_while_verifying, pending_rows

OTHER = "U0CONFIRMD"


def claimed_by_the_dead(db: Path, keys: str) -> None:
    """A key stored for OTHER whose confirmation the dead process had claimed, unsent."""
    engine = make_engine(f"sqlite:///{db}")
    try:
        store = Store(engine, Keyring.from_env(keys))
        values = {"api_key": wix_platform.LIMITED_KEY, "account_id": wix_platform.ACCOUNT,
                  "site_id": ""}
        store.save(team_id=TEAM_ID, user_id=OTHER, flow=catalog.get("wix"), values=values,
                   result=VerifyResult(ok=True, store_name="Claimed Shop"))  # fmt: skip
        assert store.claim_outbox(limit=100)  # its lease runs for two minutes
    finally:
        engine.dispose()


def test_after_kill_9_people_hear_within_seconds_of_the_restart(tmp_path: Path) -> None:
    keys = generate_key()
    with SlackStandIn(bot_token=BOT_TOKEN) as standin, WixServer() as wix:
        wix.fault, wix.slow_seconds = "timeout", WAIT
        first = ServeProcess(tmp_path, bot_env(tmp_path, standin, wix,
                                               GETKEY_ENCRYPTION_KEYS=keys), "first")
        second = None
        try:
            view_id, _ = kill_while_verifying(first, standin, wix)
            assert pending_rows(tmp_path / "getkey.db") == 1
            claimed_by_the_dead(tmp_path / "getkey.db", keys)
            wix.fault = None

            # Restarted with the default settings (interrupted = two minutes old).
            started = time.monotonic()
            second = ServeProcess(tmp_path, bot_env(
                tmp_path, standin, wix, GETKEY_ENCRYPTION_KEYS=keys), "second")
            second.wait_healthy()
            up = time.monotonic() - started
            standin.wait_for("views.update", where=lambda c: c.args["view_id"] == view_id,
                             timeout=30)  # fmt: skip
            told = time.monotonic() - started
            shown = visible(check_view(standin.views[view_id]))
            assert "Please try again" in shown and "nothing was stored" in shown
            standin.wait_for("chat.postMessage", timeout=30,
                             where=lambda c: "Claimed Shop" in str(c.args))
            sent = time.monotonic() - started
            print(f"\nrestart: answering after {up:.1f} s; interrupted person told after "
                  f"{told:.1f} s; claimed confirmation sent after {sent:.1f} s")
            assert pending_rows(tmp_path / "getkey.db") == 0
        finally:
            first.stop()
            if second is not None:
                second.stop()
