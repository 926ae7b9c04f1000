"""Initial schema: credentials, encrypted secret values, reminders, audit trail, submissions.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "credential",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("platform", sa.String(40), nullable=False),
        sa.Column("identity", sa.String(300), nullable=False),
        sa.Column("store_name", sa.String(300), nullable=True),
        sa.Column("identifiers", sa.JSON, nullable=True),
        sa.Column("masked", sa.String(40), nullable=False),
        sa.Column("masked_field", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(2000), nullable=False),
        _ts("verified_at"),
        _ts("last_checked_at"),
        _ts("next_check_at"),
        _ts("expires_at"),
        sa.Column("rotation_days", sa.Integer, nullable=True),
        _ts("rotation_due_at"),
        _ts("created_at", nullable=False),
        _ts("rotated_at"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("reminders_stopped", sa.Boolean, nullable=False),
        _ts("snoozed_until"),
        sa.Column("failing_notified", sa.Boolean, nullable=False),
        sa.UniqueConstraint(
            "team_id", "user_id", "platform", "identity", name="uq_credential_owner"
        ),
    )
    op.create_index("ix_credential_next_check_at", "credential", ["next_check_at"])

    op.create_table(
        "secret_value",
        sa.Column(
            "credential_id",
            sa.String(32),
            sa.ForeignKey("credential.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("field", sa.String(64), primary_key=True),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
    )
    op.create_index("ix_secret_value_key_id", "secret_value", ["key_id"])

    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "credential_id",
            sa.String(32),
            sa.ForeignKey("credential.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("credential_version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
        _ts("due_at", nullable=False),
        _ts("claimed_at"),
        _ts("claimed_until"),
        _ts("sent_at"),
        sa.UniqueConstraint(
            "credential_id", "credential_version", "stage", "origin", name="uq_reminder_stage"
        ),
        # Ids are never reused: a stale reminder id must not reach a newer reminder.
        sqlite_autoincrement=True,
    )
    op.create_index("ix_reminder_credential_id", "reminder", ["credential_id"])
    # The sweep only ever looks at unsent reminders: a partial index stays small however
    # much history accumulates.
    op.create_index(
        "ix_reminder_pending",
        "reminder",
        ["due_at"],
        sqlite_where=sa.text("sent_at IS NULL"),
        postgresql_where=sa.text("sent_at IS NULL"),
    )

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _ts("at", nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("credential_id", sa.String(32), nullable=True),
        sa.Column("team_id", sa.String(32), nullable=True),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("platform", sa.String(40), nullable=True),
        sa.Column("identity", sa.String(300), nullable=True),
        sa.Column("detail", sa.String(2000), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_event_credential_id", "audit_event", ["credential_id"])

    op.create_table(
        "submission",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("credential_id", sa.String(32), nullable=False),
        sa.Column("replaced", sa.Boolean, nullable=False),
        _ts("created_at", nullable=False),
    )

    # The audit trail is append-only in the database itself, not just by convention.
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    op.drop_table("submission")
    op.drop_table("audit_event")
    op.drop_table("reminder")
    op.drop_table("secret_value")
    op.drop_table("credential")
