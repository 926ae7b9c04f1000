"""The audit trail: append-only rows (database triggers refuse UPDATE and DELETE), written in
the transaction of the change they describe, never holding a secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.store.base import StoreCore
from bot.store.info import AuditEventInfo
from bot.store.models import AuditEvent, Credential


class Described(Protocol):
    """What an audit row names of a credential: a tracked row or its read model."""

    @property
    def id(self) -> str: ...
    @property
    def team_id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def platform(self) -> str: ...
    @property
    def identity(self) -> str: ...


def event_values(
    action: str, *, actor: str, at: datetime, cred: Described | None = None, detail: str = ""
) -> dict[str, Any]:
    """One event's row, as values (a Core insert, bot.store.saving; or `record`)."""
    return {
        "at": at,
        "action": action,
        "actor": actor[:200],
        "credential_id": cred.id if cred else None,
        "team_id": cred.team_id if cred else None,
        "user_id": cred.user_id if cred else None,
        "platform": cred.platform if cred else None,
        "identity": cred.identity if cred else None,
        "detail": detail[:2000],
    }


def record(
    session: Session,
    action: str,
    *,
    actor: str,
    at: datetime,
    cred: Credential | None = None,
    detail: str = "",
) -> None:
    """Add one event to the caller's transaction."""
    session.add(AuditEvent(**event_values(action, actor=actor, at=at, cred=cred, detail=detail)))


class AuditReads(StoreCore):
    def audit_events(self, credential_id: str | None = None) -> list[AuditEventInfo]:
        with self._session(write=False) as s:
            query = sa.select(AuditEvent).order_by(AuditEvent.id)
            if credential_id is not None:
                query = query.where(AuditEvent.credential_id == credential_id)
            return [AuditEventInfo.model_validate(e) for e in s.scalars(query)]
