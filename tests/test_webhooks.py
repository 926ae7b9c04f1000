"""Webhooks through a local receiver over real sockets: signed like Slack's requests, never
carrying a secret, retried with backoff while the receiver is down, and delivered after a
restart of getkey (a new Runtime on the same database) because the outbox is in the database."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from bot.jobs.webhooks import verify
from bot.runtime import Runtime
from bot.settings import load_settings
from bot.store.crypto import generate_key
from bot.store.db import upgrade
from flows import catalog
from flows.base import VerifyResult
from tests.platforms import wix as wix_platform
from tests.platforms.server import QuietHTTPServer
from tests.storage_fixtures import Clock

ROOT = Path(__file__).resolve().parent.parent
TEAM = "T0HOOKS"
WIX = catalog.get("wix")


class Receiver:
    """A webhook receiver on a fixed port that can be taken down and brought back."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        self.port = 0
        self._httpd: QuietHTTPServer | None = None

    def up(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.received.append(
                    {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": raw}
                )
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

        QuietHTTPServer.allow_reuse_address = True
        self._httpd = QuietHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def down(self) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/getkey"


def environ(db: Path, key: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-1-2-hookstest",
        "SLACK_SIGNING_SECRET": "hookstestsigningsecret0",
        "DATABASE_URL": f"sqlite:///{db}",
        "GETKEY_ENCRYPTION_KEYS": key,
        # The receivers of these tests listen on 127.0.0.1 over plain http.
        "GETKEY_WEBHOOK_ALLOW_PRIVATE": "1",
    }


def runtime(env: dict[str, str], clock: Clock) -> Runtime:
    return Runtime.from_settings(load_settings(env), clock=clock)


def drain(rt: Runtime) -> list[tuple[int, int]]:
    return asyncio.run(rt.webhooks.drain())


def test_signed_delivery_after_an_outage_and_a_restart(tmp_path: Path) -> None:
    db, key, clock = tmp_path / "getkey.db", generate_key(), Clock()
    env = environ(db, key)
    upgrade(env["DATABASE_URL"])
    receiver = Receiver().up()
    receiver.down()  # the receiver's host is down when the key is verified

    # The operator sets the webhook with the CLI: the secret is printed once, stored encrypted.
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "webhooks", "set", "--team", TEAM, "--url", receiver.url],
        cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip()
    assert secret.startswith("whsec_")

    rt = runtime(env, clock)
    values = {"api_key": wix_platform.KEY, "account_id": wix_platform.ACCOUNT, "site_id": ""}
    saved = rt.store.save(
        team_id=TEAM, user_id="U0OWNER", flow=WIX, values=values,
        result=VerifyResult(ok=True, store_name="The Plant Shop"),
    ).credential  # fmt: skip

    # Down: the attempt fails (no answer), is recorded, and waits for its backoff.
    ((delivery_id, status),) = drain(rt)
    assert status == 0
    assert drain(rt) == []  # not due again yet
    clock.advance(seconds=11)
    receiver.up()
    receiver.status = 503  # up, but failing
    assert drain(rt) == [(delivery_id, 503)]
    assert drain(rt) == []

    # getkey restarts: the pending delivery is in the database, not in memory.
    rt.close()
    rt = runtime(env, clock)
    receiver.status = 200
    clock.advance(seconds=19)
    assert drain(rt) == []  # the backoff grew (20 s after the second attempt)
    clock.advance(seconds=2)
    assert drain(rt) == [(delivery_id, 200)]
    assert drain(rt) == []  # delivered once

    # Each attempt is recorded with its time and status.
    (info,) = rt.store.deliveries(TEAM)
    assert info.delivered and info.attempts == 3
    assert [t[1] for t in info.tries] == [0, 503, 200]
    gaps = [(b[0] - a[0]).total_seconds() for a, b in zip(info.tries, info.tries[1:], strict=False)]
    assert gaps == [11.0, 21.0]

    # The receiver can verify the signature with the secret it was given; a body changed in
    # transit cannot pass.
    delivered = receiver.received[-1]
    headers, body = delivered["headers"], delivered["body"]
    assert headers["x-getkey-event"] == "credential.verified"
    ts = headers["x-getkey-request-timestamp"]
    assert verify(secret, ts, body, headers["x-getkey-signature"])
    assert not verify(secret, ts, body.replace(b"Plant", b"Plank"), headers["x-getkey-signature"])
    assert not verify("whsec_wrong", ts, body, headers["x-getkey-signature"])
    event = json.loads(body)
    assert event["type"] == "credential.verified" and event["team_id"] == TEAM
    assert event["data"]["credential"]["id"] == saved.id

    # Never a secret: not the key, not its masked form, not the webhook's own secret.
    for got in receiver.received:
        raw = got["body"].decode()
        assert wix_platform.KEY[10:40] not in raw and saved.masked not in raw
        assert secret not in raw and secret not in json.dumps(got["headers"])
    # The signing secret is stored encrypted.
    with rt.store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT secret_token FROM webhook").scalar_one()
    assert secret[6:] not in stored

    # Deleting the credential is an event too.
    rt.store.delete(saved.id, actor="test")
    drain(rt)
    assert json.loads(receiver.received[-1]["body"])["type"] == "credential.deleted"
    rt.close()
    receiver.down()
