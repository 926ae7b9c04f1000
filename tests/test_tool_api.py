"""The tool API over a real socket: off until a token exists; tokens from the CLI (printed once,
stored hashed); 401 without or with a revoked token; 404 for another workspace's credential or
a platform the token may not see; every fetch of a secret audited with the token's name; the
change feed long-polls; and the secret never reaches a log line."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from bot.http.api import RateLimiter
from bot.store.tokens import token_hash
from flows import catalog
from flows.base import VerifyResult
from tests.platforms import wix as wix_platform
from tests.slack_standin import TEAM_ID

pytest_plugins = ("tests.bot_fixtures",)

ROOT = Path(__file__).resolve().parent.parent
WIX = catalog.get("wix")
OTHER_TEAM = "T0ELSEWHERE"


def cli(bot, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **bot.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def create_token(bot, name: str, *extra: str, team: str = TEAM_ID) -> str:
    done = cli(bot, "api-tokens", "create", "--team", team, "--name", name, *extra)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("gkt_") and len(token) > 40
    assert "shown this once" in done.stderr
    return token


def save_wix(bot, *, team: str = TEAM_ID, user: str = "U0OWNER", key: str = wix_platform.KEY):
    values = {"api_key": key, "account_id": wix_platform.ACCOUNT, "site_id": ""}
    result = VerifyResult(ok=True, store_name="The Plant Shop")
    return bot.runtime.store.save(
        team_id=team, user_id=user, flow=WIX, values=values, result=result
    ).credential


def get(bot, path: str, token: str | None = None, **kw) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.get(bot.url + path, headers=headers, timeout=40, **kw)


def test_the_api_is_off_until_a_token_exists_then_guards_every_call(bot, caplog):
    caplog.set_level(logging.DEBUG)
    mine = save_wix(bot)
    theirs = save_wix(bot, team=OTHER_TEAM, key=wix_platform.LIMITED_KEY)

    # No token anywhere: the API does not exist.
    assert get(bot, "/api/v1/credentials").status_code == 404
    assert get(bot, f"/api/v1/credentials/{mine.id}").status_code == 404

    token = create_token(bot, "migration-tool")
    # Stored hashed: the clear token is nowhere in the database.
    # (Through SQLite: reading the file's bytes in this process would drop the bot's locks.)
    with sqlite3.connect(bot.db_path) as conn:
        rows = conn.execute("SELECT * FROM api_token").fetchall()
    assert [r[3] for r in rows] == [token_hash(token)]
    assert token not in repr(rows) and token[4:] not in repr(rows)

    # No token, a malformed header, an unknown token: 401.
    assert get(bot, "/api/v1/credentials").status_code == 401
    bad = httpx.get(bot.url + "/api/v1/credentials", headers={"authorization": token}, timeout=5)
    assert bad.status_code == 401
    assert get(bot, "/api/v1/credentials", token[:-2] + "xx").status_code == 401

    # Metadata only, and only this workspace's credentials.
    listed = get(bot, "/api/v1/credentials", token)
    assert listed.status_code == 200
    assert listed.headers["cache-control"] == "no-store"
    items = listed.json()["credentials"]
    assert [i["id"] for i in items] == [mine.id]
    assert items[0]["platform"] == "wix" and items[0]["store_name"] == "The Plant Shop"
    assert wix_platform.KEY not in listed.text and mine.masked not in listed.text

    # Another workspace's credential is a 404, like one that does not exist.
    assert get(bot, f"/api/v1/credentials/{theirs.id}", token).status_code == 404
    assert get(bot, "/api/v1/credentials/nope", token).status_code == 404
    assert not [e for e in bot.runtime.store.audit_events(theirs.id) if e.action == "revealed"]

    # The fetch returns the decrypted fields and is audited with the token's name.
    fetched = get(bot, f"/api/v1/credentials/{mine.id}", token)
    assert fetched.status_code == 200
    assert fetched.json()["fields"] == {
        "api_key": wix_platform.KEY, "account_id": wix_platform.ACCOUNT,
    }  # fmt: skip
    (revealed,) = [e for e in bot.runtime.store.audit_events(mine.id) if e.action == "revealed"]
    assert "migration-tool" in revealed.actor and TEAM_ID in revealed.actor

    # Revoked: 401 from then on; the CLI lists it as revoked.
    done = cli(bot, "api-tokens", "revoke", "--team", TEAM_ID, "--name", "migration-tool")
    assert done.returncode == 0, done.stderr
    assert get(bot, f"/api/v1/credentials/{mine.id}", token).status_code == 401
    listing = cli(bot, "api-tokens", "list")
    assert "migration-tool" in listing.stdout and "revoked" in listing.stdout
    assert token not in listing.stdout

    # The secret never reached a log line (the request lines do exist).
    fragment = wix_platform.KEY[20:52]
    assert "credential fetched" in caplog.text
    for record in caplog.records:
        assert fragment not in json.dumps(record.__dict__, default=str)
        assert token not in json.dumps(record.__dict__, default=str)


def test_a_token_restricted_to_platforms_sees_nothing_else(bot):
    wix_cred = save_wix(bot, user="U0RESTRICT")
    token = create_token(bot, "ecwid-only", "--platform", "ecwid")
    listed = get(bot, "/api/v1/credentials", token)
    assert listed.status_code == 200, listed.text
    assert listed.json()["credentials"] == []
    assert get(bot, f"/api/v1/credentials/{wix_cred.id}", token).status_code == 404
    unknown = cli(bot, "api-tokens", "create", "--team", TEAM_ID, "--name", "x",
                  "--platform", "nosuch")  # fmt: skip
    assert unknown.returncode == 2 and "unknown platform" in unknown.stderr
    taken = cli(bot, "api-tokens", "create", "--team", TEAM_ID, "--name", "ecwid-only")
    assert taken.returncode == 2 and "already has a live token" in taken.stderr


def test_the_change_feed_long_polls_until_something_happens(bot):
    token = create_token(bot, "poller")
    start = get(bot, "/api/v1/changes", token).json()["cursor"]
    # Catch up first: everything so far, then wait from the end.
    while True:
        page = get(bot, f"/api/v1/changes?cursor={start}", token).json()
        if not page["changes"]:
            break
        start = page["cursor"]
    answers: list[httpx.Response] = []
    waiting = threading.Thread(
        target=lambda: answers.append(get(bot, f"/api/v1/changes?cursor={start}&wait=20", token))
    )
    began = time.monotonic()
    waiting.start()
    time.sleep(1.0)
    assert waiting.is_alive()  # nothing happened yet: the call is held
    cred = save_wix(bot, user="U0POLLED")
    waiting.join(25)
    assert time.monotonic() - began < 15
    (answer,) = answers
    body = answer.json()
    (change,) = body["changes"]
    assert change["type"] == "credential.verified"
    assert change["data"]["credential"]["id"] == cred.id
    assert body["cursor"] == change["id"] > start
    assert wix_platform.KEY not in answer.text
    # Bad parameters are a 400 that says what is allowed.
    bad = get(bot, "/api/v1/changes?wait=600", token)
    assert bad.status_code == 400
    assert "wait must be a number of seconds from 0 to 30" in bad.json()["error"]


def test_the_rate_limiter_refuses_past_its_budget_then_refills():
    now = [0.0]
    limiter = RateLimiter(3, clock=lambda: now[0])
    assert [limiter.take(1) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take(1)
    assert wait > 0
    assert limiter.take(2) == 0.0  # budgets are per token
    now[0] += wait
    assert limiter.take(1) == 0.0
