"""The retention job: hourly, deletes what the GETKEY_RETENTION_* settings say is past keeping
(bot.store.upkeep.Upkeep.prune has the rules; docs/operations.md and docs/privacy.md the
defaults). Every instance may run it: the deletes are idempotent."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot import metrics
from bot.settings import Settings
from bot.store.upkeep import RetentionDays

log = logging.getLogger(__name__)

RETENTION_EVERY_SECONDS = 3600


def retention_days(settings: Settings) -> RetentionDays:
    return RetentionDays(
        change=settings.getkey_retention_change_days,
        webhook=settings.getkey_retention_webhook_days,
        outbox=settings.getkey_retention_outbox_days,
        audit=settings.getkey_retention_audit_days,
    )


class Retention:
    def __init__(self, store: Any, settings: Settings,
                 quick: Callable[..., Awaitable[Any]]) -> None:
        self.store = store
        self.days = retention_days(settings)
        self.quick = quick

    async def run(self) -> dict[str, int]:
        deleted: dict[str, int] = await self.quick(self.store.prune, self.days)
        metrics.retention_deleted(deleted)
        if any(deleted.values()):
            log.info("retention", extra={f"deleted_{k}": v for k, v in deleted.items() if v})
        return deleted
