"""Does claiming cost the same whatever the backlog? Reminder sweep at 1k, 10k and 100k due.

Seeds a temporary database (SQLite always; PostgreSQL too when a URL is given as the first
argument or in GETKEY_BENCH_POSTGRES_URL / GETKEY_TEST_POSTGRES_URL) with a growing backlog of
due reminders, and at each size times what the bot's sweep does with the database: claim_due
in batches and mark_sent_many in groups of bot.jobs.sweep.SETTLE_EVERY (as the bot settles).
By default it sweeps a sample of `--sample` reminders from the front of the backlog (what it
costs per reminder while the backlog is that large); `--full` sweeps the whole backlog. Prints
medians over `--runs`; flat numbers across sizes mean a batch costs the same however much waits
behind it. Usage:

    .venv/bin/python bench/sweep.py [POSTGRES_URL] [--due 1000,10000,100000] [--sample N]
        [--full] [--runs N] [--batch N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from bot.jobs.sweep import SETTLE_EVERY
from bot.store import Keyring, Store, generate_key, make_engine, migrate
from bot.store.seed import seed

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def sweep(store: Store, now: datetime, batch: int, at_most: int) -> tuple[int, list[float]]:
    """Sweep until nothing is due or `at_most` were sent. Returns (sent, claim seconds)."""
    sent, claims = 0, []
    while sent < at_most:
        start = time.perf_counter()
        claimed = store.claim_due(now, limit=min(batch, at_most - sent))
        claims.append(time.perf_counter() - start)
        if not claimed:
            break
        ids = [due.reminder_id for due in claimed]
        for start in range(0, len(ids), SETTLE_EVERY):
            store.mark_sent_many(ids[start:start + SETTLE_EVERY])
        sent += len(claimed)
    return sent, claims


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
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("ANALYZE reminder"))


def run(label: str, engine: Engine, args: argparse.Namespace) -> None:
    keyring = Keyring.from_env(generate_key())
    migrate(engine)
    store = Store(engine, keyring)
    seeded = 0
    for due in args.due:
        start = time.perf_counter()
        # Each size adds to the backlog of the previous one (plus a not-yet-due tail).
        seeded_max = seed(
            engine, keyring, count=(due - seeded) * 11 // 10,
            due=due - seeded,
            now=NOW,
            team_id=f"TSEED{due}",
        )
        seeded = due
        took = time.perf_counter() - start
        per, first, last, sent = [], [], [], 0
        at_most = due if args.full else min(due, args.sample)
        for _ in range(args.runs):
            reset(engine, seeded_max)
            start = time.perf_counter()
            sent, claims = sweep(store, NOW, args.batch, at_most)
            per.append((time.perf_counter() - start) / max(sent, 1) * 1000)
            first.append(claims[0] * 1000)
            last.append(claims[-2 if len(claims) > 1 else -1] * 1000)
        assert sent == at_most, (sent, at_most)
        print(
            f"[{label}] {due:>7,} due (seeded in {took:.1f} s): "
            f"{statistics.median(per):.3f} ms per reminder (claim + mark sent) over "
            f"{at_most:,} reminders, median of {args.runs}; claim of a {args.batch}-batch: "
            f"first {statistics.median(first):.1f} ms, last {statistics.median(last):.1f} ms",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("postgres_url", nargs="?")
    parser.add_argument(
        "--due", type=lambda s: [int(x) for x in s.split(",")], default=[1_000, 10_000, 100_000]
    )
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            run("sqlite", engine, args)
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
            run("postgresql", engine, args)
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
