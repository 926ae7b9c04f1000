"""The reminder sweep end to end: 1k / 10k / 100k reminders due, sent through the real Slack
calls by `getkey remind --once --now …` against a Slack stand-in that answers at once.

Each reminder belongs to a different person unless --people says how many share them (Slack
takes about one message a second per conversation, so shared owners pace the sweep; the
stand-in counts messages that came sooner than that after the previous one in their
conversation).
For each backlog: a fresh database (SQLite file, or a fresh schema in --database-url's
PostgreSQL), `getkey db upgrade`, the due reminders seeded (seed_due: the one place that uses
getkey's internals), then one `remind --once` process, killed after --cap seconds. Printed:
wall time, reminders/s (over the whole process, and from the first message to the last),
ms per reminder, and ms per reminder over the first and the last tenth of the messages (from
the stand-in's arrival times) to show whether cost grows with the backlog, and the sweep
process's CPU seconds (steadier than wall time on a shared machine). --profile runs the
sweep under cProfile and prints its top functions. The yardstick: the same number of
chat.postMessage calls from a bare slack_sdk AsyncWebClient (64 at a time, one connection
pool) against the same stand-in.

    python bench/sweep_e2e.py [--sizes 1000,10000,100000] [--cap 600] [--database-url URL]
Targets (issue 21): ≥ 1,000 reminders/s; 100,000 done in ≤ 120 s on SQLite and PostgreSQL;
time per reminder flat from 1k to 100k; never two messages within a second in one
conversation.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
_databases = itertools.count()  # a backlog size may be repeated (--sizes 1000,1000,1000)


def seed_due(database_url: str, key: str, count: int, people: int) -> None:
    """`count` stored credentials, each with a reminder due at NOW, owned by `people`
    different people (0: one person each). The only use of getkey's internals in this
    script: if the store API changes, change this."""
    from bot.store import Keyring, make_engine
    from bot.store.seed import seed

    engine = make_engine(database_url)
    try:
        users = [f"U{n:08d}" for n in range(people or count)]
        seed(engine, Keyring.from_env(key), count=count, due=count, now=NOW, users=users)
    finally:
        engine.dispose()


@contextlib.contextmanager
def fresh_database(work: Path, size: int, postgres_url: str | None) -> Iterator[str]:
    if not postgres_url:
        yield f"sqlite:///{work / f'sweep-{size}-{next(_databases)}.db'}"
        return
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    schema = f"getkey_sweep_{os.getpid()}_{size}_{next(_databases)}"
    admin = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    parsed = make_url(postgres_url)
    scoped = parsed.set(query={**parsed.query, "options": f"-csearch_path={schema}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def tenth_ms(posted: list[float], first: bool) -> float:
    """ms per reminder over the first (or last) tenth of the messages sent."""
    k = max(1, len(posted) // 10)
    part = posted[: k + 1] if first else posted[-(k + 1):]
    return (part[-1] - part[0]) / max(1, len(part) - 1) * 1000 if len(part) > 1 else float("nan")


def sweep_once(stand: h.StandIns, work: Path, size: int, cap: float,
               postgres_url: str | None, people: int = 0, profile: Path | None = None) -> str:
    with fresh_database(work, size, postgres_url) as db_url:
        key = h.new_key(work)
        env = h.child_env({"SLACK_BOT_TOKEN": h.BOT_TOKEN, "SLACK_API_URL": stand.api_url,
                           "DATABASE_URL": db_url, "GETKEY_ENCRYPTION_KEYS": key})
        h.run_cli(["db", "upgrade"], env, work)
        started = time.monotonic()
        seed_due(db_url, key, size, people)
        seeded = time.monotonic() - started
        stand.reset()
        out_path = work / f"remind-{size}.out"
        with out_path.open("wb") as out, (work / f"remind-{size}.err").open("wb") as err:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.monotonic()
            profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
            proc = subprocess.Popen(
                [h.PYTHON, *profiler, "-m", "bot.cli", "remind", "--once", "--now",
                 NOW.isoformat()],
                env=env, cwd=str(work), stdout=out, stderr=err, start_new_session=True,
            )
            try:
                code: int | None = proc.wait(cap)
            except subprocess.TimeoutExpired:
                code = None
                h.Proc("remind", proc, work / f"remind-{size}.err").stop()
            wall = time.monotonic() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU seconds of the sweep process: on a shared machine, steadier than wall time.
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        stats = stand.control("stats", posted=1)
        posted = list(stats["posted_at"])
        sent = len(posted)
        printed = sum(1 for _ in out_path.open("rb"))
        rate = sent / wall if wall else 0.0
        # From the first message to the last: the sending rate without the process's start-up.
        span = posted[-1] - posted[0] if len(posted) > 1 else 0.0
        steady = (len(posted) - 1) / span if span > 0 else float("nan")
        status = (f"done in {wall:7.1f} s" if code == 0 else
                  f"NOT DONE after {cap:g} s" if code is None else f"FAILED ({code})")
        line = (f"{size:>7,} due: {status}; sent {sent:,} ({printed:,} printed), "
                f"{rate:6.0f} reminders/s ({steady:.0f}/s from first to last message), "
                f"{wall / max(sent, 1) * 1000:7.2f} ms per reminder "
                f"(first tenth {tenth_ms(posted, True):6.2f} ms, "
                f"last tenth {tenth_ms(posted, False):6.2f} ms); "
                f"CPU {cpu:.1f} s = {sent / max(cpu, 1e-9):.0f} reminders per CPU-second; "
                f"Slack calls {stats['counts']}, {stats['too_soon']} sooner than 1 s after "
                f"the previous one in their conversation; seeded in {seeded:.1f} s")
        if code not in (0, None):
            line += "\n    " + (work / f"remind-{size}.err").read_text(errors="replace")[-400:]
        return line


async def bare_send(api_url: str, count: int, concurrency: int = 64) -> float:
    """Seconds for `count` chat.postMessage calls from a bare AsyncWebClient."""
    import aiohttp
    from slack_sdk.web.async_client import AsyncWebClient

    # One session: without it slack_sdk opens a new connection for every call.
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(token=h.BOT_TOKEN, base_url=api_url, session=session)
        gate = asyncio.Semaphore(concurrency)

        async def one(n: int) -> None:
            async with gate:
                await client.chat_postMessage(channel=f"D{n % 1000:04d}", text="Reminder")

        started = time.monotonic()
        await asyncio.gather(*(one(n) for n in range(count)))
        return time.monotonic() - started


def show_profile(path: Path, top: int = 30) -> None:
    """The sweep's most expensive functions (own time and cumulative)."""
    import pstats

    for order in ("tottime", "cumulative"):
        print(f"    -- {path.name}, by {order} --", flush=True)
        pstats.Stats(str(path), stream=sys.stdout).sort_stats(order).print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--cap", type=float, default=600.0, help="seconds per sweep at most")
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema per backlog)")
    parser.add_argument("--bare-messages", type=int, default=10_000)
    parser.add_argument("--profile", type=Path,
                        help="run each sweep under cProfile; print its top functions and keep "
                             "the profile as PROFILE-<size>.prof")
    parser.add_argument("--people", type=int, default=0,
                        help="owners of the due reminders (default 0: one reminder per person)")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"reminder sweep end to end ({backend}), instant Slack stand-in, cap {args.cap:g} s",
          flush=True)
    with h.workdir("bench-sweep-") as work, h.standins(work) as stand:
        stand.reset()
        seconds = asyncio.run(bare_send(stand.api_url, args.bare_messages))
        bare_rate = args.bare_messages / seconds
        print(f"  yardstick: bare AsyncWebClient, {args.bare_messages:,} chat.postMessage, "
              f"64 at a time: {seconds:.1f} s = {bare_rate:.0f} messages/s", flush=True)
        for size in sizes:
            out = None
            if args.profile:
                out = args.profile.with_name(f"{args.profile.name}-{size}.prof")
            line = sweep_once(stand, work, size, args.cap, args.database_url, args.people, out)
            print("  " + line, flush=True)
            if out is not None and out.exists():
                show_profile(out)
    print("  targets: ≥ 1,000 reminders/s; 100,000 in ≤ 120 s; ms per reminder flat from 1k "
          "to 100k; none sooner than 1 s in a conversation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
