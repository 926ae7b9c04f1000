"""Engines and migrations.

SQLite gets WAL (readers never block the writer), a busy timeout (writers queue instead of
failing), foreign keys, and explicit transaction control: the driver's own implicit BEGIN is
switched off so that write transactions can start with BEGIN IMMEDIATE. A deferred transaction
that later writes can fail at once with "database is locked" when another process wrote in the
meantime; IMMEDIATE takes the write lock up front and waits politely instead.

Migrations run through Alembic with a configuration built in code, so nothing but the packaged
migrations/ folder is needed at run time.
"""

from __future__ import annotations

import re
import threading
import weakref
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url

from bot.store import parts

DEFAULT_URL = "sqlite:///getkey.db"
BUSY_TIMEOUT_MS = 15_000
# A database that accepts connections but never answers must not hang getkey: connecting
# gives up after this, and PostgreSQL cancels any statement running longer than that.
CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 30_000
# Execution option read by the SQLite BEGIN hook below.
SQLITE_BEGIN = "getkey_sqlite_begin"
# One lock per SQLite engine (write_turn).
_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x6765746B6579  # 'getkey': PostgreSQL advisory lock id for migrations


def make_engine(
    url: str,
    *,
    connect_timeout: int = CONNECT_TIMEOUT_S,
    statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
    **kwargs: Any,
) -> Engine:
    """An engine for any SQLAlchemy URL, tuned for SQLite when the URL is SQLite.

    Sessions are opened per call by the repository, so the pool only needs to cover the
    threads that touch the database at the same moment. Timeouts given in the URL win."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        # Connections kept open for the worker threads; past these, extra ones are opened
        # and closed per use (slow under load: measured as most of a busy /getkey list).
        "pool_size": 10,
        "max_overflow": 20,
        # Statement parameters include ciphertexts and identifiers: keep them out of errors.
        "hide_parameters": True,
        # Waiting for a free pooled connection is bounded too.
        "pool_timeout": 10,
    }
    if "poolclass" in kwargs:
        for name in ("pool_size", "max_overflow", "pool_timeout"):
            options.pop(name)
    if parsed.get_backend_name() == "postgresql":
        options["connect_args"] = _postgres_timeouts(parsed, connect_timeout, statement_timeout_ms)
        options["connect_args"].update(kwargs.pop("connect_args", {}))
    options.update(kwargs)
    return sa.create_engine(url, **options)


def write_turn(engine: Engine) -> AbstractContextManager[Any]:
    """Held around every write transaction of this process on a SQLite engine: its writers
    queue on a lock and each starts the moment the previous one ends. On SQLite's own lock
    alone, a writer that finds it taken sleeps in the busy handler (up to 100 ms a time)
    while the lock may already be free, and a hundred waiting threads also compete for the
    GIL with the one writing (a burst of submissions: bench/submissions.py). Other processes
    still queue on SQLite's lock (busy timeout). Other databases: nothing."""
    return _WRITERS.get(engine) or nullcontext()


def _postgres_timeouts(parsed: URL, connect_timeout: int, statement_ms: int) -> dict[str, Any]:
    """libpq's connect_timeout, and statement_timeout added to any `options` in the URL
    (connect_args replace URL parameters of the same name rather than merging them)."""
    args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        args["connect_timeout"] = connect_timeout
    given = parsed.query.get("options", "")
    given = " ".join(given) if isinstance(given, tuple) else given
    if "statement_timeout" not in given:
        args["options"] = f"{given} -c statement_timeout={statement_ms}".strip()
    return args


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    database = make_url(url).database or ""
    memory = database in ("", ":memory:") or database.startswith("file::memory:")
    connect_args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    connect_args.update(kwargs.pop("connect_args", {}))
    options: dict[str, Any] = {"connect_args": connect_args, "hide_parameters": True}
    if "poolclass" in kwargs:
        pass
    elif memory:
        # One shared connection, or every checkout would see a different empty database.
        options["poolclass"] = sa.pool.StaticPool
    else:
        # SQLite connections are cheap to keep and costly to open (PRAGMAs on every connect):
        # keep enough for the quick pool and a burst of verifications finishing together.
        options.update(pool_size=32, max_overflow=96)
    options.update(kwargs)
    engine = sa.create_engine(url, **options)
    # Re-entrant: a write inside a write in one thread fails on SQLite's lock as before,
    # instead of waiting for itself here.
    _WRITERS[engine] = threading.RLock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (see _on_begin); the driver must not.
        dbapi_connection.isolation_level = None
        # The claim query of a sweep split between processes (bot.store.parts).
        dbapi_connection.create_function(
            parts.SQLITE_FUNCTION, 2, parts.person_part_py, deterministic=True
        )
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                # Safe with WAL: a power cut may lose the last commits, never corrupt.
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'IMMEDIATE' else 'DEFERRED'}")

    return engine


def _alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema of `engine`'s database to `revision`. Safe to run from several
    processes at once: they take turns (SQLite write lock, PostgreSQL advisory lock)."""
    from alembic import command

    with engine.connect() as conn:
        conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            command.upgrade(_alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Step the schema back (for recovering from a bad release; data in dropped tables goes)."""
    from alembic import command

    with engine.connect() as conn:
        conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            command.downgrade(_alembic_config(conn), revision)


def upgrade(url: str) -> None:
    """`alembic upgrade head` for a URL."""
    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class SchemaOutOfDate(Exception):
    """The database is missing migrations; the message says how to apply them."""


def ensure_current(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not at the newest revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"The database schema is at revision {current or 'none'}, not {head}: "
            "run `getkey db upgrade` first."
        )


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


# What Alembic reads from each migration file, read here without Alembic (about 10 MB that a
# serving process answering /readyz does not need; a test checks both agree).
_REVISION = re.compile(r'^(down_revision|revision)\b[^=]*=\s*["\']?([\w]+)', re.M)


def head_revision_plain() -> str | None:
    """The newest migration's id, like head_revision(), from the files' text."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (_MIGRATIONS / "versions").glob("*.py"):
        found = dict((k, v) for k, v in _REVISION.findall(path.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
            if found.get("down_revision", "None") != "None":
                parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revision_plain(engine: Engine) -> str | None:
    """The database's revision, like current_revision(), with one plain query."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
