"""Where blocking work runs, so that the event loop (which writes every ack) never waits.

Two pools that never share threads: `quick` for short database reads and writes an answer
needs (a list, a delete), `slow` for live verifications and re-checks, which can take seconds
or hang until their timeout. Slow work is also bounded per platform, so a burst of submissions
queues here instead of hammering one platform's API (and a platform that hangs can only hold
its own share of threads, never the others' or the acks').
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

SLOW_THREADS = 128
QUICK_THREADS = 16
PER_PLATFORM = 64
# A thread with nothing to do for this long ends: a burst's hundred threads (their stacks and
# what they hold) do not stay for the life of the process (issue 21, memory after load).
IDLE_SECONDS = 10.0


@functools.cache
def _libc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim; nothing elsewhere).
    Every thread of a burst allocates from its own malloc arena, and what they freed stays
    resident until trimmed: measured as 16 MB after 200 simultaneous submissions."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


class ElasticPool(Executor):
    """Threads started on demand up to `max_threads`, each ending after `idle_seconds` without
    work (concurrent.futures.ThreadPoolExecutor only ever grows). Under one lock: a thread is
    started whenever more work is queued than threads wait for it, and a waiting thread ends
    only when nothing is queued, so queued work always has a thread coming."""

    def __init__(self, max_threads: int, name: str, idle_seconds: float = IDLE_SECONDS,
                 on_quiet: Callable[[], None] = release_free_memory) -> None:
        self._max = max_threads
        self._on_quiet = on_quiet
        self._name = name
        self._idle_seconds = idle_seconds
        self._work: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue())
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._waiting = 0
        self._closed = False

    @property
    def threads(self) -> int:
        return len(self._threads)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            self._work.put((future, functools.partial(fn, *args, **kwargs)))
            self._grow()
        return future

    def _grow(self) -> None:
        """Under the lock: one more thread if queued work outnumbers the threads waiting."""
        wanted = self._work.qsize() > self._waiting and len(self._threads) < self._max
        if wanted and not self._closed:
            thread = threading.Thread(target=self._run, daemon=True,
                                      name=f"{self._name}_{len(self._threads)}")
            self._threads.add(thread)
            self._waiting += 1  # counted from now: it is on its way to the queue
            thread.start()

    def _run(self) -> None:
        while True:
            try:
                item = self._work.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._work.qsize() == 0:
                        self._waiting -= 1
                        self._threads.discard(threading.current_thread())
                        last = not self._threads
                    else:
                        continue  # work arrived as the wait ended: this thread was counted on
                if last:
                    self._on_quiet()
                return
            with self._lock:
                self._waiting -= 1
                if item is None:  # shut down
                    self._threads.discard(threading.current_thread())
                    return
                self._grow()
            future, call = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(call())
                except BaseException as exc:  # the caller gets it through the future
                    future.set_exception(exc)
            del item, future, call  # nothing of the last job stays alive while idle
            with self._lock:
                self._waiting += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        if cancel_futures:
            while True:
                try:
                    item = self._work.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        for _ in threads:
            self._work.put(None)
        if wait:
            for thread in threads:
                thread.join()


class Workers:
    def __init__(
        self,
        *,
        slow_threads: int = SLOW_THREADS,
        quick_threads: int = QUICK_THREADS,
        per_platform: int = PER_PLATFORM,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self._slow = ElasticPool(slow_threads, "getkey-slow", idle_seconds, self._slow_quiet)
        self._quick = ElasticPool(quick_threads, "getkey-quick", idle_seconds)
        # Called once the slow pool has ended its last thread (no verification for
        # IDLE_SECONDS: a burst is over): e.g. let idle database connections go (bot.runtime).
        # Not tied to the quick pool, which the minute jobs keep busy every few seconds.
        self.on_quiet: Callable[[], None] | None = None
        self.per_platform = per_platform
        self._platforms: dict[str, asyncio.Semaphore] = {}
        self._in_flight: set[asyncio.Task[Any]] = set()

    def _slow_quiet(self) -> None:
        if self.on_quiet is not None:
            try:
                self.on_quiet()
            except Exception as exc:  # only memory is at stake; the next request reconnects
                log.warning("releasing idle resources failed", extra={"error": type(exc).__name__})
        release_free_memory()

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
