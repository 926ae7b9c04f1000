"""Outcomes of the periodic re-verification, and the "no longer works" message they cause.

A failed check that proves nothing (platform down, rate limited) is retried sooner instead of
marking a working key as failing. The first failure of an episode (working → failing) writes
its message intent to the outbox in the same transaction, so exactly one message per episode
is owed to the owner, and a crash cannot lose it.

A key the platform refused ("token invalid") is not tried daily forever: each refusal may count
against this host (Ecwid blocks an address after "20 requests per minute or a total of 600
requests with non-working tokens", docs.ecwid.com/api-reference), and the owner has already been
told. The gaps between its checks grow 1, 3, 7 days (the daily check that found it refused, then
3 days, then 7), after which it is not checked again until its owner submits it anew.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.clock import as_utc
from bot.store import audit, changes, outbox, schedule
from bot.store.base import StoreCore
from bot.store.info import CredentialInfo
from bot.store.models import Credential, Reminder
from bot.vocabulary import CredentialStatus
from flows.base import Failure, VerifyResult

RECHECK_EVERY = timedelta(days=1)
RECHECK_RETRY = timedelta(hours=1)
# After the n-th consecutive "token invalid" answer the next check waits INVALID_BACKOFF[n-1];
# past the end, none until the owner acts (a new submission resets the count).
INVALID_BACKOFF = (timedelta(days=3), timedelta(days=7))


def after_refusal(now: datetime, refusals: int) -> datetime | None:
    """When to check a credential again after its `refusals`-th consecutive refusal."""
    if 1 <= refusals <= len(INVALID_BACKOFF):
        return now + INVALID_BACKOFF[refusals - 1]
    return None
INCONCLUSIVE = {Failure.RATE_LIMITED, Failure.UNREACHABLE}


class Checks(StoreCore):
    def record_check(
        self, credential_id: str, result: VerifyResult, *, failure_kind: str = outbox.FAILING
    ) -> CredentialInfo:
        """Store the outcome of a periodic re-verification. `failure_kind` names the message
        owed if this starts a failure episode ("renew-failed" when a renewal failed)."""
        now = self._now()
        with self._session(write=True) as s:
            cred = self._one(s, credential_id)
            cred.last_checked_at = now
            if not result.ok and result.failure in INCONCLUSIVE:
                cred.next_check_at = now + RECHECK_RETRY
                audit.record(
                    s,
                    "check_inconclusive",
                    actor="getkey",
                    at=now,
                    cred=cred,
                    detail=str(result.failure),
                )
            else:
                if not result.ok and result.failure is Failure.BAD_CREDENTIAL:
                    cred.invalid_checks = (cred.invalid_checks or 0) + 1
                    cred.next_check_at = after_refusal(now, cred.invalid_checks)
                else:
                    cred.invalid_checks = 0
                    cred.next_check_at = now + RECHECK_EVERY
                cred.detail = result.detail or ""
                if result.ok:
                    cred.status = CredentialStatus.VERIFIED
                    cred.verified_at = now
                    cred.failing_notified = False
                    cred.store_name = result.store_name or cred.store_name
                    cred.missing = list(result.missing)
                    self._redate(s, cred, result, now)
                else:
                    # What the key's job lacks now (MISSING_PERMISSION), or nothing: the
                    # "no longer works" message words a lost permission differently.
                    cred.missing = list(result.missing)
                    if cred.status != CredentialStatus.FAILING:
                        cred.status = CredentialStatus.FAILING  # before the change log copies it
                        outbox.enqueue(s, failure_kind, cred, now)
                        changes.record(s, changes.FAILING, team_id=cred.team_id, at=now, cred=cred)
                    cred.status = CredentialStatus.FAILING
                audit.record(
                    s,
                    "verified" if result.ok else "failed",
                    actor="getkey",
                    at=now,
                    cred=cred,
                    detail=str(result.failure or ""),
                )
            s.flush()
            return self._infos(s, [cred], now)[0]

    @staticmethod
    def _redate(s: sa.orm.Session, cred: Credential, result: VerifyResult, now: datetime) -> None:
        """A check that reports a new expiry moves the expiry reminders with it."""
        new_expiry = as_utc(result.expires_at) if result.expires_at else None
        if new_expiry is None or new_expiry == cred.expires_at:
            return
        cred.expires_at = new_expiry
        s.execute(
            sa.delete(Reminder).where(
                Reminder.credential_id == cred.id,
                Reminder.kind == "expiry",
                Reminder.sent_at.is_(None),
            )
        )
        schedule.plan(s, cred, now, rotation=False)
