"""Back-off for credentials whose token no longer works: the number of consecutive re-checks
that ended "token invalid", so the next one comes later each time and then not at all until the
owner acts (issue 18).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows start with no invalid answer counted: the next refusal starts the ladder.
    op.add_column(
        "credential",
        sa.Column("invalid_checks", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    # Native DROP COLUMN (see 0002): a batch copy would rebuild the table.
    op.execute("ALTER TABLE credential DROP COLUMN invalid_checks")
