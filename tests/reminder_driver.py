"""The background machinery (sweep, re-check, outbox) driven the way a test wants it: one call
at a moment the test picks, synchronously, against the local Slack stand-in.

Each call runs on a fresh event loop, exactly as `getkey remind --once` does; the pieces are the
production ones (bot.jobs, bot.slack.messenger, bot.slack.client), only wired here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any, TypeVar

from bot.jobs.outbox import OutboxSender
from bot.jobs.recheck import Recheck
from bot.jobs.sweep import Sent, Sweep
from bot.services.credentials import CredentialService
from bot.slack.client import SlackClients
from bot.slack.messenger import Messenger
from bot.slack.ui.owed import owed_message
from bot.slack.ui.reminders import reminder_message
from bot.store import Store
from bot.workers import Workers
from flows.http import PlatformHttp

T = TypeVar("T")

class Driver:
    def __init__(
        self,
        store: Store,
        api_url: str,
        token: str,
        clock: Callable[[], datetime],
        *,
        http: PlatformHttp | None = None,
        platform_env: Mapping[str, str] | None = None,
        batch: int = 500,
        user_gap: float = 0.0,
        platform_gap: float = 0.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        monotonic: Callable[[], float] | None = None,
        lease_seconds: int = 300,
    ) -> None:
        self.store = store
        self.clients = SlackClients(api_url, token)
        self.workers = Workers(slow_threads=8, quick_threads=4)
        timing: dict[str, Any] = {}
        if sleep is not None:
            timing["sleep"] = sleep
        if monotonic is not None:
            timing["monotonic"] = monotonic
        self.messenger = Messenger(self.clients.for_team, user_gap=user_gap, **timing)
        self.service = CredentialService(
            store, http or PlatformHttp(), clock=clock, platform_env=platform_env or {}
        )
        self._sweep = Sweep(
            store, self.messenger, self.service, self.workers, reminder_message,
            clock=clock, batch=batch, lease_seconds=lease_seconds,
        )  # fmt: skip
        self._recheck = Recheck(
            store, self.service, self.workers, clock=clock, platform_gap=platform_gap, **timing
        )
        self._outbox = OutboxSender(store, self.messenger, self.workers, owed_message, clock=clock)

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        async def go() -> T:
            try:
                return await work
            finally:
                await self.clients.close()

        return asyncio.run(go())

    def sweep(self, now: datetime | None = None) -> list[Sent]:
        """One reminder sweep as if at `now`: the DMs that went out."""
        return self._run(self._sweep.run(now))

    def outbox(self) -> list[Sent]:
        """Send what the outbox owes now (confirmations, "no longer works", renewal failures)."""
        return self._run(self._outbox.drain())

    def recheck(self, now: datetime | None = None) -> list[Sent]:
        """One re-check run, then the outbox: the "no longer works" / renewal-failure DMs."""
        self._run(self._recheck.run(now))
        sent = self.outbox()
        return [
            Sent(s.platform, s.store, s.masked, s.stage, s.owner)
            for s in sent
            if s.stage not in ("stored", "replaced")
        ]
