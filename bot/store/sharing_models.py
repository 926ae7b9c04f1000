"""Tables of the hand-off (issue 12): requests for a credential made to someone else, API
tokens for the tools that use credentials, outbound webhooks and the change log they both
read. Created by migration 0004; they must stay in step with it.

None of these rows holds a secret in clear: API tokens are stored as SHA-256 hashes, webhook
signing secrets are encrypted with the Keyring, and event payloads carry metadata only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.store.columns import pending_index, utc_field


class CredentialRequest(SQLModel, table=True):
    """One person (the requester) asking another (the provider) for a credential."""

    __tablename__ = "credential_request"
    __table_args__ = (
        sa.Index("ix_credential_request_requester", "team_id", "user_id", "state"),
        sa.Index("ix_credential_request_provider", "team_id", "provider_id"),
        # The sweep reads open requests whose nudge or expiry is due.
        sa.Index("ix_credential_request_due", "state", "expires_at"),
        sa.Index("ix_credential_request_link", "link_hash", unique=True),
    )

    id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)  # the requester: owns what is provided
    provider_id: str = Field(max_length=32)
    platform: str = Field(max_length=40)
    note: str = Field(default="", max_length=300)
    channel_id: str | None = Field(default=None, max_length=32)
    # open → opened → failed ↔ opened → fulfilled; or cancelled / expired / withdrawn.
    state: str = Field(default="open", max_length=16)
    # The cause of the last failure in words (never a value typed).
    detail: str = Field(default="", max_length=300)
    created_at: datetime = utc_field(nullable=False)
    updated_at: datetime = utc_field(nullable=False)
    nudge_at: datetime | None = utc_field()
    nudged_at: datetime | None = utc_field()
    expires_at: datetime = utc_field(nullable=False)
    # No foreign key: the request's history outlives a deleted credential.
    credential_id: str | None = Field(default=None, max_length=32)
    # Requests by link (migration 0006): the SHA-256 of the link's token (never the token),
    # failed verifications so far, the name the provider typed, and who asks, for the page.
    link_hash: str | None = Field(default=None, max_length=64)
    failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    provider_name: str = Field(default="", max_length=80, sa_column_kwargs={"server_default": ""})
    requester_name: str = Field(default="", max_length=80, sa_column_kwargs={"server_default": ""})
    team_name: str = Field(default="", max_length=80, sa_column_kwargs={"server_default": ""})
    # Migration 0010: the requester's Grid org (what is provided is stored under it) and the
    # last "Send again" (at most one an hour).
    enterprise_id: str | None = Field(default=None, max_length=32)
    resent_at: datetime | None = utc_field()
    # Migration 0011: what the key is for and until when, fixed by the requester (None: the
    # provider picks).
    purpose: str | None = Field(default=None, max_length=8)
    needed_until: datetime | None = utc_field()


class RequestPolicy(SQLModel, table=True):
    """A workspace's own request delays (migration 0005); None: the settings' defaults."""

    __tablename__ = "request_policy"

    team_id: str = Field(primary_key=True, max_length=32)
    nudge_days: int | None = None
    expire_days: int | None = None


class ApiToken(SQLModel, table=True):
    """A tool's access to one workspace's credentials. Only the token's SHA-256 is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    # None: every platform; else only credentials of these platforms are visible.
    platforms: list[str] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    created_at: datetime = utc_field(nullable=False)
    revoked_at: datetime | None = utc_field()
    last_used_at: datetime | None = utc_field()


class Webhook(SQLModel, table=True):
    """One outbound webhook per workspace; its signing secret is encrypted (AAD: team, url)."""

    __tablename__ = "webhook"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    url: str = Field(max_length=2000)
    secret_token: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    key_id: str = Field(max_length=16)
    created_at: datetime = utc_field(nullable=False)


class ChangeEvent(SQLModel, table=True):
    """Something a tool may want to know (credential.verified, …): the API's change feed (its
    id is the cursor) and the source of webhook deliveries. Metadata only."""

    __tablename__ = "change_event"
    __table_args__ = (
        sa.Index("ix_change_event_team", "team_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    type: str = Field(max_length=40)
    at: datetime = utc_field(nullable=False)
    credential_id: str | None = Field(default=None, max_length=32)
    platform: str | None = Field(default=None, max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON))


class WebhookDelivery(SQLModel, table=True):
    """The durable outbox of webhook calls: one row per event and webhook, written in the
    transaction of the change, retried with backoff until delivered or given up."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        pending_index("ix_webhook_delivery_pending", "next_attempt_at", "id", unset="done_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("webhook.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    change_id: int
    event_type: str = Field(max_length=40)
    created_at: datetime = utc_field(nullable=False)
    next_attempt_at: datetime = utc_field(nullable=False)
    claimed_until: datetime | None = utc_field()
    attempts: int = 0
    # Set when delivered (2xx) or given up; `delivered` says which.
    done_at: datetime | None = utc_field()
    delivered: bool = False
    last_status: int | None = None
    last_error: str = Field(default="", max_length=200)


class WebhookAttempt(SQLModel, table=True):
    """Every try of a delivery: when, what the receiver answered (0: no answer)."""

    __tablename__ = "webhook_attempt"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("webhook_delivery.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    at: datetime = utc_field(nullable=False)
    status: int = 0
    error: str = Field(default="", max_length=200)


HANDOFF_TABLES = (
    "webhook_attempt", "webhook_delivery", "webhook", "change_event", "api_token",
    "credential_request", "request_policy",
)  # fmt: skip
