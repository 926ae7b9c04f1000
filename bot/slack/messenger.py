"""The one way getkey sends a DM: post to the person, pace each person, and turn Slack's answers
into three outcomes a sender can act on.

A DM is one call: chat.postMessage with the person's user id as the channel, which Slack
delivers to the app's conversation with them. Only when Slack cannot find that conversation is
it opened with conversations.open, whose answer says why (the person is gone) or gives the
channel to post to.

Sends to different people run concurrently; each person's messages are spaced `user_gap`
apart (Slack allows about one message per second per conversation), so one person with many
due reminders never holds up anyone else's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import NotInstalled

log = logging.getLogger(__name__)

USER_GAP_SECONDS = 1.0
CACHE_SIZE = 10_000
# What chat.postMessage answers when it cannot find the conversation it was given.
LOST = "channel_not_found"
# Answers that retrying will not change: the person is gone or cannot be messaged.
UNDELIVERABLE = frozenset(
    {"user_not_found", "account_inactive", "user_disabled", "cannot_dm_bot", "users_not_found"}
)


class SlackDown(Exception):
    """Slack is unreachable or failing (5xx, connection error): stop sending for now."""


class Deferred(Exception):
    """This message could not be sent now (rate limited beyond our patience, ok:false)."""

    def __init__(self, message: str, error: str = "") -> None:
        super().__init__(message)
        self.error = error  # Slack's error code, when Slack gave one


class Undeliverable(Exception):
    """This message can never be delivered (the person is gone)."""

    def __init__(self, message: str, error: str) -> None:
        super().__init__(message)
        self.error = error


class Messenger:
    def __init__(
        self,
        client_for: Callable[[str], Awaitable[AsyncWebClient]],
        *,
        user_gap: float = USER_GAP_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client_for = client_for
        self.user_gap = user_gap
        self.monotonic = monotonic
        self.sleep = sleep
        self._channels: OrderedDict[str, str] = OrderedDict()
        # When each person's last message went, oldest first (see _sent).
        self._last: OrderedDict[str, float] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._senders: dict[str, int] = {}  # sends to each person under way or waiting

    async def call(self, team_id: str, method: str, **params: Any) -> dict[str, Any]:
        """One Web API call through the workspace's client (429s already retried there)."""
        try:
            client = await self.client_for(team_id)
        except NotInstalled:
            # Uninstalled workspaces' reminders are not claimed; this is a message owed
            # from before: it waits for a reinstall.
            raise Deferred(f"{method}: workspace not installed") from None
        try:
            response = await client.api_call(method, json=params)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or f"HTTP {status}")
            if status >= 500:
                raise SlackDown(f"{method}: {error}") from None
            if error in UNDELIVERABLE:
                raise Undeliverable(f"{method}: {error}", error) from None
            raise Deferred(f"{method}: {error}", error) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise SlackDown(f"{method}: {type(exc).__name__}") from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def dm_channel(self, team_id: str, user_id: str) -> str:
        """The DM conversation's id, from conversations.open (cached)."""
        key = f"{team_id}:{user_id}"
        channel = self._channels.get(key)
        if channel:
            return channel
        data = await self.call(team_id, "conversations.open", users=user_id)
        channel = str((data.get("channel") or {}).get("id") or "")
        if not channel:
            raise Deferred("conversations.open: no channel in the answer")
        self._channels[key] = channel
        while len(self._channels) > CACHE_SIZE:
            self._channels.popitem(last=False)
        return channel

    async def send(self, team_id: str, user_id: str, message: dict[str, Any]) -> None:
        """A DM (`message` holds text and blocks). Raises SlackDown, Deferred, Undeliverable."""
        key = f"{team_id}:{user_id}"
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._senders[key] = self._senders.get(key, 0) + 1
        try:
            async with lock:
                last = self._last.get(key)
                if last is not None:
                    wait = last + self.user_gap - self.monotonic()
                    if wait > 0:
                        await self.sleep(wait)
                try:
                    await self._post(team_id, user_id, key, message)
                finally:
                    self._sent(key)
        finally:
            # A person's lock lives while someone is sending to them (100,000 people in a
            # sweep leave nothing behind to scan).
            left = self._senders[key] - 1
            if left:
                self._senders[key] = left
            else:
                del self._senders[key], self._locks[key]

    def _sent(self, key: str) -> None:
        """When this person's last message went, kept only while it can hold up the next."""
        now = self.monotonic()
        self._last[key] = now
        self._last.move_to_end(key)
        cutoff = now - self.user_gap
        while self._last:
            oldest, at = next(iter(self._last.items()))
            if at >= cutoff:
                break
            del self._last[oldest]

    async def _post(self, team_id: str, user_id: str, key: str, message: dict[str, Any]) -> None:
        channel = self._channels.get(key, user_id)
        try:
            await self.call(team_id, "chat.postMessage", channel=channel, **message)
            return
        except Deferred as exc:
            if exc.error != LOST:
                raise
            # The person's conversation was not found: conversations.open says why (the person
            # is gone: Undeliverable) or gives the channel, which is tried once.
            self._channels.pop(key, None)
        channel = await self.dm_channel(team_id, user_id)
        try:
            await self.call(team_id, "chat.postMessage", channel=channel, **message)
        except Deferred:
            self._channels.pop(key, None)
            raise
