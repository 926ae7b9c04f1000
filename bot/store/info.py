"""What the Store hands out: plain frozen values, never a secret, safe to pass to renderers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.store.models import Credential

EXPIRING_WITHIN = timedelta(days=14)


class CredentialNotFound(LookupError):
    """No credential with this id (deleted, or never existed)."""


@dataclass(frozen=True)
class CredentialInfo:
    """Everything about a credential except its secret."""

    id: str
    team_id: str
    user_id: str
    platform: str
    identity: str
    store_name: str | None
    identifiers: dict[str, str]
    masked: str
    status: str  # 'verified' | 'failing' | 'expiring' | 'expired'
    verified_at: datetime | None
    last_checked_at: datetime | None
    detail: str
    expires_at: datetime | None
    rotation_days: int | None
    rotation_due_at: datetime | None
    next_reminder_at: datetime | None
    created_at: datetime
    rotated_at: datetime | None
    reminders_stopped: bool
    snoozed_until: datetime | None
    version: int = 1


@dataclass(frozen=True)
class Saved:
    credential: CredentialInfo
    replaced: bool
    duplicate: bool


@dataclass(frozen=True)
class DueReminder:
    reminder_id: int
    credential: CredentialInfo
    kind: str  # 'expiry' | 'rotation'
    stage: str
    due_at: datetime


@dataclass(frozen=True)
class RotateReport:
    total: int
    reencrypted: int
    already_current: int


@dataclass(frozen=True)
class AuditEventInfo:
    id: int
    at: datetime
    action: str
    actor: str
    credential_id: str | None
    team_id: str | None
    user_id: str | None
    platform: str | None
    identity: str | None
    detail: str


def status_of(cred: Credential, now: datetime) -> str:
    if cred.expires_at is not None and cred.expires_at <= now:
        return "expired"
    if cred.status == "failing":
        return "failing"
    if cred.expires_at is not None and cred.expires_at - now <= EXPIRING_WITHIN:
        return "expiring"
    return "verified"
