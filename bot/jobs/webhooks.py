"""Sends the webhook outbox (bot.store.webhooks): each claimed delivery is signed and posted,
and its outcome recorded; a failed one is retried later with a growing backoff.

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
from typing import TYPE_CHECKING

import httpx

from bot.clock import utcnow
from bot.workers import Workers

if TYPE_CHECKING:
    from bot.store import Store
    from bot.store.webhooks import DeliveryItem

log = logging.getLogger(__name__)

BATCH = 50
LEASE_SECONDS = 60
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "getkey-webhooks/1"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, presented: str) -> bool:
    """What a receiver does (documented in docs/handoff.md; used by the tests)."""
    return hmac.compare_digest(signature(secret, timestamp, body), presented)


class WebhookSender:
    def __init__(
        self,
        store: Store,
        workers: Workers,
        *,
        clock: Callable[[], datetime] = utcnow,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.store = store
        self.workers = workers
        self.clock = clock
        self._transport = transport
        self._running: asyncio.Lock | None = None

    async def drain(self) -> list[tuple[int, int]]:
        """Post everything due now; returns (delivery id, status) of each attempt made."""
        if self._running is None:
            self._running = asyncio.Lock()
        if self._running.locked():
            return []
        done: list[tuple[int, int]] = []
        async with self._running:
            batch = await self._claim()
            if not batch:
                # The usual tick: nothing due, so no client (building one costs a TLS context).
                return done
            async with httpx.AsyncClient(
                timeout=TIMEOUT, transport=self._transport, follow_redirects=False
            ) as client:
                while True:
                    results = await asyncio.gather(*(self._one(client, d) for d in batch))
                    done.extend(results)
                    if len(batch) < BATCH:
                        return done
                    batch = await self._claim()

    async def _claim(self) -> list[DeliveryItem]:
        return await self.workers.quick(
            self.store.claim_deliveries, self.clock(), limit=BATCH, lease_seconds=LEASE_SECONDS
        )

    async def _one(self, client: httpx.AsyncClient, item: DeliveryItem) -> tuple[int, int]:
        timestamp = str(int(self.clock().timestamp()))
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "x-getkey-event": item.event_type,
            "x-getkey-delivery": str(item.id),
            "x-getkey-request-timestamp": timestamp,
            "x-getkey-signature": signature(item.secret, timestamp, item.body),
        }
        status, error = 0, ""
        try:
            response = await client.post(item.url, content=item.body, headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
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
