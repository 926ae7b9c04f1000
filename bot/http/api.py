"""The tool API: how the tool that uses a credential gets it, without Slack and without the
database host.

    GET /api/v1/credentials            the workspace's credentials, metadata only
    GET /api/v1/credentials/<id>       one credential with its decrypted fields (audited)
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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from bot.http.edge import Request, Response, Route, json_response
from bot.store.changes import Change
from bot.store.info import CredentialInfo
from bot.store.tokens import ApiTokenInfo

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("bot.http.api")

PREFIX = "/api/v1"
MAX_WAIT = 30.0  # seconds a long-poll may hold a connection
POLL_EVERY = 0.5
MAX_LIMIT = 500
NO_STORE = [("cache-control", "no-store")]


class RateLimiter:
    """A token bucket per API token: `per_minute` calls, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: int) -> float:
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


def credential_json(info: CredentialInfo) -> dict[str, Any]:
    """Metadata of a credential as the API shows it: never a value, not even masked."""

    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": info.id,
        "platform": info.platform,
        "identity": info.identity,
        "store_name": info.store_name,
        "identifiers": dict(info.identifiers),
        "status": info.status,
        "owner": info.user_id,
        "provided_by": info.provided_by,
        "version": info.version,
        "verified_at": iso(info.verified_at),
        "last_checked_at": iso(info.last_checked_at),
        "expires_at": iso(info.expires_at),
        "rotation_due_at": iso(info.rotation_due_at),
        "missing_permissions": list(info.missing or []),
        "purpose": info.purpose,
        "needed_until": iso(info.needed_until),
    }


def _error(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return json_response(status, {"error": message}, [*NO_STORE, *(headers or [])])


@dataclass
class ToolApi:
    rt: Runtime
    limiter: RateLimiter

    async def _authorised(self, request: Request) -> ApiTokenInfo | Response:
        store = self.rt.store
        if not await self.rt.workers.quick(store.any_api_token):
            return _error(404, "not found")  # the API is off until a token exists
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return _error(401, "missing bearer token", [("www-authenticate", "Bearer")])
        token = await self.rt.workers.quick(store.authenticate, presented.strip())
        if token is None:
            return _error(401, "invalid or revoked token", [("www-authenticate", "Bearer")])
        wait = self.limiter.take(token.id)
        if wait > 0:
            request.log_extra["limited"] = True
            return _error(429, "rate limited", [("retry-after", str(max(1, round(wait + 0.5))))])
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
        return json_response(200, {"credential": credential_json(info), "fields": values}, NO_STORE)

    async def changes(self, request: Request) -> Response:
        token = await self._authorised(request)
        if isinstance(token, Response):
            return token
        query = parse_qs(request.query_string)
        try:
            cursor = int(query.get("cursor", ["0"])[0] or 0)
            wait = float(query.get("wait", ["0"])[0] or 0)
            limit = int(query.get("limit", ["100"])[0] or 100)
        except ValueError:
            return _error(400, "cursor and limit must be whole numbers, wait a number of seconds")
        if cursor < 0 or not 0 <= wait <= MAX_WAIT or not 1 <= limit <= MAX_LIMIT:
            return _error(
                400, f"cursor must be 0 or more, wait 0 to {MAX_WAIT:g}, limit 1 to {MAX_LIMIT}"
            )
        platforms = list(token.platforms) if token.platforms is not None else None
        deadline = time.monotonic() + wait
        while True:
            found: list[Change] = await self.rt.workers.quick(
                self.rt.store.changes_since,
                token.team_id,
                cursor,
                limit=limit,
                platforms=platforms,
            )
            # Polling the database (not an in-process signal) also sees other replicas' changes.
            if found or time.monotonic() + POLL_EVERY > deadline:
                break
            await asyncio.sleep(POLL_EVERY)
        next_cursor = found[-1].id if found else cursor
        body = {"changes": [c.as_json() for c in found], "cursor": next_cursor}
        return json_response(200, body, NO_STORE)


def api_routes(rt: Runtime) -> list[Route]:
    api = ToolApi(rt, RateLimiter(rt.settings.getkey_api_rate_per_minute))
    return [
        Route(PREFIX + "/credentials", api.list_credentials),
        Route(PREFIX + "/credentials/", api.one_credential, prefix=True),
        Route(PREFIX + "/changes", api.changes),
    ]
