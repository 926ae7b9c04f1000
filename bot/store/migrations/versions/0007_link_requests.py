"""Requests by link (issue 22): a request can be answered by whoever opens a secret link. The
link's token is stored as a SHA-256 hash only; failed verifications are counted (the link
locks after too many), and the requester's and provider's names are kept for the page.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("link_hash", "failures", "provider_name", "requester_name", "team_name")


def upgrade() -> None:
    op.add_column("credential_request", sa.Column("link_hash", sa.String(64), nullable=True))
    op.add_column(
        "credential_request",
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    )
    for name in COLUMNS[2:]:
        op.add_column(
            "credential_request",
            sa.Column(name, sa.String(80), nullable=False, server_default=""),
        )
    op.create_index(
        "ix_credential_request_link", "credential_request", ["link_hash"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_credential_request_link", table_name="credential_request")
    # Native DROP COLUMN (see 0002): a batch copy would rebuild the table.
    for name in reversed(COLUMNS):
        op.execute(f"ALTER TABLE credential_request DROP COLUMN {name}")
