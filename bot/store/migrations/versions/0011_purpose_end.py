"""What a key is for and until when (issue 19): a credential's purpose (read / write) and
optional end date; a request can fix both; a workspace has a default purpose and a support
contact.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDED = (
    ("credential", "purpose"),
    ("credential", "needed_until"),
    ("credential_request", "purpose"),
    ("credential_request", "needed_until"),
    ("workspace", "purpose"),
    ("workspace", "support_contact"),
)


def upgrade() -> None:
    op.add_column(
        "credential",
        sa.Column("purpose", sa.String(8), nullable=False, server_default="read"),
    )
    op.add_column(
        "credential", sa.Column("needed_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("credential_request", sa.Column("purpose", sa.String(8), nullable=True))
    op.add_column(
        "credential_request", sa.Column("needed_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("workspace", sa.Column("purpose", sa.String(8), nullable=True))
    op.add_column("workspace", sa.Column("support_contact", sa.String(300), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN (see 0002): a batch copy would rebuild the table.
    for table, column in reversed(ADDED):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
