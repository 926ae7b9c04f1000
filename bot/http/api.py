"""The tool API: how the tool that uses a credential gets it, without Slack and without the
database host.

    GET /api/v1/credentials            the workspace's credentials, metadata only
    GET /api/v1/credentials/<id>       one credential with its decrypted fields (audited);
                                       `?access=1` adds what a tool sends right now (e.g. a
                                       freshly minted Shopify token), under "access"
    GET /api/v1/changes?cursor=N&wait=S  changes after cursor N, waiting up to S seconds

Every call carries `Authorization: Bearer <token>` (tokens: `getkey api-tokens create`). The
token decides the workspace (and optionally the platforms) a caller sees; anything else is a
404, exactly like a credential that does not exist. The API answers nothing at all (404) while
no token exists. TLS is the business of the proxy in front (see docs/handoff.md).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from bot.http.edge import Request, Response, Route, json_response
from bot.services.access import AccessRefused, access_values
from bot.store.changes import Change
from bot.store.info import CredentialInfo
from bot.store.public import PublicCredential
from bot.store.tokens import ApiTokenInfo

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("bot.http.api")

PREFIX = "/api/v1"
MAX_WAIT = 30.0  # seconds a long-poll may hold a connection
POLL_EVERY = 0.5
MAX_LIMIT = 500
MAX_CURSOR = 2**53  # change ids stay far below; anything above is a client's mistake
# Failed authentications a client address may make per minute before it gets 429s.
FAILED_AUTH_PER_MINUTE = 20
# Long-polls held open at once: per token and in all (the rest of the server, Slack's events
# first, keeps its connections and threads).
WAITS_PER_TOKEN = 4
WAITS_IN_ALL = 64
NO_STORE = [("cache-control", "no-store")]


class RateLimiter:
    """A token bucket per API token: `per_minute` calls, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.clock = clock
        self._buckets: dict[int | str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: int | str) -> float:
        """0 when the call may go ahead, else the seconds to wait before the next one."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate

    def peek(self, key: int | str) -> float:
        """Like take() without spending: the wait a call would get now (0: none)."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if len(self._buckets) > 10_000:  # forget clients that stopped long ago
                self._buckets = {
                    k: v for k, v in self._buckets.items() if now - v[1] < 60 / self.rate
                }
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate


def credential_json(info: CredentialInfo) -> dict[str, Any]:
    """Metadata of a credential as the API shows it (bot.store.public): never a value."""
    return PublicCredential.of(info).json()


def _error(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return json_response(status, {"error": message}, [*NO_STORE, *(headers or [])])


def _retry_after(wait: float) -> list[tuple[str, str]]:
    return [("retry-after", str(max(1, round(wait + 0.5))))]


def _whole(query: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    raw = (query.get(name) or [""])[0].strip() or str(default)
    if not raw.isascii() or not raw.isdigit() or len(raw) > 20 or not low <= int(raw) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _seconds(query: dict[str, list[str]], name: str, high: float) -> float:
    raw = (query.get(name) or [""])[0].strip() or "0"
    try:
        value = float(raw) if len(raw) <= 20 else -1.0
    except ValueError:
        value = -1.0
    if not 0 <= value <= high:  # also refuses nan and inf
        raise ValueError(f"{name} must be a number of seconds from 0 to {high:g}")
    return value


@dataclass(eq=False)
class ToolApi:
    rt: Runtime
    limiter: RateLimiter
    failures: RateLimiter = field(default_factory=lambda: RateLimiter(FAILED_AUTH_PER_MINUTE))
    waiting: dict[int, int] = field(default_factory=dict)  # long-polls open, per token id

    async def _authorised(self, request: Request) -> ApiTokenInfo | Response:
        store = self.rt.store
        if not await self.rt.workers.quick(store.any_api_token):
            return _error(404, "not found")  # the API is off until a token exists
        # An address that keeps failing is turned away before any lookup.
        wait = self.failures.peek(request.client)
        if wait > 0:
            request.log_extra["limited"] = "auth"
            return _error(429, "too many failed authentications", _retry_after(wait))
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            self.failures.take(request.client)
            return _error(401, "missing bearer token", [("www-authenticate", "Bearer")])
        token = await self.rt.workers.quick(store.authenticate, presented.strip())
        if token is None:
            self.failures.take(request.client)
            return _error(401, "invalid or revoked token", [("www-authenticate", "Bearer")])
        wait = self.limiter.take(token.id)
        if wait > 0:
            request.log_extra["limited"] = True
            return _error(429, "rate limited", _retry_after(wait))
        request.log_extra["token"] = token.name[:40]
        return token

    async def list_credentials(self, request: Request) -> Response:
        token = await self._authorised(request)
        if isinstance(token, Response):
            return token
        infos = await self.rt.workers.quick(self.rt.store.list_all, token.team_id)
        items = [credential_json(i) for i in infos if token.allows(i.platform)]
        return json_response(200, {"credentials": items}, NO_STORE)

    async def one_credential(self, request: Request) -> Response:
        token = await self._authorised(request)
        if isinstance(token, Response):
            return token
        credential_id = request.path.removeprefix(PREFIX + "/credentials/")
        if not credential_id.isalnum() or len(credential_id) > 32:
            return _error(404, "not found")
        info = await self.rt.workers.quick(self.rt.store.get, credential_id)
        # Another workspace's credential, or a platform the token may not see: as if absent.
        if info is None or info.team_id != token.team_id or not token.allows(info.platform):
            return _error(404, "not found")
        values = await self.rt.workers.quick(
            self.rt.store.reveal, credential_id, actor=token.actor
        )
        log.info("credential fetched", extra={"credential": info.id, "token": token.name[:40]})
        body: dict[str, Any] = {"credential": credential_json(info), "fields": values}
        if parse_qs(request.query_string).get("access", [""])[0] in ("1", "true", "yes"):
            try:
                body["access"] = await self.rt.workers.slow(
                    info.platform, access_values, info.platform, values, self.rt.http
                )
            except AccessRefused as exc:
                return _error(502, str(exc))
        return json_response(200, body, NO_STORE)

    async def changes(self, request: Request) -> Response:
        token = await self._authorised(request)
        if isinstance(token, Response):
            return token
        query = parse_qs(request.query_string)
        try:
            cursor = _whole(query, "cursor", 0, 0, MAX_CURSOR)
            limit = _whole(query, "limit", 100, 1, MAX_LIMIT)
            wait = _seconds(query, "wait", MAX_WAIT)
        except ValueError as exc:
            return _error(400, str(exc))
        platforms = list(token.platforms) if token.platforms is not None else None

        async def fetch() -> list[Change]:
            return await self.rt.workers.quick(
                self.rt.store.changes_since, token.team_id, cursor, limit=limit,
                platforms=platforms,
            )  # fmt: skip

        found = await fetch()
        if not found and wait > 0:
            held = self.waiting.get(token.id, 0)
            if held >= WAITS_PER_TOKEN or sum(self.waiting.values()) >= WAITS_IN_ALL:
                request.log_extra["limited"] = "long-polls"
                return _error(429, "too many long-polls open", _retry_after(POLL_EVERY * 4))
            self.waiting[token.id] = held + 1
            try:
                found = await self._long_poll(request, fetch, wait)
            finally:
                self.waiting[token.id] -= 1
                if not self.waiting[token.id]:
                    del self.waiting[token.id]
        next_cursor = found[-1].id if found else cursor
        body = {"changes": [c.as_json() for c in found], "cursor": next_cursor}
        return json_response(200, body, NO_STORE)

    async def _long_poll(
        self, request: Request, fetch: Callable[[], Any], wait: float
    ) -> list[Change]:
        """Poll until a change comes, `wait` runs out or the client hangs up. Polling the
        database (not an in-process signal) also sees other replicas' changes."""
        deadline = time.monotonic() + wait
        gone = asyncio.ensure_future(request.disconnected())
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                await asyncio.wait({gone}, timeout=min(POLL_EVERY, left))
                if gone.done():
                    request.log_extra["client_gone"] = True
                    return []
                found: list[Change] = await fetch()
                if found:
                    return found
        finally:
            gone.cancel()


# Every ToolApi of this process, so tests and metrics can see the long-polls held open.
LIVE: weakref.WeakSet[ToolApi] = weakref.WeakSet()


def api_routes(rt: Runtime) -> list[Route]:
    api = ToolApi(rt, RateLimiter(rt.settings.getkey_api_rate_per_minute))
    LIVE.add(api)
    return [
        Route(PREFIX + "/credentials", api.list_credentials),
        Route(PREFIX + "/credentials/", api.one_credential, prefix=True),
        Route(PREFIX + "/changes", api.changes),
    ]
