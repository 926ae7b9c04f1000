"""Request messages and policies: the outbox can carry a message about a credential request
(opened, failed, expired, withdrawn, nudge), and a workspace can set its own request nudge and
expiry delays.

Revision ID: 0005
Revises: 0004
Create Date: 2025-03-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No foreign key, like credential_id: the sender drops a message whose subject is gone.
    op.add_column("outbox", sa.Column("request_id", sa.String(32), nullable=True))
    op.create_table(
        "request_policy",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("nudge_days", sa.Integer, nullable=True),
        sa.Column("expire_days", sa.Integer, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("request_policy")
    # Native DROP COLUMN (see 0002): a batch copy would rebuild the table.
    op.execute("ALTER TABLE outbox DROP COLUMN request_id")
