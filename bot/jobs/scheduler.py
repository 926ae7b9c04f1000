"""APScheduler only ticks, on the event loop: the reminder sweep, the daily re-checks, the
outbox, the interrupted-verification notes, webhook deliveries and open requests (nudge,
expiry). Jobs take no arguments (APScheduler may persist
them, and a secret must never be one). Any number of processes may run them: the database
decides who sends what.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs.retention import RETENTION_EVERY_SECONDS
from bot.logsetup import debug_traceback

log = logging.getLogger(__name__)

RECHECK_EVERY_SECONDS = 300
OUTBOX_EVERY_SECONDS = 10
INTERRUPTED_EVERY_SECONDS = 60
WEBHOOKS_EVERY_SECONDS = 5
# Requests are nudged after days and expire after days: a few minutes late is nothing.
REQUESTS_EVERY_SECONDS = 300
PURGE_EVERY_SECONDS = 3600


def _guarded(name: str, work: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    async def job() -> None:
        try:
            await work()
        except Exception as exc:
            log.error("background job failed; it runs again", extra={"job": name,
                                                                       "error": type(exc).__name__})
            debug_traceback(log, f"background job {name}", exc)

    return job


def start_scheduler(
    *,
    sweep: Callable[[], Awaitable[Any]],
    recheck: Callable[[], Awaitable[Any]],
    outbox: Callable[[], Awaitable[Any]],
    interrupted: Callable[[], Awaitable[Any]],
    every: int,
    webhooks: Callable[[], Awaitable[Any]] | None = None,
    requests: Callable[[], Awaitable[Any]] | None = None,
    purge: Callable[[], Awaitable[Any]] | None = None,
    retention: Callable[[], Awaitable[Any]] | None = None,
) -> AsyncIOScheduler:
    """Start on the running event loop; `scheduler.shutdown(wait=False)` stops it."""
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": every},
    )
    now = datetime.now(UTC)
    jobs = (
        # Replicas started together drift apart instead of claiming in lockstep (jitter).
        ("sweep", sweep, every, timedelta(seconds=1), max(1, every // 10)),
        ("recheck", recheck, RECHECK_EVERY_SECONDS, timedelta(seconds=30), 30),
        ("outbox", outbox, OUTBOX_EVERY_SECONDS, timedelta(seconds=2), 2),
        ("interrupted", interrupted, INTERRUPTED_EVERY_SECONDS, timedelta(seconds=3), 5),
        # Webhook deliveries are due on their own backoff schedule; a tick only looks.
        *([("webhooks", webhooks, WEBHOOKS_EVERY_SECONDS, timedelta(seconds=2), 2)]
          if webhooks is not None else []),
        # Open requests: the one nudge, then expiry (bot.services.requests.RequestService.tick).
        *([("requests", requests, REQUESTS_EVERY_SECONDS, timedelta(seconds=20), 30)]
          if requests is not None else []),
        # Uninstalled workspaces' credentials, once their retention period is over.
        *([("purge", purge, PURGE_EVERY_SECONDS, timedelta(seconds=60), 60)] if purge else []),
        # Old change events, webhook attempts, closed outbox rows, audit rows (bot.jobs.retention).
        *([("retention", retention, RETENTION_EVERY_SECONDS, timedelta(seconds=90), 300)]
          if retention else []),
    )
    for name, work, seconds, first, jitter in jobs:
        scheduler.add_job(
            _guarded(name, work),
            "interval",
            seconds=seconds,
            id=f"getkey-{name}",
            next_run_time=now + first,
            jitter=jitter,
        )
    scheduler.start()
    log.info("scheduler started", extra={"sweep_seconds": every})
    return scheduler
