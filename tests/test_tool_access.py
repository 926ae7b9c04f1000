"""A tool asks for a credential in the form it can use now: for a Shopify client pair, the API
(`?access=1`) and `getkey reveal --access` mint a fresh Admin API token from the stored pair,
store none of it, and never log it; a refused pair is a clear error, not a crash."""

from __future__ import annotations

import itertools
import json
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flows import catalog
from flows.base import VerifyResult
from tests.bot_fixtures import RunningBot, start_bot
from tests.platforms import shopify as shop_platform
from tests.platforms.wix import WixServer
from tests.slack_standin import TEAM_ID, SlackStandIn

ROOT = Path(__file__).resolve().parent.parent
SHOPIFY = catalog.get("shopify")


@pytest.fixture(scope="module")
def shop_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    with (
        SlackStandIn(bot_token="xoxb-access-test") as standin,
        WixServer() as wix,
        shop_platform.ShopifyServer() as shop,
    ):
        running, stop = start_bot(tmp_path_factory.mktemp("access"), standin, [wix, shop])
        try:
            yield running
        finally:
            stop()


def cli(bot: RunningBot, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **bot.environ, "PYTHONPATH": str(ROOT)}
    env[bot.platforms["shopify"].env_name()] = bot.platforms["shopify"].url
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def save_pair(bot: RunningBot, **overrides: str) -> str:
    values = {**shop_platform.good_values(), **overrides}
    result = VerifyResult(ok=True, store_name="Acme Outfitters")
    saved = bot.runtime.store.save(
        team_id=TEAM_ID, user_id="U0SHOPOWNER", flow=SHOPIFY, values=values, result=result
    )
    return saved.credential.id


_names = itertools.count(1)


def token_for(bot: RunningBot) -> str:
    name = f"migration-tool-{next(_names)}"
    done = cli(bot, "api-tokens", "create", "--team", TEAM_ID, "--name", name)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_api_hands_a_tool_a_freshly_minted_token_only_when_asked(shop_bot, caplog):
    caplog.set_level(logging.DEBUG)
    server = shop_bot.platforms["shopify"]
    cred = save_pair(shop_bot)
    token = token_for(shop_bot)
    headers = {"authorization": f"Bearer {token}"}
    url = f"{shop_bot.url}/api/v1/credentials/{cred}"

    plain = httpx.get(url, headers=headers, timeout=40)
    assert plain.status_code == 200, plain.text
    assert "access" not in plain.json()
    assert plain.json()["fields"]["client_secret"] == shop_platform.CLIENT_SECRET
    minted_before = len(server.minted)

    fresh = httpx.get(url, params={"access": "1"}, headers=headers, timeout=40)
    assert fresh.status_code == 200, fresh.text
    access = fresh.json()["access"]
    assert len(server.minted) == minted_before + 1
    # The token Shopify just minted, which the Admin API accepts, with its expiry.
    assert access["access_token"] == server.minted[-1]
    assert access["access_token_expires_at"]
    assert access["access_token"] in server.tokens  # the Admin API accepts it
    # Nothing minted is stored or logged.
    with sqlite3.connect(shop_bot.db_path) as conn:
        dump = "\n".join(conn.iterdump())
    assert access["access_token"] not in dump
    logged = "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    assert access["access_token"] not in logged
    assert shop_platform.CLIENT_SECRET not in logged


def test_a_refused_pair_is_a_clear_error_without_the_secret(shop_bot):
    cred = save_pair(shop_bot, client_secret="shpss_" + "0e" * 16, shop="other-shop")
    token = token_for(shop_bot)
    answer = httpx.get(
        f"{shop_bot.url}/api/v1/credentials/{cred}",
        params={"access": "1"},
        headers={"authorization": f"Bearer {token}"},
        timeout=40,
    )
    assert answer.status_code == 502
    assert "Shopify refused to issue an access token" in answer.json()["error"]
    assert "0e0e0e0e" not in answer.text


def test_reveal_access_prints_a_fresh_token_for_the_operator(shop_bot):
    server = shop_bot.platforms["shopify"]
    cred = save_pair(shop_bot)
    done = cli(shop_bot, "reveal", cred, "--access", "--json", "--operator", "ops")
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout)
    assert values["client_id"] == shop_platform.CLIENT_ID
    assert values["access_token"] in server.minted

    plain = cli(shop_bot, "reveal", cred, "--json", "--operator", "ops")
    assert plain.returncode == 0, plain.stderr
    assert "access_token" not in json.loads(plain.stdout)
