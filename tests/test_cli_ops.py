"""The CLI for scripts (issue 17): --version, a --help that lists the platforms, --json on the
list and show commands (parsed here), `db current`, `remind --once --dry-run`, `webhooks
deliveries` and `webhooks test` (a signed ping a receiver can verify), quiet on a closed pipe."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot import __version__
from bot.jobs.webhooks import verify
from bot.runtime import Runtime
from bot.settings import load_settings
from bot.store.crypto import generate_key
from bot.store.db import head_revision, upgrade
from flows import catalog
from flows.base import VerifyResult
from tests.platforms import wix as wix_platform
from tests.storage_fixtures import START, Clock
from tests.test_webhooks import Receiver, environ

ROOT = Path(__file__).resolve().parent.parent
GETKEY = Path(sys.executable).parent / "getkey"
TEAM = "T0CLIOPS"


def getkey(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("GETKEY_", "SLACK_", "DATABASE_URL"))}
    return subprocess.run([str(GETKEY), *args], env={**clean, **(env or {})}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = environ(tmp_path / "getkey.db", generate_key())
    upgrade(values["DATABASE_URL"])
    return values


def test_version_is_the_package_version():
    from importlib.metadata import version

    done = getkey("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"getkey {__version__}"
    assert version("getkey") == __version__


def test_help_lists_every_platform_for_people_not_developers():
    done = getkey("--help")
    assert done.returncode == 0
    for flow in catalog.all_flows():
        assert flow.id in done.stdout, flow.id
    assert "--json" in done.stdout and "getkey serve" in done.stdout
    assert "this module only" not in done.stdout  # not the module docstring
    assert max(len(line) for line in done.stdout.splitlines()) <= 100


def test_a_closed_pipe_ends_quietly():
    proc = subprocess.Popen([str(GETKEY), "guide", "wix"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # what `| head -1` reads, then it goes away
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert first.strip() == b"Wix"
    assert err == b"", err.decode()


def test_db_current_text_json_and_exit_code(tmp_path, env):
    done = getkey("db", "current", env=env)
    assert done.returncode == 0 and done.stdout.startswith(f"{head_revision()} (newest)")
    data = json.loads(getkey("db", "current", "--json", env=env).stdout)
    assert data["current"] == data["head"] == head_revision() and data["up_to_date"] is True
    empty = {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    behind = getkey("db", "current", "--json", env=empty)
    assert behind.returncode == 1
    assert json.loads(behind.stdout) == {"database": empty["DATABASE_URL"], "current": None,
                                         "head": head_revision(), "up_to_date": False}


def test_api_tokens_and_request_policy_as_json(env):
    created = getkey("api-tokens", "create", "--team", TEAM, "--name", "tool-one", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    listed = getkey("api-tokens", "list", "--json", env=env)
    assert listed.returncode == 0 and token not in listed.stdout
    (row,) = json.loads(listed.stdout)
    assert row["team"] == TEAM and row["name"] == "tool-one" and row["revoked_at"] is None
    getkey("request-policy", "--team", TEAM, "--nudge-days", "3", env=env)
    policy = json.loads(getkey("request-policy", "--team", TEAM, "--json", env=env).stdout)
    assert policy == {"team": TEAM, "nudge_days": 3, "expire_days": None}


def save_one(env: dict[str, str], clock: Clock) -> Runtime:
    rt = Runtime.from_settings(load_settings(env), clock=clock)
    values = {"api_key": wix_platform.KEY, "account_id": wix_platform.ACCOUNT, "site_id": ""}
    rt.store.save(team_id=TEAM, user_id="U0OWNER", flow=catalog.get("wix"), values=values,
                  result=VerifyResult(ok=True, store_name="The Plant Shop",
                                      expires_at=START + timedelta(days=30)))
    return rt


def test_webhooks_list_deliveries_and_a_signed_test_ping(env):
    receiver = Receiver().up()
    try:
        done = getkey("webhooks", "set", "--team", TEAM, "--url", receiver.url, env=env)
        secret = done.stdout.strip()
        assert done.returncode == 0 and secret.startswith("whsec_")
        (hook,) = json.loads(getkey("webhooks", "list", "--json", env=env).stdout)
        assert hook == {"team": TEAM, "url": receiver.url}

        # One event, delivered at the second try.
        rt = save_one(env, Clock())
        receiver.status = 503
        asyncio.run(rt.webhooks.drain())
        rt.close()  # the retry waits for its backoff: a later clock
        clock = Clock(START + timedelta(minutes=5))
        rt = Runtime.from_settings(load_settings(env), clock=clock)
        receiver.status = 200
        asyncio.run(rt.webhooks.drain())
        rt.close()
        (delivery,) = json.loads(getkey("webhooks", "deliveries", "--json", env=env).stdout)
        assert delivery["team"] == TEAM and delivery["delivered"] is True
        assert [t["status"] for t in delivery["tries"]] == [503, 200]
        text = getkey("webhooks", "deliveries", "--team", TEAM, env=env).stdout
        assert "delivered" in text and "503" in text and "200" in text

        # The test ping: signed like every event, recorded nowhere.
        before = len(receiver.received)
        ping = getkey("webhooks", "test", "--team", TEAM, "--json", env=env)
        assert ping.returncode == 0, ping.stderr
        assert json.loads(ping.stdout) == {"team": TEAM, "event": "ping", "status": 200,
                                           "ok": True, "error": ""}
        got = receiver.received[before]
        assert got["headers"]["x-getkey-event"] == "ping"
        assert verify(secret, got["headers"]["x-getkey-request-timestamp"], got["body"],
                      got["headers"]["x-getkey-signature"])
        assert json.loads(got["body"])["type"] == "ping"
        assert len(json.loads(getkey("webhooks", "deliveries", "--json", env=env).stdout)) == 1
        receiver.status = 500
        failing = getkey("webhooks", "test", "--team", TEAM, env=env)
        assert failing.returncode == 1 and "HTTP 500" in failing.stdout
    finally:
        receiver.down()
    assert getkey("webhooks", "test", "--team", "T0NOHOOK", env=env).returncode == 2


def test_remind_dry_run_lists_and_sends_nothing(env):
    save_one(env, Clock()).close()
    when = (START + timedelta(days=16)).isoformat()
    dry = getkey("remind", "--once", "--dry-run", "--now", when, "--json", env=env)
    assert dry.returncode == 0, dry.stderr
    data = json.loads(dry.stdout)
    assert data["dry_run"] is True
    assert [(r["platform"], r["stage"], r["owner"]) for r in data["due"]] == [
        ("wix", "expiry-14d", "U0OWNER")]
    assert wix_platform.KEY not in dry.stdout
    # Nothing was claimed or sent: a second dry run sees the same.
    again = json.loads(getkey("remind", "--once", "--dry-run", "--now", when, "--json",
                              env=env).stdout)
    assert again["due"] == data["due"]
    text = getkey("remind", "--once", "--dry-run", "--now", when, env=env)
    assert "wix\tThe Plant Shop" in text.stdout and "dry run: nothing sent" in text.stderr
