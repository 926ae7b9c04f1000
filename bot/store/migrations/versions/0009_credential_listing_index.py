"""An index for an admin's pages of a workspace's keys (issue 21): (team_id, platform, identity,
user_id), the order the admin view shows them in, so a page is a range read with a limit.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_credential_team_listing",
        "credential",
        ["team_id", "platform", "identity", "user_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_credential_team_listing", table_name="credential")
