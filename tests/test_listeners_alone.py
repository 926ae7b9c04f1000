"""Listener handlers are plain module-level functions: one can be imported and called with
Bolt's arguments, the runtime in its context, and nothing else running (no app, no server)."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.slack.listeners.guides import handle_show_guide
from bot.slack.listeners.home import handle_home_opened
from bot.slack.listeners.replies import RUNTIME
from bot.store.admin import Defaults


class Recorder:
    """Stands for ack / respond / a client method: records what it was called with."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append(kwargs)


class Admins:
    def __init__(self, platforms: tuple[str, ...] | None) -> None:
        self.platforms = platforms

    async def defaults_within(self, team_id: str, enterprise_id: str | None = None) -> Defaults:
        return Defaults(platforms=self.platforms)


class Runtime:
    def __init__(self, platforms: tuple[str, ...] | None = None) -> None:
        self.admins = Admins(platforms)


BODY = {"type": "block_actions", "user": {"id": "U1", "team_id": "T1"}, "team": {"id": "T1"}}


def press_guide(platform: str, offered: tuple[str, ...] | None) -> tuple[Recorder, Recorder]:
    ack, respond = Recorder(), Recorder()
    context = {RUNTIME: Runtime(offered)}
    action = {"action_id": "getkey.show_guide.x", "value": platform}
    asyncio.run(handle_show_guide(ack, BODY, action, respond, context))
    return ack, respond


def test_a_guide_button_shows_the_guide_of_an_offered_platform() -> None:
    ack, respond = press_guide("wix", ("wix",))
    assert len(ack.calls) == 1
    (said,) = respond.calls
    assert said["replace_original"] is True and "Wix" in said["text"] and said["blocks"]


def test_a_guide_button_for_a_platform_switched_off_says_so() -> None:
    _, respond = press_guide("bigcommerce", ("wix",))
    (said,) = respond.calls
    assert "not offered in this workspace" in said["text"] and "blocks" not in said


def test_the_messages_tab_publishes_nothing() -> None:
    client = type("Client", (), {"views_publish": Recorder()})()
    body = {"type": "event_callback", "team_id": "T1",
            "event": {"type": "app_home_opened", "user": "U1", "tab": "messages"}}
    asyncio.run(handle_home_opened(body, client, {RUNTIME: Runtime()}))
    assert client.views_publish.calls == []
