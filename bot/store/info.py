"""What the Store hands out: plain frozen values, never a secret, safe to pass to renderers.

The credential and audit read models are SQLModel models built on the same base as their
tables, so a column added to the base is exposed without copying it here.
"""

from __future__ import annotations

from collections.abc import Mapping
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
        cls, cred: Credential | Row[Any], now: datetime, upcoming: datetime | None = None
    ) -> CredentialInfo:
        """The read model of a row (tracked, or plain from the credential table); `upcoming`
        is its earliest unsent reminder."""
        # The row's columns are already typed (bot.store.models): built without validating
        # them again, which was most of the cost of a sweep's batch of 500.
        values = {name: getattr(cred, name) for name in _COLUMNS}
        values["identifiers"] = dict(cred.identifiers or {})
        values["status"] = str(status_of(cred, now))
        values["next_reminder_at"] = _next_at(cred.reminders_stopped, cred.snoozed_until, upcoming)
        return cls.model_construct(**values)

    @classmethod
    def of_values(
        cls, values: Mapping[str, Any], now: datetime, upcoming: datetime | None = None
    ) -> CredentialInfo:
        """The read model of a row read as plain values (bot.store.prepared), one per field,
        already typed by the columns' conversions (so not validated again, as `of`)."""
        return cls.model_construct(**{
            **values,
            "identifiers": dict(values["identifiers"] or {}),
            "status": str(shown_status(values["status"], values["expires_at"], now)),
            "next_reminder_at": _next_at(
                values["reminders_stopped"], values["snoozed_until"], upcoming
            ),
        })  # fmt: skip

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
    return shown_status(cred.status, cred.expires_at, now)


def shown_status(stored: str, expires_at: datetime | None, now: datetime) -> CredentialStatus:
    if expires_at is not None and expires_at <= now:
        return CredentialStatus.EXPIRED
    if stored == CredentialStatus.FAILING:
        return CredentialStatus.FAILING
    if expires_at is not None and expires_at - now <= EXPIRING_WITHIN:
        return CredentialStatus.EXPIRING
    return CredentialStatus.VERIFIED


def _next_at(
    stopped: bool, snoozed_until: datetime | None, upcoming: datetime | None
) -> datetime | None:
    """When the next reminder goes: the earliest unsent one, not before a snooze ends."""
    if stopped or upcoming is None:
        return None
    return snoozed_until if snoozed_until and snoozed_until > upcoming else upcoming


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
