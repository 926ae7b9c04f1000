"""How long does one reminder sweep take with 100,000 stored credentials?

Seeds a temporary database (SQLite always; PostgreSQL too when a URL is given as the first
argument or in GETKEY_BENCH_POSTGRES_URL / GETKEY_TEST_POSTGRES_URL), then times what the
bot's sweep job does: claim_due in batches and mark_sent for each reminder, until nothing is
due. Prints medians. Usage:

    .venv/bin/python bench/sweep.py [POSTGRES_URL] [--count N] [--due N] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from bot.store import Keyring, Store, generate_key, make_engine, migrate
from bot.store.seed import seed

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def sweep(store: Store, now: datetime, batch: int) -> int:
    sent = 0
    while True:
        claimed = store.claim_due(now, limit=batch)
        if not claimed:
            return sent
        for due in claimed:
            store.mark_sent(due.reminder_id)  # one commit per message, as the bot does
        sent += len(claimed)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def reset(engine: Engine, seeded_max: int) -> None:
    """Undo a sweep: the due reminders are due again, follow-ups it planned are gone."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM reminder WHERE id > :m"), {"m": seeded_max})
        conn.execute(
            sa.text(
                "UPDATE reminder SET sent_at = NULL, claimed_at = NULL, claimed_until = NULL "
                "WHERE sent_at IS NOT NULL OR claimed_at IS NOT NULL"
            )
        )


def run(label: str, engine: Engine, count: int, due: int, runs: int, batch: int) -> None:
    keyring = Keyring.from_env(generate_key())
    migrate(engine)
    seconds = timed(lambda: seed(engine, keyring, count=count, due=due, now=NOW))
    with engine.begin() as conn:
        seeded_max = int(conn.scalar(sa.text("SELECT max(id) FROM reminder")) or 0)
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("ANALYZE"))
    print(f"[{label}] seeded {count:,} credentials ({due:,} due) in {seconds:.1f} s")
    store = Store(engine, keyring)
    full, idle = [], []
    for _ in range(runs):
        reset(engine, seeded_max)
        sent = 0

        def one() -> None:
            nonlocal sent
            sent = sweep(store, NOW, batch)

        full.append(timed(one))
        assert sent == due, (sent, due)
        idle.append(timed(lambda: store.claim_due(NOW, limit=batch)))
    per = statistics.median(full) / max(due, 1) * 1000
    print(
        f"[{label}] sweep of {count:,} credentials, {due:,} due: median "
        f"{statistics.median(full):.3f} s over {runs} runs "
        f"(min {min(full):.3f}, max {max(full):.3f}; {per:.2f} ms per reminder, "
        f"claim batches of {batch})"
    )
    print(
        f"[{label}] sweep with nothing due: median {statistics.median(idle) * 1000:.1f} ms "
        f"over {runs} runs"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("postgres_url", nargs="?")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            run("sqlite", engine, args.count, args.due, args.runs, args.batch)
        finally:
            engine.dispose()

    url = (
        args.postgres_url
        or os.environ.get("GETKEY_BENCH_POSTGRES_URL")
        or os.environ.get("GETKEY_TEST_POSTGRES_URL")
    )
    if url:
        schema = f"getkey_bench_{os.getpid()}"
        admin = make_engine(url, poolclass=sa.pool.NullPool)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        parsed = make_url(url)
        scoped = parsed.set(query={**parsed.query, "options": f"-csearch_path={schema}"})
        engine = make_engine(scoped.render_as_string(hide_password=False))
        try:
            run("postgresql", engine, args.count, args.due, args.runs, args.batch)
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()
    else:
        print("[postgresql] skipped: pass a URL or set GETKEY_BENCH_POSTGRES_URL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
