"""The Store: every read and write of credentials, secrets, reminders and the audit trail.

One Store per process, shared by threads: it holds only the engine and the keyring, and each
call opens its own short session. Writes that must be all-or-nothing (saving a credential with
its secrets, reminders and audit event) happen in one transaction. On SQLite every write
transaction starts with BEGIN IMMEDIATE (see db.py), so concurrent writers queue instead of
failing half-way.

Values returned to callers (CredentialInfo, DueReminder, AuditEventInfo) never hold a secret;
only `reveal()` and `secret_values()` decrypt, and `reveal()` leaves an audit event.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store import schedule
from bot.store.crypto import DecryptError, Keyring, aad_for
from bot.store.db import SQLITE_BEGIN
from bot.store.info import (
    AuditEventInfo,
    CredentialInfo,
    CredentialNotFound,
    DueReminder,
    RotateReport,
    Saved,
    status_of,
)
from bot.store.models import (
    AuditEvent,
    Credential,
    Reminder,
    SecretValue,
    Submission,
    utcnow,
)
from flows.base import Failure, Flow, VerifyResult, mask

__all__ = [
    "AuditEventInfo",
    "CredentialInfo",
    "CredentialNotFound",
    "DueReminder",
    "RotateReport",
    "Saved",
    "Store",
]

log = logging.getLogger(__name__)

RECHECK_EVERY = timedelta(days=1)
# A failed re-check that proves nothing (platform down, rate limited) is retried sooner
# instead of marking a working key as failing.
RECHECK_RETRY = timedelta(hours=1)
RECHECK_LEASE = timedelta(hours=1)
_INCONCLUSIVE = {Failure.RATE_LIMITED, Failure.UNREACHABLE}
_SAVE_ATTEMPTS = 3


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        # A naive time is ambiguous; refusing it catches bugs before they shift schedules.
        raise ValueError("naive datetime given to the store; use timezone-aware UTC")
    return moment.astimezone(UTC)


class Store:
    def __init__(
        self,
        engine: Engine,
        keyring: Keyring,
        *,
        clock: Callable[[], datetime] = utcnow,
        rotation_days_override: int | None = None,
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self._clock = clock
        self._rotation_override = rotation_days_override

    @property
    def engine(self) -> Engine:
        return self._engine

    # -- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def _session(self, *, write: bool) -> Iterator[Session]:
        with Session(self._engine, expire_on_commit=False, autoflush=True) as session:
            if write:
                # Take the write lock before reading anything (SQLite; no-op elsewhere).
                session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def _now(self) -> datetime:
        return _utc(self._clock())

    @staticmethod
    def secret_aad(credential_id: str, team_id: str, platform: str, field: str) -> bytes:
        """Associated data of one secret value: the coordinates of the row it belongs to."""
        return aad_for("getkey-secret", credential_id, team_id, platform, field)

    def _encrypt(self, cred: Credential, field: str, value: str) -> SecretValue:
        token = self._keyring.encrypt(
            value, self.secret_aad(cred.id, cred.team_id, cred.platform, field)
        )
        return SecretValue(
            credential_id=cred.id, field=field, token=token, key_id=self._keyring.current_kid
        )

    def _decrypt(self, cred: Credential, row: SecretValue) -> str:
        aad = self.secret_aad(cred.id, cred.team_id, cred.platform, row.field)
        try:
            return self._keyring.decrypt(row.token, aad)
        except DecryptError as exc:
            # Name the row so an operator can act; the exception never carries the value.
            raise DecryptError(
                f"Secret '{row.field}' of credential {cred.id} cannot be decrypted: {exc}"
            ) from None

    @staticmethod
    def _audit(
        session: Session,
        action: str,
        *,
        actor: str,
        at: datetime,
        cred: Credential | None = None,
        detail: str = "",
    ) -> None:
        session.add(
            AuditEvent(
                at=at,
                action=action,
                actor=actor[:200],
                credential_id=cred.id if cred else None,
                team_id=cred.team_id if cred else None,
                user_id=cred.user_id if cred else None,
                platform=cred.platform if cred else None,
                identity=cred.identity if cred else None,
                detail=detail[:2000],
            )
        )

    def _infos(
        self, session: Session, creds: Iterable[Credential], now: datetime
    ) -> list[CredentialInfo]:
        creds = list(creds)
        if not creds:
            return []
        ids = [c.id for c in creds]
        rows = session.execute(
            sa.select(Reminder.credential_id, sa.func.min(Reminder.due_at))
            .join(Credential, Credential.id == Reminder.credential_id)
            .where(
                Reminder.credential_id.in_(ids),
                Reminder.sent_at.is_(None),
                Reminder.credential_version == Credential.version,
            )
            .group_by(Reminder.credential_id)
        ).all()
        # min() bypasses the column type on SQLite, so normalise what comes back.
        upcoming = {cid: _from_db(due) for cid, due in rows}
        return [self._info(c, upcoming.get(c.id), now) for c in creds]

    @staticmethod
    def _info(cred: Credential, upcoming: datetime | None, now: datetime) -> CredentialInfo:
        next_at = None
        if not cred.reminders_stopped and upcoming is not None:
            next_at = upcoming
            if cred.snoozed_until and cred.snoozed_until > next_at:
                next_at = cred.snoozed_until
        return CredentialInfo(
            id=cred.id,
            team_id=cred.team_id,
            user_id=cred.user_id,
            platform=cred.platform,
            identity=cred.identity,
            store_name=cred.store_name,
            identifiers=dict(cred.identifiers or {}),
            masked=cred.masked,
            status=status_of(cred, now),
            verified_at=cred.verified_at,
            last_checked_at=cred.last_checked_at,
            detail=cred.detail,
            expires_at=cred.expires_at,
            rotation_days=cred.rotation_days,
            rotation_due_at=cred.rotation_due_at,
            next_reminder_at=next_at,
            created_at=cred.created_at,
            rotated_at=cred.rotated_at,
            reminders_stopped=cred.reminders_stopped,
            snoozed_until=cred.snoozed_until,
            version=cred.version,
        )

    def _one(self, session: Session, credential_id: str, *, lock: bool = True) -> Credential:
        # Locked (PostgreSQL) so concurrent changes to one credential apply one after the
        # other instead of overwriting each other; SQLite's write lock already does that.
        cred = session.get(Credential, credential_id, with_for_update=lock or None)
        if cred is None:
            raise CredentialNotFound(f"No credential with id {credential_id}.")
        return cred

    # -- health -----------------------------------------------------------------------------
    def healthy(self) -> bool:
        try:
            with self._engine.connect() as conn:
                return conn.execute(sa.text("SELECT 1")).scalar() == 1
        except Exception as exc:
            log.warning("database health check failed", extra={"error": type(exc).__name__})
            return False

    # -- saving -----------------------------------------------------------------------------
    def rotation_days_for(self, flow: Flow, rotation_days: int | None = None) -> int:
        """Per credential, else the workspace override (GETKEY_ROTATION_DAYS), else the flow's."""
        for days in (rotation_days, self._rotation_override):
            if days is not None:
                return days
        return flow.rotation_days

    def save(
        self,
        *,
        team_id: str,
        user_id: str,
        flow: Flow,
        values: Mapping[str, str],
        result: VerifyResult,
        rotation_days: int | None = None,
        submission_key: str | None = None,
    ) -> Saved:
        secrets = {f.key: values[f.key] for f in flow.secret_fields if values.get(f.key)}
        if not secrets:
            raise ValueError(f"{flow.name}: no secret value to store")
        identifiers = {f.key: values[f.key] for f in flow.public_fields if values.get(f.key)}
        for name in ("account", "environment", "store_url"):
            found = getattr(result, name, None)
            if found:
                identifiers.setdefault(name, str(found))
        days = self.rotation_days_for(flow, rotation_days)
        for attempt in range(1, _SAVE_ATTEMPTS + 1):
            try:
                return self._save_once(
                    team_id=team_id,
                    user_id=user_id,
                    flow=flow,
                    identity=flow.identity_of(values, result),
                    identifiers=identifiers,
                    secrets=secrets,
                    result=result,
                    days=days,
                    submission_key=submission_key,
                )
            except IntegrityError:
                # A concurrent save of the same credential or the same submission committed
                # first (possible on PostgreSQL); the next attempt sees it and replaces or
                # returns the duplicate.
                if attempt == _SAVE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _save_once(
        self,
        *,
        team_id: str,
        user_id: str,
        flow: Flow,
        identity: str,
        identifiers: dict[str, str],
        secrets: dict[str, str],
        result: VerifyResult,
        days: int,
        submission_key: str | None,
    ) -> Saved:
        now = self._now()
        with self._session(write=True) as s:
            if submission_key:
                seen = s.get(Submission, submission_key)
                if seen is not None:
                    first = s.get(Credential, seen.credential_id)
                    if first is not None:
                        info = self._infos(s, [first], now)[0]
                        return Saved(info, replaced=seen.replaced, duplicate=True)
                    s.delete(seen)  # the credential was deleted since: store it again
                    s.flush()
            cred = s.scalars(
                sa.select(Credential)
                .where(
                    Credential.team_id == team_id,
                    Credential.user_id == user_id,
                    Credential.platform == flow.id,
                    Credential.identity == identity,
                )
                .with_for_update()
            ).first()
            replaced = cred is not None
            if cred is None:
                cred = Credential(
                    id=uuid.uuid4().hex,
                    team_id=team_id,
                    user_id=user_id,
                    platform=flow.id,
                    identity=identity,
                    created_at=now,
                    version=1,
                )
                s.add(cred)
            else:
                cred.version += 1
                cred.rotated_at = now
                s.execute(sa.delete(SecretValue).where(SecretValue.credential_id == cred.id))
                # Unsent reminders belong to the old secret: the schedule starts over.
                s.execute(
                    sa.delete(Reminder).where(
                        Reminder.credential_id == cred.id, Reminder.sent_at.is_(None)
                    )
                )
            main = next(iter(secrets))
            cred.store_name = result.store_name or cred.store_name
            cred.identifiers = identifiers
            cred.masked = mask(secrets[main])
            cred.masked_field = main
            cred.status = "verified" if result.ok else "failing"
            cred.detail = result.detail or ""
            cred.verified_at = now if result.ok else cred.verified_at
            cred.last_checked_at = now
            cred.next_check_at = now + RECHECK_EVERY
            cred.expires_at = _utc(result.expires_at) if result.expires_at else None
            cred.rotation_days = days or None
            cred.rotation_due_at = now + timedelta(days=days) if days else None
            cred.reminders_stopped = False
            cred.snoozed_until = None
            cred.failing_notified = False
            s.flush()  # the credential row must exist before rows that reference it
            s.add_all(self._encrypt(cred, field, value) for field, value in secrets.items())
            schedule.plan(s, cred, now)
            self._audit(
                s,
                "replaced" if replaced else "stored",
                actor=user_id,
                at=now,
                cred=cred,
                detail=_save_detail(cred, secrets.keys(), result),
            )
            if submission_key:
                s.add(
                    Submission(
                        key=submission_key, credential_id=cred.id, replaced=replaced, created_at=now
                    )
                )
            s.flush()
            info = self._infos(s, [cred], now)[0]
        return Saved(info, replaced=replaced, duplicate=False)

    # -- reading ----------------------------------------------------------------------------
    def list_for_user(self, team_id: str, user_id: str) -> list[CredentialInfo]:
        now = self._now()
        with self._session(write=False) as s:
            creds = s.scalars(
                sa.select(Credential)
                .where(Credential.team_id == team_id, Credential.user_id == user_id)
                .order_by(Credential.platform, Credential.identity)
            ).all()
            return self._infos(s, creds, now)

    def list_all(self, team_id: str | None = None) -> list[CredentialInfo]:
        """Every credential (operators: `getkey reveal --list`)."""
        now = self._now()
        with self._session(write=False) as s:
            query = sa.select(Credential).order_by(
                Credential.team_id, Credential.user_id, Credential.platform, Credential.identity
            )
            if team_id:
                query = query.where(Credential.team_id == team_id)
            return self._infos(s, s.scalars(query).all(), now)

    def get(self, credential_id: str) -> CredentialInfo | None:
        now = self._now()
        with self._session(write=False) as s:
            cred = s.get(Credential, credential_id)
            return self._infos(s, [cred], now)[0] if cred else None

    def audit_events(self, credential_id: str | None = None) -> list[AuditEventInfo]:
        with self._session(write=False) as s:
            query = sa.select(AuditEvent).order_by(AuditEvent.id)
            if credential_id is not None:
                query = query.where(AuditEvent.credential_id == credential_id)
            return [
                AuditEventInfo(
                    id=e.id or 0,
                    at=e.at,
                    action=e.action,
                    actor=e.actor,
                    credential_id=e.credential_id,
                    team_id=e.team_id,
                    user_id=e.user_id,
                    platform=e.platform,
                    identity=e.identity,
                    detail=e.detail,
                )
                for e in s.scalars(query)
            ]

    # -- changing ---------------------------------------------------------------------------
    def delete(self, credential_id: str, *, actor: str) -> bool:
        now = self._now()
        with self._session(write=True) as s:
            cred = s.get(Credential, credential_id, with_for_update=True)
            if cred is None:
                return False
            self._audit(
                s, "deleted", actor=actor, at=now, cred=cred, detail=f"version {cred.version}"
            )
            # Explicit deletes rather than trusting every backend's cascade settings.
            s.execute(sa.delete(Submission).where(Submission.credential_id == credential_id))
            s.execute(sa.delete(Reminder).where(Reminder.credential_id == credential_id))
            s.execute(sa.delete(SecretValue).where(SecretValue.credential_id == credential_id))
            s.delete(cred)
            return True

    def reveal(self, credential_id: str, *, actor: str) -> dict[str, str]:
        """All fields, secrets decrypted. For operators and downstream systems, never Slack."""
        now = self._now()
        with self._session(write=True) as s:
            cred = self._one(s, credential_id)
            values = dict(cred.identifiers or {})
            rows = s.scalars(
                sa.select(SecretValue).where(SecretValue.credential_id == credential_id)
            ).all()
            for row in rows:
                values[row.field] = self._decrypt(cred, row)
            self._audit(
                s,
                "revealed",
                actor=actor,
                at=now,
                cred=cred,
                detail="fields: " + ", ".join(sorted(r.field for r in rows)),
            )
        return values

    def secret_values(self, credential_id: str) -> dict[str, str]:
        """The decrypted secret fields, for re-verification and refresh only."""
        with self._session(write=False) as s:
            cred = self._one(s, credential_id, lock=False)
            rows = s.scalars(
                sa.select(SecretValue).where(SecretValue.credential_id == credential_id)
            ).all()
            return {row.field: self._decrypt(cred, row) for row in rows}

    def replace_secret(
        self, credential_id: str, values: Mapping[str, str], *, actor: str
    ) -> CredentialInfo:
        """Atomically replace some secret fields (e.g. a refreshed R-Series refresh token)."""
        now = self._now()
        with self._session(write=True) as s:
            cred = self._one(s, credential_id)
            for field, value in values.items():
                if not value:
                    raise ValueError(f"empty value for secret field '{field}'")
                s.execute(
                    sa.delete(SecretValue).where(
                        SecretValue.credential_id == credential_id, SecretValue.field == field
                    )
                )
                s.add(self._encrypt(cred, field, value))
                if field == cred.masked_field:
                    cred.masked = mask(value)
            self._audit(
                s,
                "secret_replaced",
                actor=actor,
                at=now,
                cred=cred,
                detail="fields: " + ", ".join(sorted(values)),
            )
            s.flush()
            return self._infos(s, [cred], now)[0]

    def record_check(self, credential_id: str, result: VerifyResult) -> CredentialInfo:
        """Store the outcome of a periodic re-verification."""
        now = self._now()
        with self._session(write=True) as s:
            cred = self._one(s, credential_id)
            cred.last_checked_at = now
            if not result.ok and result.failure in _INCONCLUSIVE:
                cred.next_check_at = now + RECHECK_RETRY
                self._audit(
                    s,
                    "check_inconclusive",
                    actor="getkey",
                    at=now,
                    cred=cred,
                    detail=str(result.failure),
                )
            else:
                cred.next_check_at = now + RECHECK_EVERY
                cred.detail = result.detail or ""
                if result.ok:
                    cred.status = "verified"
                    cred.verified_at = now
                    cred.failing_notified = False
                    cred.store_name = result.store_name or cred.store_name
                    new_expiry = _utc(result.expires_at) if result.expires_at else None
                    if new_expiry is not None and new_expiry != cred.expires_at:
                        cred.expires_at = new_expiry
                        s.execute(
                            sa.delete(Reminder).where(
                                Reminder.credential_id == cred.id,
                                Reminder.kind == "expiry",
                                Reminder.sent_at.is_(None),
                            )
                        )
                        schedule.plan(s, cred, now, rotation=False)
                else:
                    cred.status = "failing"
                self._audit(
                    s,
                    "verified" if result.ok else "failed",
                    actor="getkey",
                    at=now,
                    cred=cred,
                    detail=str(result.failure or ""),
                )
            s.flush()
            return self._infos(s, [cred], now)[0]

    def mark_failing_notified(self, credential_id: str) -> bool:
        """True for exactly one caller per failure episode (the one who should send the DM)."""
        with self._session(write=True) as s:
            done = s.execute(
                sa.update(Credential)
                .where(
                    Credential.id == credential_id,
                    Credential.status == "failing",
                    sa.not_(Credential.failing_notified),
                )
                .values(failing_notified=True)
                .execution_options(synchronize_session=False)
            )
            return bool(done.rowcount)

    def clear_failing_notified(self, credential_id: str, *, retry_at: datetime) -> None:
        """The "no longer works" DM could not be delivered (Slack down): hand the episode back
        so the re-check at `retry_at` tells the owner instead of nobody ever doing so."""
        with self._session(write=True) as s:
            s.execute(
                sa.update(Credential)
                .where(Credential.id == credential_id, Credential.status == "failing")
                .values(failing_notified=False, next_check_at=_utc(retry_at))
                .execution_options(synchronize_session=False)
            )

    def due_for_recheck(self, now: datetime, limit: int = 100) -> list[CredentialInfo]:
        """Claims credentials whose daily re-check is due: each is handed to one caller, and
        comes back after an hour if that caller never records a result."""
        now = _utc(now)
        with self._session(write=True) as s:
            candidates = (
                sa.select(Credential.id)
                .where(Credential.next_check_at <= now)
                .order_by(Credential.next_check_at, Credential.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            creds = _claim(
                s, Credential, candidates, {"next_check_at": now + RECHECK_LEASE}, Credential.id
            )
            return self._infos(s, creds, now)

    # -- keys -------------------------------------------------------------------------------
    def rotate_keys(
        self,
        batch: int = 500,
        progress: Callable[[int, int], None] | None = None,
    ) -> RotateReport:
        """Re-encrypt every secret under the newest key. Each batch commits on its own, so an
        interrupted run loses nothing and a second run carries on where it stopped."""
        kid = self._keyring.current_kid
        with self._session(write=False) as s:
            total = s.scalar(sa.select(sa.func.count()).select_from(SecretValue)) or 0
            already = (
                s.scalar(
                    sa.select(sa.func.count())
                    .select_from(SecretValue)
                    .where(SecretValue.key_id == kid)
                )
                or 0
            )
        done = 0
        while True:
            with self._session(write=True) as s:
                rows = s.execute(
                    sa.select(SecretValue, Credential)
                    .join(Credential, Credential.id == SecretValue.credential_id)
                    .where(SecretValue.key_id != kid)
                    .order_by(SecretValue.credential_id, SecretValue.field)
                    .limit(batch)
                ).all()
                for row, cred in rows:
                    fresh = self._encrypt(cred, row.field, self._decrypt(cred, row))
                    row.token, row.key_id = fresh.token, fresh.key_id
            if not rows:
                break
            done += len(rows)
            if progress is not None:
                progress(done, total)
        now = self._now()
        with self._session(write=True) as s:
            self._audit(
                s,
                "keys_rotated",
                actor="getkey keys rotate",
                at=now,
                detail=f"key {kid}: {done} re-encrypted, {already} already current, {total} total",
            )
        return RotateReport(total=total, reencrypted=done, already_current=already)

    # -- reminders --------------------------------------------------------------------------
    def claim_due(
        self, now: datetime, limit: int = 100, lease_seconds: int = 300
    ) -> list[DueReminder]:
        """Claim due reminders for this caller only. A claim lasts `lease_seconds`: if the
        caller dies before `mark_sent`, the reminder becomes claimable again afterwards."""
        now = _utc(now)
        with self._session(write=True) as s:
            schedule.supersede(s, now)
            candidates = (
                sa.select(Reminder.id)
                .join(Credential, Credential.id == Reminder.credential_id)
                .where(
                    Reminder.sent_at.is_(None),
                    Reminder.due_at <= now,
                    sa.or_(Reminder.claimed_until.is_(None), Reminder.claimed_until <= now),
                    Reminder.credential_version == Credential.version,
                    sa.not_(Credential.reminders_stopped),
                    sa.or_(Credential.snoozed_until.is_(None), Credential.snoozed_until <= now),
                )
                .order_by(Reminder.due_at, Reminder.id)
                .limit(limit)
                # PostgreSQL: rows another sweeper is claiming are skipped, not waited for.
                # SQLite ignores this; BEGIN IMMEDIATE already makes the claim exclusive.
                .with_for_update(skip_locked=True, of=Reminder)
            )
            lease = {"claimed_at": now, "claimed_until": now + timedelta(seconds=lease_seconds)}
            reminders = _claim(s, Reminder, candidates, lease, Reminder.due_at, Reminder.id)
            if not reminders:
                return []
            creds = s.scalars(
                sa.select(Credential).where(Credential.id.in_({r.credential_id for r in reminders}))
            ).all()
            infos = {info.id: info for info in self._infos(s, creds, now)}
            return [
                DueReminder(
                    reminder_id=r.id or 0,
                    credential=infos[r.credential_id],
                    kind=r.kind,
                    stage=r.stage,
                    due_at=r.due_at,
                )
                for r in reminders
            ]

    def mark_sent(self, reminder_id: int) -> None:
        """Record a reminder as sent; a sent rotation reminder plans the next weekly one."""
        with self._session(write=True) as s:
            reminder = s.get(Reminder, reminder_id)
            # Only a claimed reminder can have been sent; ids are never reused (AUTOINCREMENT
            # on SQLite, sequences on PostgreSQL), so a stale id cannot hit a newer reminder.
            if reminder is None or reminder.sent_at is not None or reminder.claimed_at is None:
                return
            reminder.sent_at = self._now()
            reminder.claimed_until = None
            if reminder.kind == "rotation":
                schedule.plan_overdue(s, reminder)

    def release(self, reminder_id: int) -> None:
        """Give a claim back (sending failed): the next sweep picks the reminder up again."""
        with self._session(write=True) as s:
            s.execute(
                sa.update(Reminder)
                .where(Reminder.id == reminder_id, Reminder.sent_at.is_(None))
                .values(claimed_at=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    def snooze(self, credential_id: str, until: datetime, *, actor: str) -> CredentialInfo:
        """Nothing before `until`; then remind again about what was last reminded."""
        until = _utc(until)
        now = self._now()
        with self._session(write=True) as s:
            cred = self._one(s, credential_id)
            cred.snoozed_until = until
            schedule.snooze(s, cred, until)
            self._audit(
                s, "snoozed", actor=actor, at=now, cred=cred, detail=f"until {until.isoformat()}"
            )
            s.flush()
            return self._infos(s, [cred], now)[0]

    def stop_reminders(self, credential_id: str, *, actor: str) -> CredentialInfo:
        """No more reminders for this version of the credential (rotating it starts over)."""
        now = self._now()
        with self._session(write=True) as s:
            cred = self._one(s, credential_id)
            cred.reminders_stopped = True
            self._audit(s, "reminders_stopped", actor=actor, at=now, cred=cred)
            s.flush()
            return self._infos(s, [cred], now)[0]




def _save_detail(cred: Credential, fields: Iterable[str], result: VerifyResult) -> str:
    parts = [f"version {cred.version}", "fields: " + ", ".join(sorted(fields))]
    if cred.store_name:
        parts.append(f"store: {cred.store_name}")
    if result.missing:
        parts.append("missing: " + ", ".join(result.missing))
    if cred.expires_at:
        parts.append(f"expires {cred.expires_at.isoformat()}")
    return "; ".join(parts)


def _from_db(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _claim(
    s: Session,
    model: Any,
    candidates: sa.Select[Any],
    values: dict[str, Any],
    *order_by: Any,
) -> list[Any]:
    """Mark the candidate rows as this caller's in one UPDATE … RETURNING (atomic on both
    backends: SKIP LOCKED in `candidates` on PostgreSQL, BEGIN IMMEDIATE on SQLite), then load
    exactly the rows this caller won."""
    claimed = (
        s.execute(
            sa.update(model)
            .where(model.id.in_(candidates))
            .values(**values)
            .returning(model.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    if not claimed:
        return []
    return list(
        s.scalars(
            sa.select(model)
            .where(model.id.in_(claimed))
            .order_by(*order_by)
            .execution_options(populate_existing=True)
        ).all()
    )
