"""Requests keep the requester's Enterprise Grid org (so what is provided is stored under the
whole identity) and when "Send again" was last used (at most once an hour).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("credential_request", sa.Column("enterprise_id", sa.String(32), nullable=True))
    op.add_column(
        "credential_request", sa.Column("resent_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    # Native DROP COLUMN (see 0002): a batch copy would rebuild the table.
    for name in ("resent_at", "enterprise_id"):
        op.execute(f"ALTER TABLE credential_request DROP COLUMN {name}")
