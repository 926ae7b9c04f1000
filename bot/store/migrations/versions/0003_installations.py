"""Slack installations (tokens encrypted), OAuth state, workspaces (uninstalls, admin
settings); credentials scoped by enterprise as well as team, and owners who left.

Revision ID: 0003
Revises: 0002
Create Date: 2025-03-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Enterprise Grid: the org a credential's workspace belongs to (None outside Grid).
    op.add_column("credential", sa.Column("enterprise_id", sa.String(32), nullable=True))
    # The owner was deactivated or can no longer be messaged: reminders go to the admins.
    op.add_column("credential", _ts("owner_gone_at"))
    op.create_index("ix_credential_team", "credential", ["team_id", "enterprise_id"])

    op.create_table(
        "installation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        # '' rather than NULL so that the unique constraint holds on every backend.
        sa.Column("enterprise_id", sa.String(32), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("is_enterprise_install", sa.Boolean, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("bot_token", sa.Text, nullable=True),
        sa.Column("bot_refresh_token", sa.Text, nullable=True),
        sa.Column("bot_token_expires_at", sa.Integer, nullable=True),
        sa.Column("user_token", sa.Text, nullable=True),
        sa.Column("user_refresh_token", sa.Text, nullable=True),
        sa.Column("user_token_expires_at", sa.Integer, nullable=True),
        sa.Column("key_id", sa.String(16), nullable=False),
        _ts("installed_at", nullable=False),
        sa.UniqueConstraint("enterprise_id", "team_id", "user_id", name="uq_installation"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_installation_key_id", "installation", ["key_id"])
    op.create_index("ix_installation_team_id", "installation", ["team_id"])

    op.create_table(
        "workspace",
        sa.Column("enterprise_id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.String(32), primary_key=True),
        _ts("installed_at", nullable=False),
        _ts("uninstalled_at"),
        sa.Column("admin_group", sa.String(32), nullable=True),
        sa.Column("rotation_days", sa.Integer, nullable=True),
        sa.Column("platforms", sa.JSON, nullable=True),
    )

    op.create_table(
        "oauth_state",
        sa.Column("state", sa.String(64), primary_key=True),
        _ts("expires_at", nullable=False),
    )


def downgrade() -> None:
    op.drop_table("oauth_state")
    op.drop_table("workspace")
    op.drop_table("installation")
    op.drop_index("ix_credential_team", table_name="credential")
    op.execute("ALTER TABLE credential DROP COLUMN owner_gone_at")
    op.execute("ALTER TABLE credential DROP COLUMN enterprise_id")
