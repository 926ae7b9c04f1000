"""The durable outbox: messages that must reach a person leave from here.

A change that a person must hear about (a key stored, a key that stopped working, a renewal
that failed) writes its message *intent* in the same transaction as the change, so a crash
between the change and the DM loses nothing: a sender claims due intents in batches with a
lease, renders and sends them, then marks them sent, or hands them back with a backoff. The
row holds who and what about, never a secret nor the rendered text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.store.audit import Described as Owned
from bot.store.base import StoreCore
from bot.store.claims import claim_rows
from bot.store.models import Credential, OutboxMessage
from bot.vocabulary import OutboxKind, outbox_kind

# The kinds (bot.vocabulary.OutboxKind), by their old names here too: written by the Store
# itself, and about a credential request (bot.store.requests, rendered from the request as is).
STORED, REPLACED = OutboxKind.STORED, OutboxKind.REPLACED
FAILING, RENEW_FAILED = OutboxKind.FAILING, OutboxKind.RENEW_FAILED
REQUEST_OPENED, REQUEST_FAILED = OutboxKind.REQUEST_OPENED, OutboxKind.REQUEST_FAILED
REQUEST_PROVIDED, REQUEST_WITHDRAWN = OutboxKind.REQUEST_PROVIDED, OutboxKind.REQUEST_WITHDRAWN
REQUEST_EXPIRED, REQUEST_NUDGE = OutboxKind.REQUEST_EXPIRED, OutboxKind.REQUEST_NUDGE
REQUEST_CANCELLED, REQUEST_LOCKED = OutboxKind.REQUEST_CANCELLED, OutboxKind.REQUEST_LOCKED
RETRY_FIRST = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: OutboxKind | str  # a str only for a kind this version does not know
    credential_id: str | None
    team_id: str
    user_id: str
    created_at: datetime
    attempts: int  # including the claim that handed it out
    request_id: str | None = None


def _item(row: OutboxMessage) -> OutboxItem:
    return OutboxItem(
        id=row.id or 0,
        kind=outbox_kind(row.kind),
        credential_id=row.credential_id,
        team_id=row.team_id,
        user_id=row.user_id,
        created_at=row.created_at,
        attempts=row.attempts,
        request_id=row.request_id,
    )


def intent_values(kind: str, cred: Owned, now: datetime) -> dict[str, Any]:
    """One intent's row about `cred`, as values (a Core insert, bot.store.saving)."""
    return {
        "kind": kind,
        "credential_id": cred.id,
        "team_id": cred.team_id,
        "user_id": cred.user_id,
        "created_at": now,
        "next_attempt_at": now,
    }


def enqueue(session: Session, kind: str, cred: Credential, now: datetime) -> None:
    """Add a message intent about `cred` to the caller's transaction."""
    session.add(OutboxMessage(**intent_values(kind, cred, now)))


def enqueue_about_request(
    session: Session,
    kind: str,
    *,
    request_id: str,
    team_id: str,
    user_id: str,
    now: datetime,
    credential_id: str | None = None,
) -> None:
    """Add a message intent about a credential request to the caller's transaction; `user_id`
    is who hears it (the requester or the provider)."""
    session.add(
        OutboxMessage(
            kind=kind,
            request_id=request_id,
            credential_id=credential_id,
            team_id=team_id,
            user_id=user_id,
            created_at=now,
            next_attempt_at=now,
        )
    )


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at an hour: a long Slack outage costs one try an hour."""
    return min(RETRY_FIRST * 2 ** max(0, attempts - 1), RETRY_MAX)


class Outbox(StoreCore):
    def enqueue_message(
        self, kind: str, *, team_id: str, user_id: str, credential_id: str | None = None
    ) -> int:
        """A message intent on its own (for changes made outside the Store). Returns its id."""
        now = self._now()
        with self._session(write=True) as s:
            row = OutboxMessage(
                kind=kind[:32],
                credential_id=credential_id,
                team_id=team_id,
                user_id=user_id,
                created_at=now,
                next_attempt_at=now,
            )
            s.add(row)
            s.flush()
            return row.id or 0

    def claim_outbox(
        self, now: datetime | None = None, *, limit: int = 100, lease_seconds: int = 120
    ) -> list[OutboxItem]:
        """Claim due messages for this caller only, oldest first. Unless marked sent or handed
        back within `lease_seconds`, a message becomes claimable again (at-least-once)."""
        now = as_utc(now) if now else self._now()
        lease_end = now + timedelta(seconds=lease_seconds)
        with self._session(write=True) as s:
            candidates = (
                sa.select(OutboxMessage.id)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            # The lease is next_attempt_at itself: a claimed row leaves the due range, so the
            # next claim never scans past it.
            lease = {
                "next_attempt_at": lease_end,
                "claimed_until": lease_end,
                "attempts": OutboxMessage.attempts + 1,
            }
            rows = claim_rows(s, OutboxMessage, candidates, lease, OutboxMessage.id)
            return [_item(r) for r in rows]

    def outbox_sent(self, message_id: int) -> None:
        """The message reached Slack: never send it again."""
        self.outbox_sent_many([message_id])

    def outbox_sent_many(self, message_ids: list[int]) -> None:
        """`outbox_sent` for a batch, in one transaction."""
        if not message_ids:
            return
        now = self._now()
        with self._session(write=True) as s:
            s.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_(message_ids), OutboxMessage.sent_at.is_(None))
                .values(sent_at=now, claimed_until=None, last_error="")
                .execution_options(synchronize_session=False)
            )

    def outbox_drop(self, message_id: int, *, reason: str) -> None:
        """The message can never be delivered (person gone, credential deleted): close it,
        keeping why. `reason` must not contain a secret."""
        self._close(message_id, error=reason or "dropped")

    def outbox_retry(self, message_id: int, *, error: str, now: datetime | None = None) -> datetime:
        """Sending failed for now (Slack down, rate limited): try again after a backoff that
        grows with the attempts. Returns when."""
        now = as_utc(now) if now else self._now()
        with self._session(write=True) as s:
            row = s.get(OutboxMessage, message_id, with_for_update=True)
            if row is None or row.sent_at is not None:
                return now
            row.next_attempt_at = now + backoff(row.attempts)
            row.claimed_until = None
            row.last_error = error[:200]
            return row.next_attempt_at

    def outbox_pending(self, credential_id: str | None = None) -> list[OutboxItem]:
        """Unsent messages (for status pages and tests), oldest first."""
        with self._session(write=False) as s:
            query = (
                sa.select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None))
                .order_by(OutboxMessage.id)
            )
            if credential_id is not None:
                query = query.where(OutboxMessage.credential_id == credential_id)
            return [_item(r) for r in s.scalars(query)]

    def _close(self, message_id: int, *, error: str) -> None:
        now = self._now()
        with self._session(write=True) as s:
            s.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
                .values(sent_at=now, claimed_until=None, last_error=error[:200])
                .execution_options(synchronize_session=False)
            )
