"""Durable outbox, pending submissions, key canaries and heartbeat; per-credential auto_renew;
claim indexes that make each batch an index range scan.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNSENT = sa.text("sent_at IS NULL")


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Existing credentials were stored without the owner's consent to renew: False.
    op.add_column(
        "credential",
        sa.Column("auto_renew", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    # Permissions the last verification found missing (names only), for the messages that
    # are rendered later from the row (the outbox's confirmation DM).
    op.add_column("credential", sa.Column("missing", sa.JSON, nullable=True))

    # Claims order by (time, id): with both in the index, a batch reads its LIMIT rows in
    # index order instead of sorting the whole due backlog first.
    op.drop_index("ix_reminder_pending", table_name="reminder")
    op.create_index(
        "ix_reminder_pending",
        "reminder",
        ["due_at", "id"],
        sqlite_where=_UNSENT,
        postgresql_where=_UNSENT,
    )
    op.drop_index("ix_credential_next_check_at", table_name="credential")
    op.create_index("ix_credential_next_check", "credential", ["next_check_at", "id"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("credential_id", sa.String(32), nullable=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        _ts("created_at", nullable=False),
        _ts("next_attempt_at", nullable=False),
        _ts("claimed_until"),
        sa.Column("attempts", sa.Integer, nullable=False),
        _ts("sent_at"),
        sa.Column("last_error", sa.String(200), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["next_attempt_at", "id"],
        sqlite_where=_UNSENT,
        postgresql_where=_UNSENT,
    )

    op.create_table(
        "pending_submission",
        sa.Column("view_id", sa.String(64), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("platform", sa.String(40), nullable=False),
        _ts("started_at", nullable=False),
        _ts("claimed_until"),
    )
    op.create_index(
        "ix_pending_submission_started_at", "pending_submission", ["started_at"]
    )

    op.create_table(
        "key_canary",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("token", sa.Text, nullable=False),
        _ts("created_at", nullable=False),
    )
    op.create_table(
        "heartbeat",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        _ts("at", nullable=False),
    )


def downgrade() -> None:
    op.drop_table("heartbeat")
    op.drop_table("key_canary")
    op.drop_table("pending_submission")
    op.drop_table("outbox")
    op.drop_index("ix_credential_next_check", table_name="credential")
    op.create_index("ix_credential_next_check_at", "credential", ["next_check_at"])
    op.drop_index("ix_reminder_pending", table_name="reminder")
    op.create_index(
        "ix_reminder_pending",
        "reminder",
        ["due_at"],
        sqlite_where=_UNSENT,
        postgresql_where=_UNSENT,
    )
    # Native DROP COLUMN (SQLite 3.35+): a batch copy of the table would drop the original,
    # and with foreign keys on that would cascade into the secrets.
    op.execute("ALTER TABLE credential DROP COLUMN auto_renew")
    op.execute("ALTER TABLE credential DROP COLUMN missing")
