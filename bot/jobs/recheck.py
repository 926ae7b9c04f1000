"""The daily re-verification: every stored key is tried again about once a day, and its owner
hears once per failure episode when it stops working (the store writes that message to the
outbox in the same transaction as the failed check; the outbox sender delivers it).

The store hands each due credential to one process (leased claims); the check itself is the
credential service's. Checks of one platform are spaced out, so a large backlog never looks
like abuse to that platform: at least `platform_gap` apart, and as far apart as the platform's
request budget asks of re-checks (flows.budget), so they wait here, not in a worker thread that
a person's verification could use.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.clock import aware, utcnow
from bot.logsetup import debug_traceback
from bot.services.credentials import Checked, CredentialService
from bot.workers import Workers
from flows import catalog

if TYPE_CHECKING:
    from bot.store import CredentialInfo, Store

log = logging.getLogger(__name__)

RECHECK_BATCH = 200
# A run stops claiming new batches after this long, well inside the job's interval.
RECHECK_BUDGET_SECONDS = 240.0
# Minimum gap between two re-verification calls to the same platform.
PLATFORM_GAP_SECONDS = 0.5


class Recheck:
    def __init__(
        self,
        store: Store,
        service: CredentialService,
        workers: Workers,
        *,
        clock: Callable[[], datetime] = utcnow,
        platform_gap: float = PLATFORM_GAP_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.service = service
        self.workers = workers
        self.clock = clock
        self.platform_gap = platform_gap
        self.monotonic = monotonic
        self.sleep = sleep
        self._platform_next: dict[str, float] = {}

    async def run(
        self,
        now: datetime | None = None,
        *,
        limit: int = RECHECK_BATCH,
        budget: float = RECHECK_BUDGET_SECONDS,
    ) -> list[Checked]:
        """Re-verify the credentials whose check is due, batch after batch for up to `budget`
        seconds. Returns the checks that found a key failing."""
        now = aware(now or self.clock())
        failing: list[Checked] = []
        started = time.monotonic()
        while time.monotonic() - started < budget:
            batch = await self.workers.quick(self.store.due_for_recheck, now, limit)
            results = await asyncio.gather(*(self._one(info, now) for info in batch))
            failing.extend(r for r in results if r is not None and r.failing)
            if len(batch) < limit:
                break
        return failing

    def _gap(self, platform: str) -> float:
        flow = catalog.get(platform)
        budget = flow.budget if flow is not None else None
        return max(self.platform_gap, budget.spacing(background=True) if budget else 0.0)

    async def _pace(self, platform: str) -> None:
        start = max(self.monotonic(), self._platform_next.get(platform, 0.0))
        self._platform_next[platform] = start + self._gap(platform)
        wait = start - self.monotonic()
        if wait > 0:
            await self.sleep(wait)

    async def _one(self, info: CredentialInfo, now: datetime) -> Checked | None:
        try:
            await self._pace(info.platform)
            return await self.workers.slow(info.platform, self.service.recheck, info, now)
        except Exception as exc:
            # Left claimed: the store hands it out again after its lease.
            log.error("recheck failed", extra={"credential": info.id, "error": type(exc).__name__})
            debug_traceback(log, "recheck", exc)
            return None
