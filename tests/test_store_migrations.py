"""The schema comes from Alembic migrations, matches the models, and SQLite is tuned; the
storage tests insist on PostgreSQL when they are told to use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from bot.store import make_engine, migrate, upgrade
from bot.store.db import current_revision, downgrade, head_revision
from bot.store.models import SQLModel
from tests.storage_fixtures import POSTGRES_ENV, ROOT

# The newest migration file: the chain must end there (a literal breaks with every new one).
VERSIONS = Path(__file__).resolve().parents[1] / "bot/store/migrations/versions"
NEWEST = max(p.name[:4] for p in VERSIONS.glob("0*.py"))

pytest_plugins = ["tests.storage_fixtures"]


def test_upgrade_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    upgrade(url)  # idempotent
    engine = make_engine(url)
    try:
        assert current_revision(engine) == head_revision() == NEWEST
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        tables = set(sa.inspect(engine).get_table_names())
        assert {"credential", "secret_value", "reminder", "audit_event", "submission"} <= tables
    finally:
        engine.dispose()


def test_migrations_match_the_models(engine: Engine) -> None:
    """What the code queries is what the migrations built (on every backend)."""
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with engine.connect() as conn, conn.begin():
        try:
            conn.execute(
                sa.text(
                    "INSERT INTO secret_value (credential_id, field, token, key_id) "
                    "VALUES ('nope', 'f', 't', 'k')"
                )
            )
        except sa.exc.IntegrityError:
            return
    raise AssertionError("a secret without its credential was accepted")


def test_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'down.db'}")
    try:
        migrate(engine)
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert "credential" not in sa.inspect(engine).get_table_names()
        migrate(engine)
        assert current_revision(engine) == NEWEST
    finally:
        engine.dispose()


def test_postgres_tests_fail_when_the_server_is_unreachable() -> None:
    env = {**os.environ, POSTGRES_ENV: "postgresql+psycopg://postgres@127.0.0.1:1/test"}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:xdist",
            "tests/test_store.py", "-k", "test_healthy",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode != 0, done.stdout
    summary = done.stdout.strip().splitlines()[-1]
    assert "1 passed" in summary and "1 error" in summary  # SQLite ran; PostgreSQL failed
    assert "is set but PostgreSQL cannot be used" in done.stdout
    assert "skipped" not in done.stdout


PENDING_INDEXES = {"ix_reminder_pending": "reminder", "ix_outbox_pending": "outbox",
                   "ix_webhook_delivery_pending": "webhook_delivery"}


def _pending_wheres(conn: sa.Connection) -> dict[str, str]:
    """Each queue's claim index as the database reports it: name -> its WHERE, normalised."""
    inspector = sa.inspect(conn)
    found = {}
    for name, table in PENDING_INDEXES.items():
        for index in inspector.get_indexes(table):
            if index["name"] == name:
                options = index.get("dialect_options", {})
                where = options.get(f"{conn.dialect.name}_where")
                found[name] = " ".join(str(where).strip("()").split()).lower()
    return found


def test_the_models_create_the_partial_claim_indexes_the_migrations_do(engine: Engine) -> None:
    """The models give an index's WHERE to the backend that creates it (bot.store.columns,
    so serving SQLite never loads the PostgreSQL dialect): what the models create is still the
    migrations' partial index, on each backend."""
    with engine.connect() as conn:
        migrated = _pending_wheres(conn)
    assert migrated == {"ix_reminder_pending": "sent_at is null",
                        "ix_outbox_pending": "sent_at is null",
                        "ix_webhook_delivery_pending": "done_at is null"}
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS getkey_models_only CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA getkey_models_only")
            conn.exec_driver_sql("SET search_path TO getkey_models_only")
            try:
                SQLModel.metadata.create_all(conn)
                assert _pending_wheres(conn) == migrated
            finally:
                conn.rollback()
        else:
            fresh = sa.create_engine("sqlite://")
            with fresh.begin() as fresh_conn:
                SQLModel.metadata.create_all(fresh_conn)
                assert _pending_wheres(fresh_conn) == migrated
            fresh.dispose()
