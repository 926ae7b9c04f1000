"""What the Store hands out: plain frozen values, never a secret, safe to pass to renderers.

The credential and audit read models are SQLModel models built on the same base as their
tables, so a column added to the base is exposed without copying it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import Row

from bot.store.models import AuditEventBase, Credential, CredentialBase
from bot.vocabulary import CredentialStatus

EXPIRING_WITHIN = timedelta(days=14)


class CredentialNotFound(LookupError):
    """No credential with this id (deleted, or never existed)."""


class CredentialInfo(CredentialBase):
    """Everything about a credential except its secret. `status` is the public one
    (bot.vocabulary.CredentialStatus: verified, failing, expiring, expired)."""

    model_config = ConfigDict(frozen=True)  # type: ignore[assignment]

    id: str
    next_reminder_at: datetime | None = None

    @classmethod
    def of(
        cls, cred: Credential, now: datetime, upcoming: datetime | None = None
    ) -> CredentialInfo:
        """The read model of a row; `upcoming` is its earliest unsent reminder."""
        next_at = None
        if not cred.reminders_stopped and upcoming is not None:
            next_at = upcoming
            if cred.snoozed_until and cred.snoozed_until > next_at:
                next_at = cred.snoozed_until
        # The row's columns are already typed (bot.store.models): built without validating
        # them again, which was most of the cost of a sweep's batch of 500.
        values = {name: getattr(cred, name) for name in _COLUMNS}
        values["identifiers"] = dict(cred.identifiers or {})
        values["status"] = str(status_of(cred, now))
        values["next_reminder_at"] = next_at
        return cls.model_construct(**values)

    def replace(self, **changes: object) -> CredentialInfo:
        """A copy with some fields changed (for tests and renderers)."""
        return self.model_copy(update=changes)


_COLUMNS = tuple(name for name in CredentialInfo.model_fields if name != "next_reminder_at")


class AuditEventInfo(AuditEventBase):
    model_config = ConfigDict(frozen=True)  # type: ignore[assignment]

    id: int


@dataclass(frozen=True)
class Saved:
    credential: CredentialInfo
    replaced: bool
    duplicate: bool


@dataclass(frozen=True)
class DueReminder:
    reminder_id: int
    credential: CredentialInfo
    kind: str  # bot.vocabulary.ReminderKind
    stage: str  # bot.vocabulary.Stage, stored form
    due_at: datetime


@dataclass(frozen=True)
class RotateReport:
    total: int
    reencrypted: int
    already_current: int


def status_of(cred: Credential | Row[Any], now: datetime) -> CredentialStatus:
    """The public status (bot.vocabulary.CredentialStatus documents each value)."""
    if cred.expires_at is not None and cred.expires_at <= now:
        return CredentialStatus.EXPIRED
    if cred.status == CredentialStatus.FAILING:
        return CredentialStatus.FAILING
    if cred.expires_at is not None and cred.expires_at - now <= EXPIRING_WITHIN:
        return CredentialStatus.EXPIRING
    return CredentialStatus.VERIFIED


@dataclass(frozen=True)
class Actor:
    """Who asks: a Slack user of a workspace. The only audit actor format for Slack surfaces."""

    team_id: str
    user_id: str
    # Enterprise Grid org the request came from (None outside Grid).
    enterprise_id: str | None = None

    @property
    def audit(self) -> str:
        return f"slack:{self.team_id}:{self.user_id}"

    def owns(self, info: CredentialInfo) -> bool:
        return self == Actor(info.team_id, info.user_id, info.enterprise_id)

    def same_workspace(self, info: CredentialInfo) -> bool:
        return info.enterprise_id == self.enterprise_id and info.team_id == self.team_id


# -- outcomes -----------------------------------------------------------------------------------
