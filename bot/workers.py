"""Where blocking work runs, so that the event loop (which writes every ack) never waits.

Two pools that never share threads: `quick` for short database reads and writes an answer
needs (a list, a delete), `slow` for live verifications and re-checks, which can take seconds
or hang until their timeout. Slow work is also bounded per platform, so a burst of submissions
queues here instead of hammering one platform's API (and a platform that hangs can only hold
its own share of threads, never the others' or the acks').
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

SLOW_THREADS = 128
QUICK_THREADS = 16
PER_PLATFORM = 64


class Workers:
    def __init__(
        self,
        *,
        slow_threads: int = SLOW_THREADS,
        quick_threads: int = QUICK_THREADS,
        per_platform: int = PER_PLATFORM,
    ) -> None:
        self._slow = ThreadPoolExecutor(slow_threads, thread_name_prefix="getkey-slow")
        self._quick = ThreadPoolExecutor(quick_threads, thread_name_prefix="getkey-quick")
        self.per_platform = per_platform
        self._platforms: dict[str, asyncio.Semaphore] = {}
        self._in_flight: set[asyncio.Task[Any]] = set()

    async def quick(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._quick, functools.partial(fn, *args, **kwargs))

    def busy(self, platform: str) -> bool:
        """Whether slow work for `platform` would have to wait for a free slot now."""
        sem = self._platforms.get(platform)
        return sem is not None and sem.locked()

    async def slow(self, platform: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        sem = self._platforms.setdefault(platform, asyncio.Semaphore(self.per_platform))
        async with sem:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._slow, functools.partial(fn, *args, **kwargs))

    def track(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        """Keep a background task alive and let shutdown wait for it."""
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return task

    async def drain(self, timeout: float) -> int:
        """Wait up to `timeout` s for background tasks (shutdown); returns how many remain."""
        pending = set(self._in_flight)
        if pending:
            _, still = await asyncio.wait(pending, timeout=timeout)
            return len(still)
        return 0

    def close(self) -> None:
        self._slow.shutdown(wait=False, cancel_futures=True)
        self._quick.shutdown(wait=False, cancel_futures=True)
