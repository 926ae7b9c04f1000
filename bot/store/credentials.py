"""Credentials: save (with its secrets, reminders, audit event and confirmation message in one
transaction), read, delete, snooze and stop reminders."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.store import audit, changes, outbox, schedule
from bot.store.checks import RECHECK_EVERY
from bot.store.info import CredentialInfo, Saved
from bot.store.models import Credential, PendingSubmission, Reminder, SecretValue, Submission
from bot.store.secrets import Secrets
from bot.vocabulary import CredentialStatus
from flows.base import Flow, VerifyResult, mask

_SAVE_ATTEMPTS = 3


@dataclass(frozen=True)
class _Incoming:
    """What a save writes besides the secrets, worked out once for all attempts."""

    owner: dict[str, str]  # the unique key: team_id, user_id, platform, identity
    enterprise_id: str | None
    identifiers: dict[str, str]
    rotation_days: int
    provided_by: str | None = None
    purpose: str = "read"
    needed_until: datetime | None = None


class Credentials(Secrets):
    def rotation_days_for(
        self,
        flow: Flow,
        rotation_days: int | None = None,
        *,
        team_id: str | None = None,
        enterprise_id: str | None = None,
    ) -> int:
        """Per credential, else the workspace admins' default (when `team_id` is given), else
        the operator's (GETKEY_ROTATION_DAYS), else the flow's."""
        chosen = None
        if rotation_days is None and team_id:
            chosen = self.workspace_defaults(team_id, enterprise_id).rotation_days
        for days in (rotation_days, chosen, self._rotation_override):
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
        auto_renew: bool | None = None,
        pending_view_id: str | None = None,
        provided_by: str | None = None,
        enterprise_id: str | None = None,
        purpose: str = "read",
        needed_until: datetime | None = None,
    ) -> Saved:
        """Store a verified credential, replacing the same one of the same person.
        `auto_renew`: the owner lets getkey renew it alone (None keeps what a replaced
        credential had, else False). `pending_view_id`: the verification this finishes
        (its pending row goes in the same transaction). `provided_by`: who typed it in for
        the owner when it was asked of them (bot.services.requests)."""
        secrets = {f.key: values[f.key] for f in flow.secret_fields if values.get(f.key)}
        if not secrets:
            raise ValueError(f"{flow.name}: no secret value to store")
        identifiers = {f.key: values[f.key] for f in flow.public_fields if values.get(f.key)}
        for name in ("account", "environment", "store_url"):
            found = getattr(result, name, None)
            if found:
                identifiers.setdefault(name, str(found))
        row = _Incoming(
            owner={
                "team_id": team_id,
                "user_id": user_id,
                "platform": flow.id,
                "identity": flow.identity_of(values, result),
            },
            enterprise_id=enterprise_id,
            identifiers=identifiers,
            rotation_days=self.rotation_days_for(
                flow, rotation_days, team_id=team_id, enterprise_id=enterprise_id
            ),
            provided_by=provided_by,
            purpose=purpose,
            needed_until=as_utc(needed_until) if needed_until else None,
        )
        for attempt in range(1, _SAVE_ATTEMPTS + 1):
            try:
                return self._save_once(
                    row, secrets, result, submission_key, auto_renew, pending_view_id
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
        row: _Incoming,
        secrets: dict[str, str],
        result: VerifyResult,
        submission_key: str | None,
        auto_renew: bool | None,
        pending_view_id: str | None,
    ) -> Saved:
        now = self._now()
        with self._session(write=True) as s:
            if pending_view_id:
                s.execute(
                    sa.delete(PendingSubmission).where(PendingSubmission.view_id == pending_view_id)
                )
            if submission_key and (seen := self._seen(s, submission_key, now)) is not None:
                return seen
            cred, replaced = self._claim(s, row, now)
            _apply(cred, row, secrets, result, now)
            if auto_renew is not None or not replaced:
                cred.auto_renew = bool(auto_renew)
            s.flush()  # the credential row must exist before rows that reference it
            s.add_all(self._encrypt(cred, field, value) for field, value in secrets.items())
            schedule.plan(s, cred, now)
            action = "replaced" if replaced else "stored"
            detail = _save_detail(cred, secrets.keys(), result)
            actor = row.provided_by or cred.user_id
            audit.record(s, action, actor=actor, at=now, cred=cred, detail=detail)
            outbox.enqueue(s, outbox.REPLACED if replaced else outbox.STORED, cred, now)
            event = changes.VERIFIED if result.ok else changes.FAILING
            changes.record(s, event, team_id=cred.team_id, at=now, cred=cred)
            if submission_key:
                s.add(
                    Submission(
                        key=submission_key, credential_id=cred.id, replaced=replaced, created_at=now
                    )
                )
            s.flush()
            info = self._infos(s, [cred], now)[0]
        return Saved(info, replaced=replaced, duplicate=False)

    def _seen(self, s: Session, submission_key: str, now: datetime) -> Saved | None:
        """The outcome of a submission already stored (Slack retried it), if it still is."""
        seen = s.get(Submission, submission_key)
        if seen is None:
            return None
        first = s.get(Credential, seen.credential_id)
        if first is not None:
            info = self._infos(s, [first], now)[0]
            return Saved(info, replaced=seen.replaced, duplicate=True)
        s.delete(seen)  # the credential was deleted since: store it again
        s.flush()
        return None

    def _claim(self, s: Session, row: _Incoming, now: datetime) -> tuple[Credential, bool]:
        """The owner's row for this store, locked (a new one if none): (row, replaced)."""
        cred = s.scalars(sa.select(Credential).filter_by(**row.owner).with_for_update()).first()
        if cred is None:
            cred = Credential(
                id=uuid.uuid4().hex, created_at=now, version=1,
                enterprise_id=row.enterprise_id, **row.owner,
            )  # fmt: skip
            s.add(cred)
            return cred, False
        cred.version += 1
        cred.rotated_at = now
        s.execute(sa.delete(SecretValue).where(SecretValue.credential_id == cred.id))
        # Unsent reminders belong to the old secret: the schedule starts over.
        s.execute(
            sa.delete(Reminder).where(Reminder.credential_id == cred.id, Reminder.sent_at.is_(None))
        )
        return cred, True

    def list_for_user(
        self, team_id: str, user_id: str, enterprise_id: str | None = None
    ) -> list[CredentialInfo]:
        now = self._now()
        with self._session(write=False) as s:
            creds = s.scalars(
                sa.select(Credential)
                .where(
                    Credential.team_id == team_id,
                    Credential.user_id == user_id,
                    Credential.enterprise_id.is_not_distinct_from(enterprise_id),
                )
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

    def delete(self, credential_id: str, *, actor: str, note: str = "") -> bool:
        """`note`: added to the audit detail (e.g. "admin" when an admin deleted it)."""
        now = self._now()
        with self._session(write=True) as s:
            cred = s.get(Credential, credential_id, with_for_update=True)
            if cred is None:
                return False
            delete_in(s, cred, actor=actor, now=now, note=note)
            return True

    def snooze(self, credential_id: str, until: datetime, *, actor: str) -> CredentialInfo:
        """Nothing before `until`; then remind again about what was last reminded."""
        until = as_utc(until)
        now = self._now()
        with self._session(write=True) as s:
            cred = self._one(s, credential_id)
            cred.snoozed_until = until
            schedule.snooze(s, cred, until)
            detail = f"until {until.isoformat()}"
            audit.record(s, "snoozed", actor=actor, at=now, cred=cred, detail=detail)
            s.flush()
            return self._infos(s, [cred], now)[0]

    def set_needed_until(
        self, credential_id: str, until: datetime, *, actor: str
    ) -> CredentialInfo:
        """A later end date (Extend): the end is planned again from it."""
        now = self._now()
        with self._session(write=True) as s:
            cred = self._one(s, credential_id)
            cred.needed_until = as_utc(until)
            schedule.plan_end(s, cred, now)
            detail = f"until {cred.needed_until.isoformat()}"
            audit.record(s, "needed_until", actor=actor, at=now, cred=cred, detail=detail)
            s.flush()
            return self._infos(s, [cred], now)[0]

    def stop_reminders(self, credential_id: str, *, actor: str) -> CredentialInfo:
        """No more reminders for this version of the credential (rotating it starts over)."""
        now = self._now()
        with self._session(write=True) as s:
            cred = self._one(s, credential_id)
            cred.reminders_stopped = True
            audit.record(s, "reminders_stopped", actor=actor, at=now, cred=cred)
            s.flush()
            return self._infos(s, [cred], now)[0]


def delete_in(
    s: Session, cred: Credential, *, actor: str, now: datetime, note: str = ""
) -> None:
    """Delete `cred` inside the caller's transaction (audited, with its change event).
    `note`: added to the audit detail (e.g. "admin")."""
    detail = f"version {cred.version}" + (f"; {note}" if note else "")
    audit.record(s, "deleted", actor=actor, at=now, cred=cred, detail=detail)
    changes.record(s, changes.DELETED, team_id=cred.team_id, at=now, cred=cred)
    # Explicit deletes rather than trusting every backend's cascade settings.
    s.execute(sa.delete(Submission).where(Submission.credential_id == cred.id))
    s.execute(sa.delete(Reminder).where(Reminder.credential_id == cred.id))
    s.execute(sa.delete(SecretValue).where(SecretValue.credential_id == cred.id))
    s.delete(cred)


def _save_detail(cred: Credential, fields: Iterable[str], result: VerifyResult) -> str:
    parts = [f"version {cred.version}", "fields: " + ", ".join(sorted(fields))]
    if cred.store_name:
        parts.append(f"store: {cred.store_name}")
    if result.missing:
        parts.append("missing: " + ", ".join(result.missing))
    if cred.expires_at:
        parts.append(f"expires {cred.expires_at.isoformat()}")
    return "; ".join(parts)


def _apply(
    cred: Credential,
    row: _Incoming,
    secrets: dict[str, str],
    result: VerifyResult,
    now: datetime,
) -> None:
    """What a verified (or failing) submission sets on its row: a fresh start for every
    reminder, re-check and notice."""
    days = row.rotation_days
    main = next(iter(secrets))
    cred.store_name = result.store_name or cred.store_name
    cred.missing = list(result.missing)
    cred.identifiers = dict(row.identifiers)
    cred.masked = mask(secrets[main])
    cred.masked_field = main
    cred.status = CredentialStatus.VERIFIED if result.ok else CredentialStatus.FAILING
    cred.detail = result.detail or ""
    cred.verified_at = now if result.ok else cred.verified_at
    cred.last_checked_at = now
    cred.next_check_at = now + RECHECK_EVERY
    cred.expires_at = as_utc(result.expires_at) if result.expires_at else None
    cred.rotation_days = days or None
    cred.rotation_due_at = now + timedelta(days=days) if days else None
    cred.reminders_stopped = False
    cred.owner_gone_at = None
    cred.snoozed_until = None
    cred.failing_notified = False
    cred.invalid_checks = 0  # the owner acted: re-checks start over
    cred.provided_by = row.provided_by
    cred.purpose = row.purpose
    cred.needed_until = row.needed_until
