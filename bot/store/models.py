"""Tables. The schema itself is created by the Alembic migrations (migrations/versions); these
classes describe the same tables for queries and must stay in step with them.

Times are UTC columns (bot.store.columns).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.clock import utcnow
from bot.store.columns import UtcDateTime, pending_index, utc_field

# Re-exported for older imports: bot.clock and bot.store.columns are the definitions.
__all__ = ["UtcDateTime", "utcnow"]


class CredentialBase(SQLModel):
    """The columns a credential shares with its read model (bot.store.info.CredentialInfo)."""

    # Enterprise Grid org of the workspace (None outside Grid): with team_id, the scope of
    # every read and write.
    enterprise_id: str | None = Field(default=None, max_length=32)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    platform: str = Field(max_length=40)
    identity: str = Field(max_length=300)
    store_name: str | None = Field(default=None, max_length=300)
    identifiers: dict[str, str] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON))
    masked: str = Field(default="", max_length=40)
    status: str = Field(default="verified", max_length=16)
    detail: str = Field(default="", max_length=2000)
    verified_at: datetime | None = utc_field()
    last_checked_at: datetime | None = utc_field()
    expires_at: datetime | None = utc_field()
    rotation_days: int | None = None
    rotation_due_at: datetime | None = utc_field()
    created_at: datetime = utc_field(nullable=False)
    rotated_at: datetime | None = utc_field()
    version: int = 1
    reminders_stopped: bool = False
    snoozed_until: datetime | None = utc_field()
    # The owner agreed that getkey renews this credential by itself (R-Series tokens).
    auto_renew: bool = False
    # Permissions the last verification found missing (names, never values).
    missing: list[str] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    # Who typed it in when it was asked of them (a request); None when the owner did.
    provided_by: str | None = Field(default=None, max_length=32)
    # The owner was deactivated or cannot be messaged: reminders go to the workspace admins
    # until one of them takes the credential over.
    owner_gone_at: datetime | None = utc_field()
    # What the key is for (flows.purpose: "read" or "write") and, when it is for one job, the
    # day that job ends: no rotation reminders then, "still needed?" before it, deleted at it.
    purpose: str = Field(default="read", max_length=8, sa_column_kwargs={"server_default": "read"})
    needed_until: datetime | None = utc_field()


class Credential(CredentialBase, table=True):
    __tablename__ = "credential"
    __table_args__ = (
        sa.UniqueConstraint(
            "team_id", "user_id", "platform", "identity", name="uq_credential_owner"
        ),
        # Re-check claims read due rows in (next_check_at, id) order: a range scan with LIMIT.
        sa.Index("ix_credential_next_check", "next_check_at", "id"),
        sa.Index("ix_credential_team", "team_id", "enterprise_id"),
        # An admin's pages of a workspace's keys, in their shown order (bot.store.listing).
        sa.Index("ix_credential_team_listing", "team_id", "platform", "identity", "user_id"),
    )

    id: str = Field(primary_key=True, max_length=32)
    masked_field: str = Field(default="", max_length=64)
    next_check_at: datetime | None = utc_field()
    failing_notified: bool = False
    # Consecutive re-checks that ended "token invalid": they set the back-off (bot.store.checks)
    # and, past the last step, stop re-checks until the owner submits the key again.
    invalid_checks: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class SecretValue(SQLModel, table=True):
    __tablename__ = "secret_value"

    credential_id: str = Field(
        sa_column=sa.Column(
            sa.String(32), sa.ForeignKey("credential.id", ondelete="CASCADE"), primary_key=True
        )
    )
    field: str = Field(primary_key=True, max_length=64)
    # gk1.<key id>.<ciphertext>; key_id is repeated in its own column so rotation can find
    # the rows still under an old key with an index instead of parsing every token.
    token: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    key_id: str = Field(max_length=16, index=True)


class Reminder(SQLModel, table=True):
    __tablename__ = "reminder"
    __table_args__ = (
        sa.UniqueConstraint(
            "credential_id", "credential_version", "stage", "origin", name="uq_reminder_stage"
        ),
        # Claims read unsent rows in (due_at, id) order: a range scan with LIMIT.
        pending_index("ix_reminder_pending", "due_at", "id", unset="sent_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    credential_id: str = Field(
        sa_column=sa.Column(
            sa.String(32),
            sa.ForeignKey("credential.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    credential_version: int
    kind: str = Field(max_length=16)  # 'expiry' | 'rotation'
    stage: str = Field(max_length=40)
    # 'plan' for the schedule, 'snooze:<time>' for a follow-up asked for by a snooze.
    origin: str = Field(default="plan", max_length=64)
    due_at: datetime = utc_field(nullable=False)
    claimed_at: datetime | None = utc_field()
    claimed_until: datetime | None = utc_field()
    sent_at: datetime | None = utc_field()


class AuditEventBase(SQLModel):
    at: datetime = utc_field(nullable=False)
    action: str = Field(max_length=32)
    actor: str = Field(max_length=200)
    # No foreign key: the trail must outlive the credential it describes.
    credential_id: str | None = Field(default=None, max_length=32, index=True)
    team_id: str | None = Field(default=None, max_length=32)
    user_id: str | None = Field(default=None, max_length=32)
    platform: str | None = Field(default=None, max_length=40)
    identity: str | None = Field(default=None, max_length=300)
    detail: str = Field(default="", max_length=2000)


class AuditEvent(AuditEventBase, table=True):
    """Append-only (database triggers refuse UPDATE and DELETE). Never holds a secret."""

    __tablename__ = "audit_event"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)


class Submission(SQLModel, table=True):
    """Idempotency keys: a retried Slack submission finds the first outcome here."""

    __tablename__ = "submission"

    key: str = Field(primary_key=True, max_length=200)
    credential_id: str = Field(max_length=32)
    replaced: bool = False
    created_at: datetime = utc_field(nullable=False)


class OutboxMessage(SQLModel, table=True):
    """A message that must reach a person, written in the transaction of the change it
    reports. Only the intent: the text is rendered when it is sent, and no secret is here."""

    __tablename__ = "outbox"
    __table_args__ = (
        # Claims read the unsent rows in next_attempt_at order: a range scan with LIMIT.
        pending_index("ix_outbox_pending", "next_attempt_at", "id", unset="sent_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # 'stored' | 'replaced' | 'failing' | 'renew-failed'
    # No foreign key: a deleted credential's message is dropped by the sender, not lost here.
    credential_id: str | None = Field(default=None, max_length=32)
    # A message about a credential request (kinds 'request-*'); no foreign key either.
    request_id: str | None = Field(default=None, max_length=32)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    created_at: datetime = utc_field(nullable=False)
    # When the row may be claimed next; a claim pushes it to the end of its lease.
    next_attempt_at: datetime = utc_field(nullable=False)
    claimed_until: datetime | None = utc_field()
    attempts: int = 0
    sent_at: datetime | None = utc_field()
    last_error: str = Field(default="", max_length=200)


class PendingSubmission(SQLModel, table=True):
    """A verification in progress (never any value typed): if the process dies before it
    finishes, the row survives so that the person can be told to submit again."""

    __tablename__ = "pending_submission"

    view_id: str = Field(primary_key=True, max_length=64)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    platform: str = Field(max_length=40)
    started_at: datetime = utc_field(nullable=False, index=True)
    claimed_until: datetime | None = utc_field()


class KeyCanary(SQLModel, table=True):
    """A small known value encrypted under each key id: proves the keyring still opens it."""

    __tablename__ = "key_canary"

    key_id: str = Field(primary_key=True, max_length=16)
    token: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = utc_field(nullable=False)


class Heartbeat(SQLModel, table=True):
    """One row rewritten by every health check: proves the database accepts writes."""

    __tablename__ = "heartbeat"

    id: int = Field(default=1, primary_key=True)
    at: datetime = utc_field(nullable=False)


class InstallationRow(SQLModel, table=True):
    """One Slack installation (bot, and the installer's user token if any). Tokens are
    keyring ciphertexts bound to (enterprise, team, user, column); `data` holds the rest of
    slack_sdk's Installation, none of it secret. '' stands for "none" in the id columns."""

    __tablename__ = "installation"
    __table_args__ = (
        sa.UniqueConstraint("enterprise_id", "team_id", "user_id", name="uq_installation"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: str = Field(default="", max_length=32)
    team_id: str = Field(default="", max_length=32, index=True)
    user_id: str = Field(default="", max_length=32)
    is_enterprise_install: bool = False
    data: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    bot_token: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    bot_refresh_token: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    bot_token_expires_at: int | None = None
    user_token: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    user_refresh_token: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    user_token_expires_at: int | None = None
    key_id: str = Field(max_length=16, index=True)
    installed_at: datetime = utc_field(nullable=False)


class Workspace(SQLModel, table=True):
    """A workspace (or a Grid org, team_id '') that installed getkey by OAuth: whether it is
    still installed, and the settings its admins chose."""

    __tablename__ = "workspace"

    enterprise_id: str = Field(default="", primary_key=True, max_length=32)
    team_id: str = Field(default="", primary_key=True, max_length=32)
    installed_at: datetime = utc_field(nullable=False)
    uninstalled_at: datetime | None = utc_field()
    # A user group whose members are admins here (else Slack's owners and admins).
    admin_group: str | None = Field(default=None, max_length=32)
    rotation_days: int | None = None
    # Platform ids offered in this workspace (None: all of them).
    platforms: list[str] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    # What keys are for unless said otherwise, and whom people ask for help (a person, a
    # channel, a URL or an email address), chosen by the workspace's admins.
    purpose: str | None = Field(default=None, max_length=8)
    support_contact: str | None = Field(default=None, max_length=300)


class OAuthState(SQLModel, table=True):
    """An install in progress: issued by one instance, consumed once by whichever finishes."""

    __tablename__ = "oauth_state"

    state: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = utc_field(nullable=False)


# Every table of this module (bot.store.tables adds the hand-off ones).
CORE_TABLES = (
    "submission", "audit_event", "reminder", "secret_value", "credential", "outbox",
    "pending_submission", "key_canary", "heartbeat", "installation", "workspace", "oauth_state",
)  # fmt: skip
