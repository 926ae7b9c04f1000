"""Hand-off: credential requests, the provider of a credential, API tokens, webhooks and their
durable delivery outbox, and the change log.

Revision ID: 0004
Revises: 0002
Create Date: 2025-03-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("done_at IS NULL")


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # The person who typed the credential in when it was asked of them (None: the owner did).
    op.add_column("credential", sa.Column("provided_by", sa.String(32), nullable=True))

    op.create_table(
        "credential_request",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("provider_id", sa.String(32), nullable=False),
        sa.Column("platform", sa.String(40), nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(300), nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        _ts("nudge_at"),
        _ts("nudged_at"),
        _ts("expires_at", nullable=False),
        sa.Column("credential_id", sa.String(32), nullable=True),
    )
    op.create_index(
        "ix_credential_request_requester", "credential_request", ["team_id", "user_id", "state"]
    )
    op.create_index(
        "ix_credential_request_provider", "credential_request", ["team_id", "provider_id"]
    )
    op.create_index("ix_credential_request_due", "credential_request", ["state", "expires_at"])

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("platforms", sa.JSON, nullable=True),
        _ts("created_at", nullable=False),
        _ts("revoked_at"),
        _ts("last_used_at"),
    )
    op.create_index("ix_api_token_team_id", "api_token", ["team_id"])

    op.create_table(
        "webhook",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(32), nullable=False, unique=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret_token", sa.Text, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        _ts("created_at", nullable=False),
    )

    op.create_table(
        "change_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        _ts("at", nullable=False),
        sa.Column("credential_id", sa.String(32), nullable=True),
        sa.Column("platform", sa.String(40), nullable=True),
        sa.Column("data", sa.JSON, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_change_event_team", "change_event", ["team_id", "id"])

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "webhook_id",
            sa.Integer,
            sa.ForeignKey("webhook.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("change_id", sa.Integer, nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        _ts("created_at", nullable=False),
        _ts("next_attempt_at", nullable=False),
        _ts("claimed_until"),
        sa.Column("attempts", sa.Integer, nullable=False),
        _ts("done_at"),
        sa.Column("delivered", sa.Boolean, nullable=False),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.String(200), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_webhook_delivery_webhook_id", "webhook_delivery", ["webhook_id"])
    op.create_index(
        "ix_webhook_delivery_pending",
        "webhook_delivery",
        ["next_attempt_at", "id"],
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )

    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "delivery_id",
            sa.Integer,
            sa.ForeignKey("webhook_delivery.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _ts("at", nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("error", sa.String(200), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_webhook_attempt_delivery_id", "webhook_attempt", ["delivery_id"])


def downgrade() -> None:
    op.drop_table("webhook_attempt")
    op.drop_table("webhook_delivery")
    op.drop_table("change_event")
    op.drop_table("webhook")
    op.drop_table("api_token")
    op.drop_table("credential_request")
    # Native DROP COLUMN (see 0002): a batch copy would cascade into the secrets.
    op.execute("ALTER TABLE credential DROP COLUMN provided_by")
