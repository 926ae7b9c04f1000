"""Audit retention: audit_event stays append-only, except that rows older than 90 days may be
deleted (the retention job, GETKEY_RETENTION_AUDIT_DAYS). The floor lives in the database, so no
setting, bug or hand-written query can erase recent history. UPDATE stays refused.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLOOR_DAYS = 90  # bot.store.upkeep.AUDIT_FLOOR_DAYS
REFUSAL = "audit_event is append-only"

# SQLite stores times as 'YYYY-MM-DD HH:MM:SS[.ffffff]' UTC text, which compares in order with
# datetime('now', ...) (same layout, seconds precision).
SQLITE_DELETE_GUARD = (
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    f"WHEN OLD.at > datetime('now', '-{FLOOR_DAYS} days') "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL} (rows younger than {FLOOR_DAYS} days)'); END"
)
SQLITE_ORIGINAL = (
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
)
POSTGRES_GUARD = (
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN IF TG_OP = 'DELETE' AND OLD.at < now() - interval '{FLOOR_DAYS} days' THEN "
    f"RETURN OLD; END IF; RAISE EXCEPTION '{REFUSAL}'; END $$"
)
POSTGRES_ORIGINAL = (
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        op.execute(SQLITE_DELETE_GUARD)
    elif dialect == "postgresql":
        op.execute(POSTGRES_GUARD)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        op.execute(SQLITE_ORIGINAL)
    elif dialect == "postgresql":
        op.execute(POSTGRES_ORIGINAL)
