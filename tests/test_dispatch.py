"""bot.slack.dispatch: each request still reaches the listener Bolt would pick, having been tried
only against listeners that can match its kind; with one bot token, a workspace's requests share
the Slack client Bolt would have built for each (its calls still carry that workspace)."""

from __future__ import annotations

import asyncio
import json
import re
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.app import AfterAckApp
from bot.slack.dispatch import KIND_ATTRIBUTE, IndexedApp, ListenersByKind, kind_of
from bot.workers import Workers
from tests.slack_standin import TEAM_ID, SlackStandIn

FORM = {"content-type": ["application/x-www-form-urlencoded"]}


def command(team: str = TEAM_ID, text: str = "wix") -> AsyncBoltRequest:
    body = urlencode({"command": "/getkey", "text": text, "team_id": team, "user_id": "U0ME",
                      "channel_id": "C0HERE", "response_url": "http://127.0.0.1:9/r"})  # fmt: skip
    return AsyncBoltRequest(body=body, headers=FORM)


def press(action_id: str) -> AsyncBoltRequest:
    payload = {"type": "block_actions", "team": {"id": TEAM_ID}, "user": {"id": "U0ME"},
               "actions": [{"action_id": action_id, "block_id": "b", "type": "button"}],
               "trigger_id": "1.2.3"}  # fmt: skip
    return AsyncBoltRequest(body=urlencode({"payload": json.dumps(payload)}), headers=FORM)


@pytest.fixture
def app_and_calls() -> Any:
    with SlackStandIn(bot_token="xoxb-dispatch") as slack:
        app = IndexedApp(client=AsyncWebClient(token="xoxb-dispatch", base_url=slack.api_url),
                         signing_secret="unused", request_verification_enabled=False,
                         process_before_response=True)  # fmt: skip
        calls: list[tuple[str, Any]] = []
        registrar = AfterAckApp(app, Workers())

        def listener(name: str) -> Any:
            async def handle(ack: Any, client: AsyncWebClient) -> None:
                await ack(text=name)
                calls.append((name, client))

            return handle

        registrar.action(re.compile("^first$"))(listener("first"))
        registrar.view("form")(listener("form"))
        registrar.command("/getkey")(listener("command"))
        registrar.action("second")(listener("second"))
        registrar.action(re.compile(".*"))(listener("any action"))
        app.quicken_matchers()
        yield app, calls


def test_each_request_reaches_the_listener_bolt_would_pick(app_and_calls: Any) -> None:
    app, calls = app_and_calls

    async def run() -> list[str]:
        answers = [(await app.async_dispatch(req)).body
                   for req in (command(), press("second"), press("first"), press("other"))]
        await asyncio.sleep(0.05)  # the listeners record their call after the ack
        return answers

    assert asyncio.run(run()) == ["command", "second", "first", "any action"]
    assert [name for name, _ in calls] == ["command", "second", "first", "any action"]


def test_a_workspaces_requests_share_the_client_bolt_would_build(app_and_calls: Any) -> None:
    app, calls = app_and_calls

    async def run() -> None:
        for team in (TEAM_ID, TEAM_ID, "T0OTHER"):
            await app.async_dispatch(command(team))
        await asyncio.sleep(0.05)

    asyncio.run(run())
    (_, first), (_, second), (_, other) = calls
    assert first is second and first is not other and first is not app.client
    assert first.token == other.token == "xoxb-dispatch"
    assert first.default_params["team_id"] == TEAM_ID
    assert other.default_params["team_id"] == "T0OTHER"


def fake(registrar: str | None) -> Any:
    def ack_function() -> None: ...

    if registrar:
        setattr(ack_function, KIND_ATTRIBUTE, registrar)
    return SimpleNamespace(ack_function=ack_function, registrar=registrar)


def test_a_request_is_tried_only_against_listeners_of_its_kind_in_order() -> None:
    listeners = ListenersByKind()
    for registrar in ("action", "command", None, "view", "action", "event", "shortcut"):
        listeners.append(fake(registrar))

    def tried(kind: str | None) -> list[str | None]:
        return [listener.registrar for listener in listeners.for_kind(kind)]

    assert tried(kind_of({"command": "/getkey", "text": "wix"})) == ["command", None]
    assert tried(kind_of({"type": "block_actions"})) == ["action", None, "action"]
    assert tried(kind_of({"type": "interactive_message"})) == ["action", None, "action"]
    assert tried(kind_of({"type": "view_closed"})) == [None, "view"]
    assert tried(kind_of({"type": "event_callback"})) == [None, "event"]
    assert tried(kind_of({"type": "message_action"})) == [None, "shortcut"]
    everything = ["action", "command", None, "view", "action", "event", "shortcut"]
    # Anything else, or a body that could be two kinds, is tried against every listener.
    assert tried(kind_of({"type": "app_rate_limited"})) == everything
    assert tried(kind_of({"command": "/getkey", "type": "block_actions"})) == everything
    listeners.append(fake("command"))  # registered later: counted from then on
    assert tried("command") == ["command", None, "command"]
