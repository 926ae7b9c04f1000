"""Verifications in progress. A row is written when a verification starts and removed when it
finishes (in the transaction that saves the result, or on its own when nothing is saved). A
row that outlives its verification means the process died half-way: after a restart the app
claims the old rows and tells each person to submit again. Never any value typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.clock import as_utc
from bot.store.base import StoreCore
from bot.store.claims import claim_rows
from bot.store.models import PendingSubmission

_TABLE: sa.Table = PendingSubmission.__table__  # type: ignore[attr-defined]
_RESTART = sa.update(_TABLE).where(_TABLE.c.view_id == sa.bindparam("p_view"))
_START = sa.insert(_TABLE)


@dataclass(frozen=True)
class PendingInfo:
    view_id: str
    team_id: str
    user_id: str
    platform: str
    started_at: datetime


def _info(row: PendingSubmission) -> PendingInfo:
    return PendingInfo(row.view_id, row.team_id, row.user_id, row.platform, row.started_at)


class Pending(StoreCore):
    def submission_started(
        self, view_id: str, *, team_id: str, user_id: str, platform: str
    ) -> None:
        """A verification of `view_id` begins (a retried submission restarts the clock)."""
        # Core statements on a plain connection: every submission writes this row, and a
        # Session's bookkeeping cost more CPU than the write (bench/submissions.py).
        values = {"team_id": team_id, "user_id": user_id, "platform": platform,
                  "started_at": self._now(), "claimed_until": None}  # fmt: skip
        with self._transaction() as conn:
            restarted = conn.execute(_RESTART, {"p_view": view_id, **values}).rowcount
            if not restarted:
                conn.execute(_START, {"view_id": view_id, **values})

    def submission_finished(self, view_id: str) -> None:
        """The verification ended (stored, refused, or the person was told to retry)."""
        with self._session(write=True) as s:
            s.execute(sa.delete(PendingSubmission).where(PendingSubmission.view_id == view_id))

    def pending_submissions(
        self, older_than: timedelta = timedelta(0), now: datetime | None = None
    ) -> list[PendingInfo]:
        """Verifications started more than `older_than` ago and not finished, oldest first."""
        now = as_utc(now) if now else self._now()
        with self._session(write=False) as s:
            rows = s.scalars(
                sa.select(PendingSubmission)
                .where(PendingSubmission.started_at <= now - older_than)
                .order_by(PendingSubmission.started_at, PendingSubmission.view_id)
            )
            return [_info(r) for r in rows]

    def recover_in_flight(self, before: datetime) -> tuple[int, int]:
        """A single-instance deployment that starts knows every claim made before `before` was
        made by a process that died: its unsent outbox messages are due now and its claims on
        interrupted verifications are released (report them with older_than=0, now=before).
        Returns (messages, verifications) released."""
        from bot.store.models import OutboxMessage

        before = as_utc(before)
        with self._session(write=True) as s:
            messages = s.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.claimed_until.is_not(None),
                       OutboxMessage.next_attempt_at > before)
                .values(next_attempt_at=before, claimed_until=None)
                .execution_options(synchronize_session=False)
            ).rowcount or 0
            verifications = s.execute(
                sa.update(PendingSubmission)
                .where(PendingSubmission.started_at <= before)
                .values(claimed_until=None)
                .execution_options(synchronize_session=False)
            ).rowcount or 0
        return messages, verifications

    def claim_stale_submissions(
        self,
        older_than: timedelta,
        *,
        now: datetime | None = None,
        limit: int = 100,
        lease_seconds: int = 300,
    ) -> list[PendingInfo]:
        """Claim interrupted verifications (started more than `older_than` ago) for this
        caller only; call `submission_finished` once the person is told. A claim not finished
        within `lease_seconds` comes back."""
        now = as_utc(now) if now else self._now()
        with self._session(write=True) as s:
            candidates = (
                sa.select(PendingSubmission.view_id)
                .where(
                    PendingSubmission.started_at <= now - older_than,
                    sa.or_(
                        PendingSubmission.claimed_until.is_(None),
                        PendingSubmission.claimed_until <= now,
                    ),
                )
                .order_by(PendingSubmission.started_at, PendingSubmission.view_id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            lease = {"claimed_until": now + timedelta(seconds=lease_seconds)}
            rows = claim_rows(
                s, PendingSubmission, candidates, lease, PendingSubmission.started_at,
                key=PendingSubmission.view_id,
            )  # fmt: skip
            return [_info(r) for r in rows]
