"""Sends what the outbox owes: confirmations of stored keys and "no longer works" notices.

The store writes each message intent in the same transaction as the change it reports, so a
crash between the change and the DM loses nothing: whichever process drains next sends it.
Intents are claimed with a lease (each goes out once however many processes drain), rendered
from the credential as it is now, sent, then closed; a failed send is retried with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.clock import utcnow
from bot.jobs.sweep import Sent
from bot.logsetup import debug_traceback
from bot.slack.messenger import Deferred, Messenger, SlackDown, Undeliverable
from bot.vocabulary import OutboxKind
from bot.workers import Workers

if TYPE_CHECKING:
    from bot.store import CredentialInfo, OutboxItem, Store

log = logging.getLogger(__name__)

BATCH = 200
LEASE_SECONDS = 120

# (kind, credential info, now[, request=]) → chat.postMessage arguments; None: nothing to say
# any more (bot.slack.ui.owed.owed_message). Request kinds pass the request, and the credential
# it produced if any.
Renderer = Callable[..., "dict[str, Any] | None"]
# (credential, kind, message): sends a message owed to the credential's owner (bot.jobs.relay:
# to the workspace admins when the owner is gone).
DeliverOwed = Callable[["CredentialInfo", str, "dict[str, Any]"], Awaitable[None]]


class OutboxSender:
    def __init__(
        self,
        store: Store,
        messenger: Messenger,
        workers: Workers,
        render: Renderer,
        *,
        clock: Callable[[], datetime] = utcnow,
        deliver: DeliverOwed | None = None,
    ) -> None:
        self.store = store
        self.messenger = messenger
        self.deliver = deliver
        self.workers = workers
        self.render = render
        self.clock = clock
        self._running: asyncio.Lock | None = None
        self._again = False

    def kick(self) -> None:
        """Drain soon, from the running loop (after a submission stored something)."""
        task = asyncio.get_running_loop().create_task(self.drain())
        self.workers.track(task)

    async def drain(self) -> list[Sent]:
        """Send everything due now. Concurrent calls coalesce into one more pass."""
        if self._running is None:
            self._running = asyncio.Lock()
        if self._running.locked():
            self._again = True
            return []
        sent: list[Sent] = []
        async with self._running:
            while True:
                self._again = False
                batch = await self.workers.quick(
                    self.store.claim_outbox, self.clock(), limit=BATCH, lease_seconds=LEASE_SECONDS
                )
                results = await asyncio.gather(*(self._one(item) for item in batch))
                delivered = [
                    item.id for item, r in zip(batch, results, strict=True) if isinstance(r, Sent)
                ]
                # One transaction for the batch. A crash before it only means these are sent
                # again after their lease (at least once, never lost).
                await self.workers.quick(self.store.outbox_sent_many, delivered)
                sent.extend(r for r in results if isinstance(r, Sent))
                if "down" in results or (len(batch) < BATCH and not self._again):
                    return sent

    async def _one(self, item: OutboxItem) -> Sent | str | None:
        try:
            if item.request_id:
                return await self._about_request(item)
            info = (
                await self.workers.quick(self.store.get, item.credential_id)
                if item.credential_id
                else None
            )
            message = self.render(item.kind, info, self.clock()) if info is not None else None
            if message is None:
                # The credential was deleted since, or the kind is unknown: nothing to say.
                await self.workers.quick(self.store.outbox_drop, item.id, reason="nothing to send")
                return None
            for_owner = (item.team_id, item.user_id) == (info.team_id, info.user_id)
            if self.deliver is not None and for_owner:
                await self.deliver(info, item.kind, message)
            else:
                await self.messenger.send(item.team_id, item.user_id, message)
        except (SlackDown, Deferred) as exc:
            await self.workers.quick(self.store.outbox_retry, item.id, error=str(exc))
            return "down" if isinstance(exc, SlackDown) else None
        except Undeliverable as exc:
            await self.workers.quick(self.store.outbox_drop, item.id, reason=exc.error)
            return None
        except Exception as exc:
            log.error("outbox message failed", extra={"error": type(exc).__name__})
            debug_traceback(log, "outbox message", exc)
            await self.workers.quick(
                self.store.outbox_retry, item.id, error=type(exc).__name__
            )
            return None
        log.info("message sent", extra={"kind": item.kind})
        return Sent.of(info, item.kind)

    async def _about_request(self, item: OutboxItem) -> Sent | None:
        """A message about a credential request (bot.slack.ui.requests), rendered from the request
        and its credential as they are now. Send errors go to the caller's handlers."""
        request = await self.workers.quick(self.store.get_request, item.request_id)
        cred = (
            await self.workers.quick(self.store.get, request.credential_id)
            if request is not None and request.credential_id
            else None
        )
        contact = None
        if request is not None and item.kind == OutboxKind.REQUEST_NUDGE:
            # The nudge repeats the first message, which named whom to ask for help.
            defaults = await self.workers.quick(
                self.store.workspace_defaults, request.team_id, request.enterprise_id
            )
            contact = defaults.support_contact
        message = (
            self.render(item.kind, cred, self.clock(), request=request, contact=contact)
            if request is not None
            else None
        )
        if message is None:
            await self.workers.quick(self.store.outbox_drop, item.id, reason="nothing to send")
            return None
        await self.messenger.send(item.team_id, item.user_id, message)
        log.info("message sent", extra={"kind": item.kind})
        return Sent(request.platform if request else "", "", "", item.kind, item.user_id)
