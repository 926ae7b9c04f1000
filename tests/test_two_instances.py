"""Two real `getkey serve` processes on one PostgreSQL, the test acting as their load balancer:
an install begun on one finishes on the other; each submission is delivered to one instance and
Slack's retry of it to the other (at the same moment), and must be stored once and confirmed by
one DM; due reminders are sent once although both instances sweep. The counts are printed.

Runs when GETKEY_TEST_POSTGRES_URL is set (CI sets it), in a schema of its own.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.slack.ui import ids
from bot.store import Keyring, Store, make_engine
from bot.store.crypto import generate_key
from flows import catalog
from flows.base import VerifyResult
from tests.bot_fixtures import SIGNING_SECRET, begin_install, finish_install
from tests.platforms import wix as wix_platform
from tests.platforms.wix import WixServer
from tests.serve_process import wait_healthy
from tests.slack_standin import SlackSender, SlackStandIn
from tests.storage_fixtures import POSTGRES_ENV, _with_search_path

REPO = Path(__file__).resolve().parents[1]
TEAM = "T0TWOINST"
SUBMITTERS = 6
REMINDED = 10

pytestmark = pytest.mark.skipif(not os.environ.get(POSTGRES_ENV),
                                reason=f"{POSTGRES_ENV} is not set")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"], cwd=log_path.parent,
        env={**env, "PORT": str(port)}, stdout=subprocess.DEVNULL,
        stderr=log_path.open("w"), text=True,
    )


def deliver_twice(first: SlackSender, retry: SlackSender, payload: dict) -> list[int]:
    """Slack's delivery to one instance and its retry to the other, at the same moment."""
    replies: list[int] = []
    retried = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}

    def send(sender: SlackSender, headers: dict[str, str]) -> None:
        replies.append(sender.post_payload(payload, headers=headers, timeout=30).status)

    threads = [threading.Thread(target=send, args=(first, {})),
               threading.Thread(target=send, args=(retry, retried))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return replies


def dm_kind(text: str) -> str:
    """Which of the owed DMs a message is: the confirmation, or the expiry reminder."""
    if "verified and stored" in text:
        return "stored"
    return "expires" if "expires" in text else text[:60]


@pytest.fixture
def schema_url() -> object:
    base = os.environ[POSTGRES_ENV]
    schema = f"getkey_two_{os.getpid()}"
    admin = make_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    yield _with_search_path(base, schema)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    admin.dispose()


def test_two_instances_store_once_dm_once_remind_once(schema_url: str, tmp_path: Path) -> None:
    key = generate_key()
    with SlackStandIn(bot_token="xoxb-unused") as standin, WixServer() as wix:
        env = {
            "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(REPO),
            "DATABASE_URL": schema_url, "GETKEY_ENCRYPTION_KEYS": key,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": standin.api_url,
            "SLACK_CLIENT_ID": standin.client_id, "SLACK_CLIENT_SECRET": standin.client_secret,
            "GETKEY_WIX_API_URL": wix.url, "GETKEY_SWEEP_SECONDS": "5",
        }
        ports = [free_port(), free_port()]
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        procs = [serve(env, p, log) for p, log in zip(ports, logs, strict=True)]
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        try:
            for url, proc, log in zip((a, b), procs, logs, strict=True):
                wait_healthy(url, proc, lambda log=log: log.read_text()[-2000:])

            # An install begun on A finishes on B.
            _, state, cookie = begin_install(a)
            done = finish_install(b, standin.authorize(TEAM), state, cookie)
            assert done.status_code == 200, done.text

            store = Store(make_engine(schema_url), Keyring.from_env(key))
            # Reminders planned a month ago for keys that expire today: due now, on both.
            past = Store(store.engine, Keyring.from_env(key),
                         clock=lambda: datetime.now(UTC) - timedelta(days=30))
            reminded = [f"U0REM{n:04d}" for n in range(REMINDED)]
            for user in reminded:
                past.save(team_id=TEAM, user_id=user, flow=catalog.get("wix"),
                          values={**wix_platform.good_values(), "account_id": wix_platform.ACCOUNT},
                          result=VerifyResult(ok=True, store_name="Shop",
                                              expires_at=datetime.now(UTC) + timedelta(hours=12)))
            # Their confirmations are owed too (the outbox of either instance may send them):
            # each of those people is due two DMs, "stored" and "expires", each exactly once.

            # Each submission: form opened through A, delivered to A and retried on B at once.
            submitters = [f"U0SUB{n:04d}" for n in range(SUBMITTERS)]
            deliveries = 0
            opened_views: set[str] = set()
            for user in submitters:
                person = SlackSender(a, SIGNING_SECRET, standin, user_id=user, team_id=TEAM)
                guide = person.command("wix").json()
                assert person.click(guide["blocks"], ids.OPEN_FORM).status == 200
                (opened,) = standin.wait_for("views.open", where=lambda c: c.response.get(
                    "ok") and c.response["view"]["id"] not in opened_views)
                opened_views.add(opened.response["view"]["id"])
                payload = person.view_payload(opened.response["view"]["id"], {
                    ids.field_block("api_key"): wix_platform.KEY,
                    ids.field_block("account_id"): wix_platform.ACCOUNT,
                    ids.field_block("site_id"): "",
                })
                assert deliver_twice(person, person.to(b), payload) == [200, 200]
                deliveries += 2

            # Let both instances' outbox and sweep jobs run a few times.
            owed = {**{u: {"stored"} for u in submitters},
                    **{u: {"stored", "expires"} for u in reminded}}

            def received() -> Counter[tuple[str, str]]:
                return Counter((c.args.get("channel", "")[1:], dm_kind(c.args.get("text") or ""))
                               for c in standin.calls_to("chat.postMessage"))

            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                got = received()
                if all(got[u[1:], k] for u, kinds in owed.items() for k in kinds):
                    break
                time.sleep(0.5)
            time.sleep(12)  # two more sweeps on each instance: time for any duplicate to show
            got = received()
            stored = [c for c in store.list_all(TEAM) if c.user_id in submitters]
            stored_events = [e for e in store.audit_events()
                             if e.action in ("stored", "replaced") and e.user_id in submitters]
            duplicates = {f"U{u}:{k}": n for (u, k), n in got.items() if n > 1}
            losses = [f"{u}:{k}" for u, kinds in owed.items() for k in kinds if not got[u[1:], k]]
            unexpected = [f"U{u}:{k}" for u, k in got if k not in owed.get("U" + u, set())]
            senders = Counter(c.team_id for c in standin.calls_to("chat.postMessage"))
            print(f"\ntwo instances: deliveries={deliveries} (submissions {SUBMITTERS}, each "
                  f"delivered to A and retried on B), stored={len(stored)} "
                  f"(store events {len(stored_events)}), confirmation DMs="
                  f"{sum(n for (u, k), n in got.items() if k == 'stored')}, "
                  f"reminders due={REMINDED}, "
                  f"reminder DMs={sum(n for (u, k), n in got.items() if k == 'expires')}, "
                  f"duplicates={len(duplicates)}, losses={len(losses)}, install A→B ok, "
                  f"DMs by workspace={dict(senders)}")
            assert len(stored) == SUBMITTERS and len(stored_events) == SUBMITTERS
            assert not duplicates and not losses and not unexpected, (duplicates, losses,
                                                                        unexpected)
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(30)
        for proc, log in zip(procs, logs, strict=True):
            text = log.read_text()
            assert proc.returncode == 0, text[-2000:]
            assert "Traceback" not in text
            assert wix_platform.KEY not in text
            for token in standin.tokens:
                assert token not in text
