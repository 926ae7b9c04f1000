"""Every Slack Web API call getkey makes goes through a client built here.

One set of retry rules for the request path, the reminder sweep and the CLI, all slack_sdk's own
handlers: connection errors and 5xx are retried once; a 429 is retried after its Retry-After
unless Slack asks for longer than `RATE_LIMIT_WAIT_CAP` (then the call fails and the work stays
due for later rather than holding a sender for minutes). One aiohttp session per process keeps
connections to Slack open between calls.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import metrics

RATE_LIMIT_WAIT_CAP = 30.0
TIMEOUT_SECONDS = 10
CLIENTS_KEPT = 1000


def retry_after(headers: Mapping[str, Any]) -> float:
    """Seconds from a Retry-After header (slack_sdk hands header values as lists)."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return max(0.0, float(str(raw).strip()))
            except ValueError:
                break
    return 1.0


class _Counted(AsyncRetryHandler):
    """Counts the retries it grants (getkey_slack_retries{reason})."""

    reason = "other"

    async def can_retry_async(self, *, state: RetryState, request: HttpRequest,
                              response: HttpResponse | None = None,
                              error: Exception | None = None) -> bool:
        granted = await super().can_retry_async(
            state=state, request=request, response=response, error=error)
        if granted:
            metrics.slack_retry(self.reason)
        return granted


class CountedConnectionRetryHandler(_Counted, AsyncConnectionErrorRetryHandler):
    reason = "connection"


class CountedServerErrorRetryHandler(_Counted, AsyncServerErrorRetryHandler):
    reason = "server_error"


class CappedRateLimitRetryHandler(_Counted, AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, but never waits longer than `cap` seconds."""

    reason = "rate_limited"

    async def can_retry_async(self, *, state: RetryState, request: HttpRequest,
                              response: HttpResponse | None = None,
                              error: Exception | None = None) -> bool:
        if response is not None and response.status_code == 429:
            metrics.slack_rate_limited()  # every 429, retried or not
        return await super().can_retry_async(
            state=state, request=request, response=response, error=error)

    def __init__(self, max_retry_count: int = 2, cap: float = RATE_LIMIT_WAIT_CAP) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.cap = cap

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            response is not None
            and response.status_code == 429
            and retry_after(response.headers) <= self.cap
        )


def retry_handlers(cap: float = RATE_LIMIT_WAIT_CAP) -> list[AsyncRetryHandler]:
    return [
        CountedConnectionRetryHandler(),
        CountedServerErrorRetryHandler(max_retry_count=1),
        CappedRateLimitRetryHandler(cap=cap),
    ]


def sdk_logger() -> logging.Logger:
    """slack_sdk's client logger with a level of its own. slack_sdk tests `logger.level <=
    DEBUG`, which a logger left at NOTSET passes whatever its parents say: it then formats
    the whole request (blocks and all) and the answer into debug strings nobody logs, for
    every call (a tenth of a large sweep's CPU). Slack's loggers never go below INFO here
    (bot.logs.pin_levels), so this changes nothing that is logged."""
    logger = logging.getLogger("slack_sdk.web.async_client")
    if logger.level == logging.NOTSET:
        logger.setLevel(max(logging.INFO, logger.getEffectiveLevel()))
    return logger


class NotInstalled(Exception):
    """No bot token for this workspace (never installed, or uninstalled)."""


# team id → that workspace's bot token, or None (OAuth installs: bot.slack.oauth.WorkspaceTokens).
TokenLookup = Callable[[str], Awaitable[str | None]]


class SlackClients:
    """Builds the AsyncWebClient for a workspace. One per process; `close()` at shutdown."""

    def __init__(self, base_url: str, bot_token: str | None, *, cap: float = RATE_LIMIT_WAIT_CAP):
        self.base_url = base_url
        self.bot_token = bot_token
        self.cap = cap
        # Set when installed by OAuth: each workspace's token comes from the database.
        self.tokens: TokenLookup | None = None
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # token → its client on the current session (building one per call was a tenth of a
        # large sweep's time).
        self._clients: OrderedDict[str | None, AsyncWebClient] = OrderedDict()

    def _shared_session(self) -> aiohttp.ClientSession | None:
        # A session belongs to the loop it was made on (the CLI runs a loop per command).
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=200, limit_per_host=200),
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
            )
            self._loop = loop
        return self._session

    def client(self, token: str | None = None) -> AsyncWebClient:
        """A client with the bot token (single-workspace mode) or the given one."""
        token = token or self.bot_token
        session = self._shared_session()
        cached = self._clients.get(token)
        if cached is not None and cached.session is session and session is not None:
            self._clients.move_to_end(token)
            return cached
        client = AsyncWebClient(
            token=token,
            base_url=self.base_url,
            timeout=TIMEOUT_SECONDS,
            session=session,
            retry_handlers=retry_handlers(self.cap),
            logger=sdk_logger(),
        )
        if session is not None:
            self._clients[token] = client
            while len(self._clients) > CLIENTS_KEPT:
                self._clients.popitem(last=False)
        return client

    async def respond(self, response_url: str, **message: Any) -> None:
        """Post to a `response_url` on the shared session (Bolt's `respond` opens a new HTTP
        session, TLS context included, for every message: most of a busy /getkey list)."""
        session = self._shared_session()
        client = AsyncWebhookClient(response_url, timeout=TIMEOUT_SECONDS, session=session)
        response = await client.send_dict(message)
        if response.status_code >= 400:
            raise RuntimeError(f"response_url answered {response.status_code}")

    async def for_team(self, team_id: str) -> AsyncWebClient:
        """The client to use for one workspace: its installation's (fresh) bot token when
        installed by OAuth, else the one bot token. Raises NotInstalled."""
        if self.tokens is None:
            return self.client()
        token = await self.tokens(team_id)
        if not token:
            raise NotInstalled(team_id)
        return self.client(token)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        self._clients.clear()
