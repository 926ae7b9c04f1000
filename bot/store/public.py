"""The public view of a credential: the one object the tool API (`/api/v1/credentials`), the
change feed (`/api/v1/changes`) and the webhooks say about a credential. Metadata only: never a
value, not even masked. docs/handoff.md documents every field.

`status` is bot.vocabulary.CredentialStatus at the moment the object is made: for a change, the
moment of the change (a `credential.expiring` event says `expiring`, or `expired` on its last
day), for the API, the moment of the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.store.info import CredentialInfo, status_of
from bot.store.models import Credential
from bot.vocabulary import CredentialStatus


@dataclass(frozen=True)
class PublicCredential:
    id: str
    platform: str
    identity: str  # the platform's id of the store or account the key is for
    store_name: str | None
    identifiers: dict[str, str]  # the non-secret fields that name the store (e.g. a store URL)
    status: CredentialStatus
    owner: str  # Slack user id of the person it belongs to
    provided_by: str | None  # Slack user id of who typed it in at the owner's request
    version: int  # 1, then +1 for each replacement (rotation)
    verified_at: datetime | None  # last time the platform accepted it
    last_checked_at: datetime | None  # last check, whatever its outcome
    expires_at: datetime | None
    rotation_due_at: datetime | None
    missing_permissions: tuple[str, ...]
    purpose: str = "read"  # "read" (export, audit, sync out) or "write" (import, sync in)
    needed_until: datetime | None = None  # the job's end: getkey deletes the key then

    @classmethod
    def of(cls, info: CredentialInfo) -> PublicCredential:
        return cls(
            id=info.id,
            platform=info.platform,
            identity=info.identity,
            store_name=info.store_name,
            identifiers=dict(info.identifiers),
            status=CredentialStatus(info.status),
            owner=info.user_id,
            provided_by=info.provided_by,
            version=info.version,
            verified_at=info.verified_at,
            last_checked_at=info.last_checked_at,
            expires_at=info.expires_at,
            rotation_due_at=info.rotation_due_at,
            missing_permissions=tuple(info.missing or ()),
            purpose=info.purpose,
            needed_until=info.needed_until,
        )

    @classmethod
    def of_row(cls, cred: Credential | sa.Row[Any], now: datetime) -> PublicCredential:
        """From a row inside a transaction (the change log), with its status as of `now`: read
        straight from the row (a sweep writes one per reminder; no read model in between)."""
        return cls(
            id=cred.id,
            platform=cred.platform,
            identity=cred.identity,
            store_name=cred.store_name,
            identifiers=dict(cred.identifiers or {}),
            status=status_of(cred, now),
            owner=cred.user_id,
            provided_by=cred.provided_by,
            version=cred.version,
            verified_at=cred.verified_at,
            last_checked_at=cred.last_checked_at,
            expires_at=cred.expires_at,
            rotation_due_at=cred.rotation_due_at,
            missing_permissions=tuple(cred.missing or ()),
            purpose=cred.purpose,
            needed_until=cred.needed_until,
        )

    def json(self) -> dict[str, Any]:
        """The JSON object (dates in ISO 8601 with their UTC offset)."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "platform": self.platform,
            "identity": self.identity,
            "store_name": self.store_name,
            "identifiers": dict(self.identifiers),
            "status": str(self.status),
            "owner": self.owner,
            "provided_by": self.provided_by,
            "version": self.version,
            "verified_at": iso(self.verified_at),
            "last_checked_at": iso(self.last_checked_at),
            "expires_at": iso(self.expires_at),
            "rotation_due_at": iso(self.rotation_due_at),
            "missing_permissions": list(self.missing_permissions),
            "purpose": self.purpose,
            "needed_until": iso(self.needed_until),
        }
