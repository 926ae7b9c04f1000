"""Requests for a credential made to someone else: open, open the form, fail, fulfil, cancel,
expire. The requester owns what is provided; the request keeps who provided it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.store import changes, outbox
from bot.store.base import StoreCore
from bot.store.credentials import delete_in
from bot.store.info import Actor, CredentialInfo
from bot.store.models import Credential
from bot.store.sharing_models import CredentialRequest, RequestPolicy

OPEN_STATES = ("open", "opened", "failed")
# The provider of a request by link: whoever opens it (bot.store.links).
LINK_PROVIDER = "link"
# Who hears about a move to each state, and with which outbox kind (bot.store.outbox): written
# in the transaction of the move, so a crash between the two loses no message.
TOLD = {
    "opened": (outbox.REQUEST_OPENED, "requester"),
    "failed": (outbox.REQUEST_FAILED, "requester"),
    "fulfilled": (outbox.REQUEST_PROVIDED, "provider"),
    "cancelled": (outbox.REQUEST_CANCELLED, "provider"),
    "withdrawn": (outbox.REQUEST_WITHDRAWN, "requester"),
    "expired": (outbox.REQUEST_EXPIRED, "requester"),
    "locked": (outbox.REQUEST_LOCKED, "requester"),
}


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
    nudged_at: datetime | None = None
    failures: int = 0
    provider_name: str = ""
    requester_name: str = ""
    team_name: str = ""
    enterprise_id: str | None = None
    resent_at: datetime | None = None
    # Fixed by the requester (None: the provider chooses).
    purpose: str | None = None
    needed_until: datetime | None = None

    @property
    def requester(self) -> Actor:
        """The whole identity of who asked: what is provided is stored under it."""
        return Actor(self.team_id, self.user_id, self.enterprise_id)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def by_link(self) -> bool:
        return self.provider_id == LINK_PROVIDER


REQUEST_FIELDS = tuple(f.name for f in fields(RequestInfo))


def _info(row: CredentialRequest) -> RequestInfo:
    return request_info({name: getattr(row, name) for name in REQUEST_FIELDS})


def request_info(v: Mapping[str, Any]) -> RequestInfo:
    """The read model of a request's columns (one value per RequestInfo field)."""
    return RequestInfo(
        id=v["id"],
        team_id=v["team_id"],
        user_id=v["user_id"],
        provider_id=v["provider_id"],
        platform=v["platform"],
        note=v["note"],
        channel_id=v["channel_id"],
        state=v["state"],
        detail=v["detail"],
        created_at=v["created_at"],
        expires_at=v["expires_at"],
        credential_id=v["credential_id"],
        nudged_at=v["nudged_at"],
        failures=v["failures"] or 0,
        provider_name=v["provider_name"] or "",
        requester_name=v["requester_name"] or "",
        team_name=v["team_name"] or "",
        enterprise_id=v["enterprise_id"] or None,
        resent_at=as_utc(v["resent_at"]) if v["resent_at"] else None,
        purpose=v["purpose"],
        needed_until=as_utc(v["needed_until"]) if v["needed_until"] else None,
    )


def _tell(s: Session, row: CredentialRequest, now: datetime) -> None:
    told = TOLD.get(row.state)
    if told is None:
        return
    kind, who = told
    if who == "provider" and row.provider_id == LINK_PROVIDER:
        return  # nobody in Slack to tell: the page said it
    outbox.enqueue_about_request(
        s,
        kind,
        request_id=row.id,
        team_id=row.team_id,
        user_id=row.user_id if who == "requester" else row.provider_id,
        now=now,
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
        link_hash: str | None = None,
        requester_name: str = "",
        team_name: str = "",
        enterprise_id: str | None = None,
        purpose: str | None = None,
        needed_until: datetime | None = None,
    ) -> RequestInfo:
        """A new open request; TooManyOpen past `max_open` (counted in the same transaction).
        `link_hash`: a request by link (provider LINK_PROVIDER), found by that hash."""
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
                link_hash=link_hash,
                requester_name=requester_name[:80],
                team_name=team_name[:80],
                enterprise_id=enterprise_id or None,
                purpose=purpose,
                needed_until=needed_until,
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
            before = row.state
            row.state, row.detail, row.updated_at = state, detail[:300], now
            if credential_id:
                row.credential_id = credential_id
            if state != before:  # a second press of "Paste the key" is not news
                _tell(s, row, now)
            s.flush()
            return _info(row)

    def claim_resend(self, request_id: str, every: timedelta) -> RequestInfo | None:
        """Mark an open request as sent again now, unless it was less than `every` ago (or is
        closed): one atomic UPDATE, so two presses at once send one message. None: refused."""
        now = self._now()
        with self._session(write=True) as s:
            done = s.execute(
                sa.update(CredentialRequest)
                .where(
                    CredentialRequest.id == request_id,
                    CredentialRequest.state.in_(OPEN_STATES),
                    sa.or_(CredentialRequest.resent_at.is_(None),
                           CredentialRequest.resent_at <= now - every),
                )
                .values(resent_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            row = s.get(CredentialRequest, request_id) if done else None
            return _info(row) if row is not None else None

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
                _tell(s, row, now)
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

    def nudge_requests(self, limit: int = 100) -> list[RequestInfo]:
        """Open requests past their nudge time, not nudged yet and not expired: mark them
        nudged and owe their provider a reminder (once per request)."""
        now = self._now()
        with self._session(write=True) as s:
            rows = s.scalars(
                sa.select(CredentialRequest)
                .where(
                    CredentialRequest.state.in_(OPEN_STATES),
                    CredentialRequest.nudged_at.is_(None),
                    CredentialRequest.nudge_at <= now,
                    CredentialRequest.expires_at > now,
                )
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.nudged_at = row.updated_at = now
                outbox.enqueue_about_request(
                    s, outbox.REQUEST_NUDGE, request_id=row.id, team_id=row.team_id,
                    user_id=row.provider_id, now=now,
                )  # fmt: skip
            return [_info(r) for r in rows]

    def request_for_credential(self, credential_id: str) -> RequestInfo | None:
        """The latest request that this credential answered."""
        with self._session(write=False) as s:
            row = s.scalars(
                sa.select(CredentialRequest)
                .where(CredentialRequest.credential_id == credential_id)
                .order_by(CredentialRequest.updated_at.desc())
                .limit(1)
            ).first()
            return _info(row) if row else None

    def provided_by_user(
        self, team_id: str, provider_id: str
    ) -> list[tuple[RequestInfo, CredentialInfo]]:
        """What this person provided to others and is still stored, newest first."""
        now = self._now()
        with self._session(write=False) as s:
            pairs = s.execute(
                sa.select(CredentialRequest, Credential)
                .join(Credential, Credential.id == CredentialRequest.credential_id)
                .where(
                    CredentialRequest.team_id == team_id,
                    CredentialRequest.provider_id == provider_id,
                    CredentialRequest.state == "fulfilled",
                    Credential.provided_by == provider_id,
                )
                .order_by(CredentialRequest.updated_at.desc())
            ).all()
            infos = {i.id: i for i in self._infos(s, [c for _, c in pairs], now)}
            return [(_info(r), infos[c.id]) for r, c in pairs]

    def withdraw_provided(self, request_id: str, *, actor: str) -> RequestInfo | None:
        """The provider takes back what they provided: the credential is deleted and the
        request moves to 'withdrawn' (the requester is told), in one transaction. None when
        there is nothing (left) to withdraw. The caller checked that the actor is the provider."""
        now = self._now()
        with self._session(write=True) as s:
            row = s.get(CredentialRequest, request_id, with_for_update=True)
            if row is None or row.state != "fulfilled" or not row.credential_id:
                return None
            cred = s.get(Credential, row.credential_id, with_for_update=True)
            if cred is None or cred.provided_by != row.provider_id:
                return None  # deleted since, or replaced by the requester's own key
            delete_in(s, cred, actor=actor, now=now)
            row.state, row.updated_at, row.detail = "withdrawn", now, ""
            _tell(s, row, now)
            s.flush()
            return _info(row)

    def request_policy(self, team_id: str) -> tuple[int | None, int | None]:
        """(nudge days, expiry days) the workspace set; None: the settings' default."""
        with self._session(write=False) as s:
            row = s.get(RequestPolicy, team_id)
            return (row.nudge_days, row.expire_days) if row else (None, None)

    def set_request_policy(
        self, team_id: str, *, nudge_days: int | None, expire_days: int | None
    ) -> None:
        with self._session(write=True) as s:
            row = s.get(RequestPolicy, team_id)
            if nudge_days is None and expire_days is None:
                if row is not None:
                    s.delete(row)
                return
            if row is None:
                row = RequestPolicy(team_id=team_id)
                s.add(row)
            row.nudge_days, row.expire_days = nudge_days, expire_days
