"""The worker pools grow on demand and shrink back (issue 21, memory after a burst): a burst of
slow work gets its threads at once, and an idle process gives them back; no work is ever left
without a thread, whatever the timing."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.workers import ElasticPool, Workers


def wait_until(check, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_burst_gets_every_thread_at_once_and_they_end_when_idle():
    pool = ElasticPool(8, "burst", idle_seconds=0.3)
    started = threading.Barrier(9)  # eight jobs and this test: all run at the same time
    futures = [pool.submit(started.wait, 5) for _ in range(8)]
    started.wait(5)
    assert pool.threads == 8
    assert all(isinstance(f.result(5), int) for f in futures)
    wait_until(lambda: pool.threads == 0)
    # The threads themselves end (not only leave the count).
    wait_until(lambda: not [t for t in threading.enumerate() if t.name.startswith("burst_")])
    # ... and grows again for the next burst.
    assert pool.submit(lambda: "again").result(5) == "again"
    pool.shutdown()


def test_never_more_threads_than_allowed_and_queued_work_still_runs():
    pool = ElasticPool(3, "capped", idle_seconds=5)
    running, most = 0, 0
    lock = threading.Lock()

    def job(i: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return i

    assert [f.result(10) for f in [pool.submit(job, i) for i in range(60)]] == list(range(60))
    assert most == 3 and pool.threads <= 3
    pool.shutdown()


def test_work_submitted_as_threads_time_out_is_never_stranded():
    # Idle time so short that threads end between almost every submission.
    pool = ElasticPool(4, "racy", idle_seconds=0.0005)

    def producer() -> None:
        for n in range(1500):
            assert pool.submit(lambda x: x * 2, n).result(5) == n * 2
            if n % 97 == 0:
                time.sleep(0.003)

    producers = [threading.Thread(target=producer) for _ in range(6)]
    for t in producers:
        t.start()
    for t in producers:
        t.join(60)
    assert not any(t.is_alive() for t in producers)
    pool.shutdown(wait=True)
    assert pool.threads == 0


def test_errors_reach_the_caller_and_a_shut_pool_refuses_work():
    pool = ElasticPool(2, "errors")
    with pytest.raises(ZeroDivisionError):
        pool.submit(lambda: 1 / 0).result(5)
    pool.shutdown(wait=True)
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)


def test_the_event_loop_pools_run_work_and_close():
    async def main() -> list[int]:
        workers = Workers(slow_threads=4, quick_threads=2)
        try:
            quick = await asyncio.gather(*(workers.quick(lambda i=i: i) for i in range(50)))
            slow = await asyncio.gather(*(workers.slow("wix", lambda i=i: -i) for i in range(20)))
            return [*quick, *slow]
        finally:
            workers.close()

    assert asyncio.run(main()) == [*range(50), *(-i for i in range(20))]


def test_a_quiet_process_lets_its_idle_database_connections_go(tmp_path):
    """The slow pool idle (a burst is over): the store closes its pooled connections (each
    SQLite one holds its prepared statements); the next use reconnects and sees the data."""
    from bot.store import Keyring, Store, make_engine
    from bot.store.crypto import generate_key
    from bot.store.db import migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    migrate(engine)
    store = Store(engine, Keyring.from_env(generate_key()))
    quiet = threading.Event()

    def released() -> None:
        store.release_idle_connections()
        quiet.set()

    async def burst() -> list[dict]:
        workers = Workers(slow_threads=8, quick_threads=4, idle_seconds=0.3)
        workers.on_quiet = released
        try:
            return await asyncio.gather(*(workers.slow("wix", store.readiness)
                                          for _ in range(16)))
        finally:
            assert engine.pool.checkedin() > 1  # connections kept while busy
            await asyncio.sleep(0)

    answers = asyncio.run(burst())
    assert all(a["ok"] for a in answers)
    assert quiet.wait(10)
    assert engine.pool.checkedin() == 0
    assert store.readiness()["ok"]
    engine.dispose()
