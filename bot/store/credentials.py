"""Credentials: save (with its secrets, reminders, audit event and confirmation message in one
transaction), read, delete, snooze and stop reminders."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.store import audit, changes, schedule
from bot.store.base import from_db
from bot.store.info import CredentialInfo, Saved
from bot.store.models import Credential, Reminder, SecretValue, Submission
from bot.store.saving import Incoming, Saving
from flows.base import Flow, VerifyResult

_SAVE_ATTEMPTS = 3
_CRED: sa.Table = Credential.__table__  # type: ignore[attr-defined]
# A credential with its next reminder (the earliest unsent one of its current version).
_NEXT_DUE = (
    sa.select(sa.func.min(Reminder.due_at))
    .where(
        Reminder.credential_id == _CRED.c.id,
        Reminder.credential_version == _CRED.c.version,
        Reminder.sent_at.is_(None),
    )
    .scalar_subquery()
)
_GET = sa.select(_CRED, _NEXT_DUE.label("next_due")).where(_CRED.c.id == sa.bindparam("p_cred"))


class Credentials(Saving):
    def rotation_days_for(self, flow: Flow, rotation_days: int | None = None) -> int:
        """Per credential (or the workspace admins' default the caller read), else the
        operator's (GETKEY_ROTATION_DAYS), else the flow's. A save reads the workspace's default
        inside its own transaction (bot.store.saving)."""
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
        row = Incoming(
            owner={
                "team_id": team_id,
                "user_id": user_id,
                "platform": flow.id,
                "identity": flow.identity_of(values, result),
            },
            enterprise_id=enterprise_id,
            identifiers=identifiers,
            # The workspace's default, if needed, is read in the save's transaction.
            rotation_days=rotation_days,
            default_days=self.rotation_days_for(flow),
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
        """One statement on a plain connection: the outbox reads one credential for every
        confirmation it sends, and a Session with two queries cost more CPU than a save."""
        now = self._now()
        with self._engine.connect() as conn:
            row = conn.execute(_GET, {"p_cred": credential_id}).first()
        return CredentialInfo.of(row, now, from_db(row.next_due)) if row is not None else None

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
