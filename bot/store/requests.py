"""Requests for a credential made to someone else: open, open the form, fail, fulfil, cancel,
expire. The requester owns what is provided; the request keeps who provided it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.store import changes
from bot.store.base import StoreCore
from bot.store.handoff_models import CredentialRequest

OPEN_STATES = ("open", "opened", "failed")


@dataclass(frozen=True)
class RequestInfo:
    id: str
    team_id: str
    user_id: str  # the requester
    provider_id: str
    platform: str
    note: str
    channel_id: str | None
    state: str
    detail: str
    created_at: datetime
    expires_at: datetime
    credential_id: str | None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


def _info(row: CredentialRequest) -> RequestInfo:
    return RequestInfo(
        id=row.id,
        team_id=row.team_id,
        user_id=row.user_id,
        provider_id=row.provider_id,
        platform=row.platform,
        note=row.note,
        channel_id=row.channel_id,
        state=row.state,
        detail=row.detail,
        created_at=row.created_at,
        expires_at=row.expires_at,
        credential_id=row.credential_id,
    )


class TooManyOpen(Exception):
    """The requester already has the maximum number of open requests."""


class Requests(StoreCore):
    def open_request(
        self,
        *,
        team_id: str,
        user_id: str,
        provider_id: str,
        platform: str,
        note: str,
        channel_id: str | None,
        nudge_after: timedelta,
        expire_after: timedelta,
        max_open: int,
    ) -> RequestInfo:
        """A new open request; TooManyOpen past `max_open` (counted in the same transaction)."""
        now = self._now()
        with self._session(write=True) as s:
            count = s.scalar(
                sa.select(sa.func.count())
                .select_from(CredentialRequest)
                .where(
                    CredentialRequest.team_id == team_id,
                    CredentialRequest.user_id == user_id,
                    CredentialRequest.state.in_(OPEN_STATES),
                )
            )
            if (count or 0) >= max_open:
                raise TooManyOpen(str(max_open))
            row = CredentialRequest(
                id=uuid.uuid4().hex,
                team_id=team_id,
                user_id=user_id,
                provider_id=provider_id,
                platform=platform,
                note=note[:300],
                channel_id=channel_id,
                state="open",
                created_at=now,
                updated_at=now,
                nudge_at=now + nudge_after,
                expires_at=now + expire_after,
            )
            s.add(row)
            s.flush()
            return _info(row)

    def get_request(self, request_id: str) -> RequestInfo | None:
        with self._session(write=False) as s:
            row = s.get(CredentialRequest, request_id)
            return _info(row) if row else None

    def requests_of(self, team_id: str, user_id: str) -> list[RequestInfo]:
        """Requests made by this person, newest first."""
        with self._session(write=False) as s:
            rows = s.scalars(
                sa.select(CredentialRequest)
                .where(CredentialRequest.team_id == team_id, CredentialRequest.user_id == user_id)
                .order_by(CredentialRequest.created_at.desc())
            ).all()
            return [_info(r) for r in rows]

    def request_moved(
        self,
        request_id: str,
        state: str,
        *,
        detail: str = "",
        credential_id: str | None = None,
        only_open: bool = True,
    ) -> RequestInfo | None:
        """Move a request to `state`; None if it is gone or (with only_open) already closed."""
        now = self._now()
        with self._session(write=True) as s:
            row = s.get(CredentialRequest, request_id, with_for_update=True)
            if row is None or (only_open and row.state not in OPEN_STATES):
                return None
            row.state, row.detail, row.updated_at = state, detail[:300], now
            if credential_id:
                row.credential_id = credential_id
            s.flush()
            return _info(row)

    def expire_requests(self, limit: int = 100) -> list[RequestInfo]:
        """Close open requests past their expiry (with a request.expired change each)."""
        now = self._now()
        with self._session(write=True) as s:
            rows = s.scalars(
                sa.select(CredentialRequest)
                .where(
                    CredentialRequest.state.in_(OPEN_STATES),
                    CredentialRequest.expires_at <= now,
                )
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.state, row.updated_at = "expired", now
                changes.record(
                    s,
                    changes.REQUEST_EXPIRED,
                    team_id=row.team_id,
                    at=now,
                    data={
                        "request": {"id": row.id, "requester": row.user_id,
                                    "provider": row.provider_id},
                        "platform": row.platform,
                    },
                )  # fmt: skip
            return [_info(r) for r in rows]
