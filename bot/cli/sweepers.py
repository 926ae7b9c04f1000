"""`getkey remind --once` on several processes: a large sweep is split by person between
GETKEY_SWEEP_WORKERS processes (default: one per CPU), because one Python process tops out at
about a thousand reminders a second.

Each worker claims only the reminders of its part of the people (bot.store.parts), so all of
a person's DMs go out from one process and are paced there; claims stay leased and
skip-locked as for any number of sweepers. The workers are forked before any database
connection, thread or event loop exists, sweep side by side, and hand their DMs back over a
pipe; the first process sweeps its own part, then sends what the outbox owes. A `kill -9` of
the command takes its workers with it (Linux: they die with their parent), so what they
claimed stays leased, never sent behind the operator's back.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from bot.jobs.sweep import CLAIM_BATCH, Sent
from bot.store.parts import Part

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.settings import Settings

log = logging.getLogger(__name__)

# Unset GETKEY_SWEEP_WORKERS: one per CPU, no more than this (each is a database client).
MAX_DEFAULT = 8
# Below this many due, one process sends them before a second would have started; above,
# one worker per claim batch due.
SPLIT_FROM = 2 * CLAIM_BATCH
PR_SET_PDEATHSIG = 1


class WorkerFailed(Exception):
    """A worker process ended without handing its DMs back (crashed, or raised)."""


def default_workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT))


def workers_for(due: int, wanted: int) -> int:
    """How many processes `due` reminders are worth, at most `wanted` (1,000 due: 2)."""
    if due < SPLIT_FROM:
        return 1
    return max(1, min(wanted, due // CLAIM_BATCH))


def count_workers(settings: Settings, now: datetime) -> int:
    """How many processes to sweep at `now` with: GETKEY_SWEEP_WORKERS (or one per CPU), no
    more than the backlog is worth. Raises KeyringError for bad GETKEY_ENCRYPTION_KEYS."""
    wanted = settings.getkey_sweep_workers or default_workers()
    if wanted <= 1:
        return 1
    from bot.runtime import open_store

    store = open_store(settings, lambda: now)
    try:
        due = store.count_due(now, at_most=wanted * CLAIM_BATCH)
    finally:
        # Nothing of the database is left open across the fork.
        store.engine.dispose()
    return workers_for(due, wanted)


@dataclass
class _Worker:
    process: BaseProcess
    results: Connection


def _die_with_parent(parent: int) -> None:
    """The worker is killed when the process that started it dies (Linux), so a `kill -9`
    of the command stops every sender at once."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # died before the line above took effect
        os._exit(1)


def _work(sweep: Callable[[Part], list[Sent]], part: Part, out: Connection, parent: int) -> None:
    _die_with_parent(parent)
    try:
        result: tuple[str, Any] = ("sent", sweep(part))
    except BaseException as exc:
        # The type only: the text may quote the database URL.
        result = ("failed", type(exc).__name__)
    out.send(result)
    out.close()


def start(count: int, sweep: Callable[[Part], list[Sent]]) -> list[_Worker]:
    """Fork workers for parts 1 … count-1 of `count` (the caller sweeps part 0). Call before
    this process opens a database connection or starts a thread or an event loop."""
    if count <= 1:
        return []
    context = multiprocessing.get_context("fork")
    # Buffered output would be written again by each worker when it exits.
    sys.stdout.flush()
    sys.stderr.flush()
    workers = []
    for index in range(1, count):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=_work, args=(sweep, (index, count), send, os.getpid()),
            name=f"getkey-sweep-{index}", daemon=True,
        )
        process.start()
        send.close()
        workers.append(_Worker(process, receive))
    return workers


def collect(workers: list[_Worker]) -> list[Sent]:
    """Wait for every worker; their DMs, in worker order. Raises WorkerFailed (after all have
    ended) when any did not finish its part."""
    sent: list[Sent] = []
    failures: list[str] = []
    for worker in workers:
        try:
            status, value = worker.results.recv()
        except EOFError:
            status, value = "failed", "no answer"
        worker.results.close()
        worker.process.join()
        if status == "sent":
            sent.extend(value)
        else:
            failures.append(f"{worker.process.name}: {value}")
    if failures:
        raise WorkerFailed("; ".join(failures))
    return sent


def sweep_part(
    settings: Settings, now: datetime | None, part: Part,
    open_runtime: Callable[[Settings], Runtime],
) -> list[Sent]:
    """A worker's whole life: its own runtime, one sweep of its part, closed."""
    from bot.http.serving import loop_factory

    rt = open_runtime(settings)

    async def once() -> list[Sent]:
        try:
            return await rt.sweep.run(now, part=part)
        finally:
            await rt.clients.close()

    try:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            return runner.run(once())
    finally:
        rt.close()
