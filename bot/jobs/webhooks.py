"""Sends the webhook outbox (bot.store.webhooks): each claimed delivery is signed and posted,
and its outcome recorded; a failed one is retried later with a growing backoff. The URL is
checked against the policy (bot.webhook_urls) after resolution, before each attempt.

Signature, like Slack's own scheme, so receivers can reuse the same code:

    X-Getkey-Request-Timestamp: <unix seconds>
    X-Getkey-Signature: v0=<hex HMAC-SHA256(secret, "v0:<timestamp>:<raw body>")>

Bodies carry metadata only; a receiver fetches the credential through the API. Nothing here
logs a URL (it may carry a token of the receiver's) or a body.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from bot.clock import utcnow
from bot.webhook_urls import Resolver, Target, UrlRefused, check_url, system_resolver
from bot.workers import Workers

if TYPE_CHECKING:
    import httpx

    from bot.store import Store
    from bot.store.webhooks import DeliveryItem

log = logging.getLogger(__name__)

BATCH = 50
LEASE_SECONDS = 60
# Per read and connect; ATTEMPT_SECONDS bounds the whole attempt (a receiver that trickles one
# byte at a time never trips a per-read timeout).
TIMEOUT = {"timeout": 10.0, "connect": 5.0}  # httpx.Timeout's arguments
ATTEMPT_SECONDS = 10.0
MAX_BODY = 4096
USER_AGENT = "getkey-webhooks/1"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, presented: str) -> bool:
    """What a receiver does (documented in docs/handoff.md; used by the tests)."""
    return hmac.compare_digest(signature(secret, timestamp, body), presented)


def _pinned(target: Target) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL rewritten to the address that passed the policy, with the Host header and
    TLS server name of the original host (a second DNS answer cannot redirect the call)."""
    parts = urlsplit(target.url)
    address = target.addresses[0]
    host = f"[{address}]" if ":" in address else address
    url = urlunsplit((parts.scheme, f"{host}:{target.port}", parts.path or "/", parts.query, ""))
    extensions = {"sni_hostname": target.host} if parts.scheme == "https" else {}
    return url, {"host": parts.netloc}, extensions


async def _read_some(response: httpx.Response) -> None:
    """Read at most MAX_BODY bytes of the answer: nothing in it is used, and a receiver
    answering with an endless body must not cost memory."""
    seen = 0
    async for chunk in response.aiter_raw():
        seen += len(chunk)
        if seen >= MAX_BODY:
            break


class WebhookSender:
    """Posts due deliveries. Workspaces are sent to concurrently, each workspace's events one
    after another in order; a slow receiver holds only its own workspace, for at most
    `attempt_seconds` per attempt (connect, send and read together)."""

    def __init__(
        self,
        store: Store,
        workers: Workers,
        *,
        clock: Callable[[], datetime] = utcnow,
        transport: httpx.AsyncBaseTransport | None = None,
        allow_private: bool = False,
        resolver: Resolver = system_resolver,
        attempt_seconds: float = ATTEMPT_SECONDS,
    ) -> None:
        self.store = store
        self.workers = workers
        self.clock = clock
        self._transport = transport
        self.allow_private = allow_private
        self.resolver = resolver
        self.attempt_seconds = attempt_seconds
        self._busy: set[str] = set()  # workspaces with an attempt in progress here
        self._claiming: asyncio.Lock | None = None
        self._background: set[asyncio.Task[Any]] = set()

    async def drain(self) -> list[tuple[int, int]]:
        """Post everything due now for workspaces not already being sent to; returns (delivery
        id, status) of each attempt made, once all of them are done."""
        done: list[tuple[int, int]] = []
        while True:
            groups, claimed = await self._claim()
            if not groups:
                return done
            # The usual tick finds nothing due and builds no client (a TLS context costs), nor
            # imports httpx: an idle serving process never needs it (issue 21).
            import httpx

            async with httpx.AsyncClient(
                timeout=httpx.Timeout(**TIMEOUT), transport=self._transport, follow_redirects=False
            ) as client:
                results = await asyncio.gather(
                    *(self._workspace(client, team, items) for team, items in groups.items())
                )
            done.extend(r for rs in results for r in rs)
            if claimed < BATCH:
                return done

    async def tick(self) -> None:
        """The scheduler's job: start a drain and return, so a slow receiver never holds up
        the next tick (which sends to every other workspace meanwhile)."""
        task = asyncio.create_task(self.drain())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _claim(self) -> tuple[dict[str, list[DeliveryItem]], int]:
        if self._claiming is None:
            self._claiming = asyncio.Lock()
        async with self._claiming:  # claim and mark busy as one step: order per workspace
            batch = await self.workers.quick(
                self.store.claim_deliveries, self.clock(), limit=BATCH,
                lease_seconds=LEASE_SECONDS, exclude_teams=frozenset(self._busy),
            )  # fmt: skip
            groups: dict[str, list[DeliveryItem]] = {}
            for item in batch:
                groups.setdefault(item.team_id, []).append(item)
            self._busy.update(groups)
        return groups, len(batch)

    async def _workspace(
        self, client: httpx.AsyncClient, team: str, items: list[DeliveryItem]
    ) -> list[tuple[int, int]]:
        try:
            return [await self._one(client, item) for item in items]
        finally:
            self._busy.discard(team)

    async def _attempt(self, client: httpx.AsyncClient, item: DeliveryItem) -> tuple[int, str]:
        """(HTTP status or 0, error) of one attempt; every failure is an answer, never raised."""
        timestamp = str(int(self.clock().timestamp()))
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "x-getkey-event": item.event_type,
            "x-getkey-delivery": str(item.id),
            "x-getkey-request-timestamp": timestamp,
            "x-getkey-signature": signature(item.secret, timestamp, item.body),
        }
        try:
            async with asyncio.timeout(self.attempt_seconds):
                target = await check_url(
                    item.url, allow_private=self.allow_private, resolver=self.resolver
                )
                url, host, extensions = _pinned(target)
                async with client.stream(
                    "POST", url, content=item.body, headers={**headers, **host},
                    extensions=extensions,
                ) as response:  # fmt: skip
                    await _read_some(response)
                    status = response.status_code
        except UrlRefused as exc:
            return 0, f"refused: {exc}"
        except TimeoutError:
            return 0, f"no complete answer within {self.attempt_seconds:g} s"
        except Exception as exc:  # whatever a receiver causes is a failed attempt
            return 0, type(exc).__name__
        return status, "" if 200 <= status < 300 else f"HTTP {status}"

    async def _one(self, client: httpx.AsyncClient, item: DeliveryItem) -> tuple[int, int]:
        status, error = await self._attempt(client, item)
        delivered = await self.workers.quick(
            self.store.delivery_attempted, item.id, status=status, error=error, now=self.clock()
        )
        log.info(
            "webhook attempted",
            extra={
                "event": item.event_type,
                "team": item.team_id,
                "status": status,
                "attempt": item.attempts,
                "delivered": delivered,
            },
        )
        return item.id, status
