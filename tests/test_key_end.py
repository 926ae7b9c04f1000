"""A key needed until a date (issue 19): no rotation reminder, "still needed?" three days
before, and at the date the platform's revocation steps go out, getkey deletes its copy and
the deletion reaches the change feed and the webhook. Real Runtime, SQLite, the local Slack and
a local webhook receiver over real sockets; the clock is moved, never waited for."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.runtime import Runtime
from bot.settings import load_settings
from bot.store.crypto import generate_key
from bot.store.db import upgrade
from flows import catalog
from flows.base import VerifyResult
from tests.platforms import bigcommerce as bc
from tests.slack_standin import SlackStandIn
from tests.storage_fixtures import Clock
from tests.test_webhooks import Receiver

TEAM = "T0GETKEY1"
OWNER, PROVIDER = "U0OWNER01", "U0PROVIDE"
BC = catalog.get("bigcommerce")
VALUES = {"credentials_file": "", "store_hash": bc.HASH, "access_token": bc.TOKEN}


@pytest.fixture
def world(tmp_path: Path):
    clock = Clock()
    with SlackStandIn(bot_token="xoxb-1-2-endtest") as slack:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-1-2-endtest",
            "SLACK_SIGNING_SECRET": "endtestsigningsecret00",
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'getkey.db'}",
            "GETKEY_ENCRYPTION_KEYS": generate_key(),
            "GETKEY_WEBHOOK_ALLOW_PRIVATE": "1",
        }
        upgrade(env["DATABASE_URL"])
        rt = Runtime.from_settings(load_settings(env), clock=clock)
        receiver = Receiver().up()
        rt.store.set_webhook(TEAM, receiver.url, allow_private=True)
        yield rt, slack, clock, receiver
        receiver.down()
        rt.close()
        for call in slack.calls:
            assert bc.TOKEN.encode() not in call.raw


def save(rt: Runtime, clock: Clock, *, days: int = 20, provided_by: str | None = None):
    return rt.store.save(
        team_id=TEAM, user_id=OWNER, flow=BC, values=VALUES,
        result=VerifyResult(ok=True, store_name="The Plant Shop"),
        purpose="write", needed_until=clock.now + timedelta(days=days), provided_by=provided_by,
    ).credential  # fmt: skip


def sweep(rt: Runtime, clock: Clock, owner: str = OWNER) -> list[str]:
    """One sweep at the clock's time (a fresh loop, as `getkey remind --once`): the stages of
    what went out about `owner`'s keys."""

    async def go():
        try:
            return await rt.sweep.run(clock.now)
        finally:
            await rt.clients.close()

    return [s.stage for s in asyncio.run(go()) if s.owner == owner]


def dms_to(slack: SlackStandIn, user: str) -> list[str]:
    return [json.dumps(c.args.get("blocks")) + c.args.get("text", "")
            for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == "D" + user[1:]]


def test_no_rotation_reminder_then_still_needed_then_deleted_with_steps(world) -> None:
    rt, slack, clock, receiver = world
    info = save(rt, clock, days=200)
    assert info.purpose == "write" and info.needed_until is not None
    # The same key without an end date, for someone else: it does get its rotation reminder.
    rt.store.save(team_id=TEAM, user_id=PROVIDER, flow=BC, values=VALUES,
                  result=VerifyResult(ok=True, store_name="The Plant Shop"))
    # Past BigCommerce's 180-day rotation period: only the key without an end is reminded.
    clock.advance(days=185)
    assert sweep(rt, clock, PROVIDER) == ["rotation-due"]
    assert dms_to(slack, OWNER) == []
    clock.advance(days=12, hours=1)  # three days before the end
    assert sweep(rt, clock) == ["end-ask"]
    (ask,) = dms_to(slack, OWNER)
    assert "Still needed?" in ask and "getkey.end_extend" in ask and "getkey.end_done" in ask

    clock.advance(days=3)
    assert sweep(rt, clock) == ["end-due"]
    assert rt.store.get(info.id) is None
    ended = dms_to(slack, OWNER)[-1]
    # The platform's own steps, not a generic sentence.
    assert "Store-level API accounts" in ended and "*Delete*" in ended
    assert "deleted its copy" in ended
    # Audited, in the change feed, and delivered to the webhook.
    events = [e.action for e in rt.store.audit_events(info.id)]
    assert events[-1] == "deleted"
    assert [c.type for c in rt.store.changes_since(TEAM)][-1] == "credential.deleted"
    asyncio.run(rt.webhooks.drain())
    kinds = [json.loads(r["body"])["type"] for r in receiver.received]
    assert kinds[-1] == "credential.deleted"
    assert json.loads(receiver.received[-1]["body"])["data"]["credential"]["id"] == info.id
    # Nothing more to send, ever.
    clock.advance(days=400)
    assert sweep(rt, clock) == []


def test_a_provided_key_sends_the_steps_to_the_provider_and_tells_the_requester(world) -> None:
    rt, slack, clock, _ = world
    info = save(rt, clock, days=2, provided_by=PROVIDER)
    clock.advance(days=2, hours=1)
    assert sweep(rt, clock) == ["end-due"]
    (steps,) = dms_to(slack, PROVIDER)
    assert "Store-level API accounts" in steps and f"<@{OWNER}>" in steps
    told = dms_to(slack, OWNER)[-1]
    assert f"<@{PROVIDER}> was sent the steps" in told and "Store-level" not in told
    assert rt.store.get(info.id) is None


def test_extend_moves_the_end(world) -> None:
    rt, _slack, clock, _ = world
    info = save(rt, clock, days=5)
    clock.advance(days=2, hours=1)
    assert sweep(rt, clock) == ["end-ask"]
    later = clock.now + timedelta(days=30)
    rt.store.set_needed_until(info.id, later, actor="test")
    clock.advance(days=5)
    assert sweep(rt, clock) == []
    assert rt.store.get(info.id) is not None
    clock.advance(days=23)
    assert sweep(rt, clock) == ["end-ask"]
    clock.advance(days=3)
    assert sweep(rt, clock) == ["end-due"]
    assert rt.store.get(info.id) is None
