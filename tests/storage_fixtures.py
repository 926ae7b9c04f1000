"""Fixtures for storage tests: a migrated database per test, on every configured backend.

SQLite always. PostgreSQL as well when GETKEY_TEST_POSTGRES_URL is set; if it is set but the
server cannot be reached, every PostgreSQL test fails (it never silently skips). Each pytest
process (xdist worker) migrates its own schema, named after the worker and the process id, and
points `search_path` at it through the URL, so the same URL works in subprocesses too. Tables
are emptied between tests.

Use it with `pytest_plugins = ["tests.storage_fixtures"]` in a test module. Test modules also
import helpers from here before pytest loads it as a plugin, so assertion rewriting is switched
off for this file (PYTEST_DONT_REWRITE) instead of warning about it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from bot.store import Keyring, Store, make_engine, migrate
from bot.store.tables import TABLES
from flows.base import Field, Flow, VerifyResult

POSTGRES_ENV = "GETKEY_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", *(["postgresql"] if os.environ.get(POSTGRES_ENV) else [])]
ROOT = Path(__file__).resolve().parent.parent

# Fixed test keys (never used outside tests).
KEY_A = "DATGdB3Bpnb6R9rpXfRSd_Jo1OUwbpE7cN1wlMOXPNo="
KEY_B = "gO3nb7EOvQZw3pOYb4lTrOBwSaUHuyX4M4BGHVMLkNM="
START = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)


class Clock:
    """A settable clock for the Store: tests move time instead of waiting."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class TwoSecretFlow(Flow):
    """A flow with two secret fields and a composite identity, like the OAuth platforms."""

    id = "test-two"
    name = "Test Two"
    rotation_days = 30
    identity_fields = ("store_hash",)
    fields = (
        Field("access_token", "Access token", secret=True),
        Field("client_secret", "Client secret", secret=True),
        Field("store_hash", "Store hash"),
    )


TWO = TwoSecretFlow()


def two_values(n: int = 1, *, store: str = "abc123") -> dict[str, str]:
    return {
        "access_token": f"tok-SECRET-{n:04d}-4f9b2c1d8e7a6b5c",
        "client_secret": f"cs-SECRET-{n:04d}-0a1b2c3d4e5f6a7b",
        "store_hash": store,
    }


def ok(**found: object) -> VerifyResult:
    return VerifyResult(ok=True, store_name="Test Shop", **found)  # type: ignore[arg-type]


# -- backends --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Backend:
    name: str
    url: str


def _with_search_path(url: str, schema: str) -> str:
    # `options` in the query string reaches libpq, so subprocesses get the schema too.
    parsed = make_url(url)
    query = dict(parsed.query)
    query["options"] = f"-csearch_path={schema}"
    return parsed.set(query=query).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per session; each test gets a copy (faster than migrating)."""
    path = tmp_path_factory.mktemp("template") / "getkey.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    base = os.environ.get(POSTGRES_ENV, "")
    if not base:
        pytest.fail(f"{POSTGRES_ENV} is not set", pytrace=False)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    schema = f"getkey_test_{worker}_{os.getpid()}"
    admin = make_engine(base, poolclass=sa.pool.NullPool)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except sa.exc.SQLAlchemyError as exc:
        pytest.fail(
            f"{POSTGRES_ENV} is set but PostgreSQL cannot be used: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0]}",
            pytrace=False,
        )
    url = _with_search_path(base, schema)
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "getkey.db"
        shutil.copyfile(template, path)
        return Backend("sqlite", f"sqlite:///{path}")
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    engine.dispose()
    return Backend("postgresql", url)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = make_engine(backend.url)
    yield eng
    eng.dispose()


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.from_env(KEY_A)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(engine: Engine, keyring: Keyring, clock: Clock) -> Store:
    return Store(engine, keyring, clock=clock)


# -- helpers for tests that use separate processes ---------------------------------------------
SWEEPER = """
import json, sys, time
from datetime import datetime
from pathlib import Path
from bot.store import Keyring, Store, make_engine
url, key, now, go = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3]), Path(sys.argv[4])
store = Store(make_engine(url), Keyring.from_env(key))
store.healthy()
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
claimed = []
while True:
    batch = store.claim_due(now, limit=7)
    if not batch:
        break
    for due in batch:
        claimed.append(due.reminder_id)
        store.mark_sent(due.reminder_id)
print(json.dumps(claimed), flush=True)
"""


def run_sweepers(
    url: str, key: str, now: datetime, workdir: Path, count: int = 2
) -> list[list[int]]:
    """Start `count` separate processes that sweep the same database at the same moment and
    return what each of them claimed."""
    go = workdir / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SWEEPER, url, key, now.isoformat(), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(count)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line == "ready", proc.stderr.read() if proc.stderr else line
        go.touch()  # both are connected: let them race
        results = []
        deadline = time.monotonic() + 60
        for proc in procs:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            assert proc.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
