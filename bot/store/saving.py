"""A credential's save, written as a few Core statements on one connection.

Every submission's result waits on this write, and in a burst they all run in the one serving
process: through the ORM (four flushes and object tracking for ~15 statements) a save cost
several milliseconds of CPU, the largest share of a 500-submission burst's CPU (bench/README.md).
Here the same rows are written with statements built once, from values worked out in Python,
in one transaction: the credential, its encrypted secrets, its reminders (bot.store.schedule),
the audit event, the confirmation's outbox intent, the change and its webhook deliveries, the
idempotency key, and the end of the pending verification. The saved credential's read model
(and its next reminder) comes from the values written, not from reading them back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.clock import as_utc
from bot.store import audit, changes, outbox, schedule
from bot.store.checks import RECHECK_EVERY
from bot.store.info import CredentialInfo, Saved
from bot.store.models import (
    AuditEvent,
    Credential,
    OutboxMessage,
    PendingSubmission,
    Reminder,
    SecretValue,
    Submission,
    Workspace,
)
from bot.store.secrets import Secrets
from bot.vocabulary import CredentialStatus
from flows.base import VerifyResult, mask


def _table(model: Any) -> sa.Table:
    table: sa.Table = model.__table__
    return table


_CRED, _SECRET, _REMINDER = _table(Credential), _table(SecretValue), _table(Reminder)
_SUBMISSION, _PENDING = _table(Submission), _table(PendingSubmission)
_OWNER = ("team_id", "user_id", "platform", "identity")
_CRED_ID = sa.bindparam("p_cred")

_DROP_PENDING = sa.delete(_PENDING).where(_PENDING.c.view_id == sa.bindparam("p_view"))
_SEEN = sa.select(_SUBMISSION.c.credential_id, _SUBMISSION.c.replaced).where(
    _SUBMISSION.c.key == sa.bindparam("p_key")
)
_FORGET_SEEN = sa.delete(_SUBMISSION).where(_SUBMISSION.c.key == sa.bindparam("p_key"))
_BY_ID = sa.select(_CRED).where(_CRED.c.id == _CRED_ID)
# The owner's row, locked (PostgreSQL) so concurrent saves of one credential take turns.
_OWNED = sa.select(_CRED).where(*(_CRED.c[k] == sa.bindparam(f"p_{k}") for k in _OWNER))
_OWNED = _OWNED.with_for_update()
_UPDATE = sa.update(_CRED).where(_CRED.c.id == _CRED_ID)
_DROP_SECRETS = sa.delete(_SECRET).where(_SECRET.c.credential_id == _CRED_ID)
# Unsent reminders belong to the old secret: the schedule starts over.
_DROP_UNSENT = sa.delete(_REMINDER).where(
    _REMINDER.c.credential_id == _CRED_ID, _REMINDER.c.sent_at.is_(None)
)
_WS = _table(Workspace)
_WORKSPACE_DAYS = sa.select(_WS.c.rotation_days).where(
    _WS.c.enterprise_id == sa.bindparam("p_enterprise"), _WS.c.team_id == sa.bindparam("p_team")
)
_INSERT = {
    model: sa.insert(_table(model))
    for model in (Credential, SecretValue, Reminder, AuditEvent, OutboxMessage, Submission)
}


@dataclass(frozen=True)
class Incoming:
    """What a save writes besides the secrets, worked out once for all attempts."""

    owner: dict[str, str]  # the unique key: team_id, user_id, platform, identity
    enterprise_id: str | None
    identifiers: dict[str, str]
    rotation_days: int | None  # asked for this credential
    default_days: int  # the operator's or the flow's, if neither it nor the workspace has one
    provided_by: str | None = None
    purpose: str = "read"
    needed_until: datetime | None = None


class Saving(Secrets):
    def _save_once(
        self,
        row: Incoming,
        secrets: dict[str, str],
        result: VerifyResult,
        submission_key: str | None,
        auto_renew: bool | None,
        pending_view_id: str | None,
    ) -> Saved:
        now = self._now()
        with self._transaction() as conn:
            if pending_view_id:
                conn.execute(_DROP_PENDING, {"p_view": pending_view_id})
            if submission_key and (seen := self._seen(conn, submission_key, now)) is not None:
                return seen
            old = conn.execute(_OWNED, {f"p_{k}": v for k, v in row.owner.items()}).first()
            values = applied(row, self._rotation_days(conn, row), secrets, result, now, old)
            values = _write_credential(conn, row, values, old, auto_renew, now)
            sealed = [
                self._sealed(values["id"], values["team_id"], values["platform"], field, value)
                for field, value in secrets.items()
            ]
            conn.execute(_INSERT[SecretValue], sealed)
            reminders = schedule.planned_rows(SimpleNamespace(**values), now)
            if reminders:
                conn.execute(_INSERT[Reminder], reminders)
            upcoming = min((r["due_at"] for r in reminders), default=None)
            info = CredentialInfo.of_values(values, now, upcoming)
            replaced = old is not None
            detail = save_detail(info, secrets.keys(), result)
            _announce(conn, info, replaced, row.provided_by or info.user_id, detail, result, now)
            if submission_key:
                conn.execute(
                    _INSERT[Submission],
                    {"key": submission_key, "credential_id": info.id, "replaced": replaced,
                     "created_at": now},
                )  # fmt: skip
        return Saved(info, replaced=replaced, duplicate=False)

    @staticmethod
    def _rotation_days(conn: Connection, row: Incoming) -> int:
        """Per credential, else the workspace admins' default, else the operator's or the
        flow's (the precedence of Credentials.rotation_days_for)."""
        days = row.rotation_days
        if days is None and row.owner["team_id"]:
            days = conn.execute(
                _WORKSPACE_DAYS,
                {"p_enterprise": row.enterprise_id or "", "p_team": row.owner["team_id"]},
            ).scalar()
        return row.default_days if days is None else days

    def _seen(self, conn: Connection, submission_key: str, now: datetime) -> Saved | None:
        """The outcome of a submission already stored (Slack retried it), if it still is."""
        seen = conn.execute(_SEEN, {"p_key": submission_key}).first()
        if seen is None:
            return None
        first = conn.execute(_BY_ID, {"p_cred": seen.credential_id}).first()
        if first is not None:
            info = self._infos(conn, [first], now)[0]
            return Saved(info, replaced=seen.replaced, duplicate=True)
        conn.execute(_FORGET_SEEN, {"p_key": submission_key})  # deleted since: store it again
        return None


def _write_credential(
    conn: Connection,
    row: Incoming,
    values: dict[str, Any],
    old: sa.Row[Any] | None,
    auto_renew: bool | None,
    now: datetime,
) -> dict[str, Any]:
    """Insert the owner's credential, or update the row it replaces (dropping the old secret
    and its unsent reminders). Returns every column's value as written."""
    if old is None:
        values.update(
            id=uuid.uuid4().hex, created_at=now, version=1, rotated_at=None,
            enterprise_id=row.enterprise_id, auto_renew=bool(auto_renew), **row.owner,
        )  # fmt: skip
        conn.execute(_INSERT[Credential], values)
        return values
    values.update(version=old.version + 1, rotated_at=now)
    if auto_renew is not None:  # None keeps what the replaced credential had
        values["auto_renew"] = bool(auto_renew)
    conn.execute(_DROP_SECRETS, {"p_cred": old.id})
    conn.execute(_DROP_UNSENT, {"p_cred": old.id})
    conn.execute(_UPDATE, {"p_cred": old.id, **values})
    return {**old._mapping, **values}


def _announce(
    conn: Connection,
    info: CredentialInfo,
    replaced: bool,
    actor: str,
    detail: str,
    result: VerifyResult,
    now: datetime,
) -> None:
    """The save's audit event, the owner's confirmation (outbox intent) and the change with
    its webhook deliveries."""
    action = "replaced" if replaced else "stored"
    conn.execute(
        _INSERT[AuditEvent], audit.event_values(action, actor=actor, at=now, cred=info,
                                                detail=detail)
    )  # fmt: skip
    kind = outbox.REPLACED if replaced else outbox.STORED
    conn.execute(_INSERT[OutboxMessage], outbox.intent_values(kind, info, now))
    event = changes.VERIFIED if result.ok else changes.FAILING
    changes.record_core(conn, changes.event_values(event, team_id=info.team_id, at=now, cred=info))


def save_detail(cred: CredentialInfo, fields: Iterable[str], result: VerifyResult) -> str:
    parts = [f"version {cred.version}", "fields: " + ", ".join(sorted(fields))]
    if cred.store_name:
        parts.append(f"store: {cred.store_name}")
    if result.missing:
        parts.append("missing: " + ", ".join(result.missing))
    if cred.expires_at:
        parts.append(f"expires {cred.expires_at.isoformat()}")
    return "; ".join(parts)


def applied(
    row: Incoming,
    days: int,
    secrets: dict[str, str],
    result: VerifyResult,
    now: datetime,
    old: sa.Row[Any] | None,
) -> dict[str, Any]:
    """What a verified (or failing) submission sets on its row: a fresh start for every
    reminder, re-check and notice. `old`: the row it replaces, if any."""
    main = next(iter(secrets))
    return {
        "store_name": result.store_name or (old.store_name if old is not None else None),
        "missing": list(result.missing),
        "identifiers": dict(row.identifiers),
        "masked": mask(secrets[main]),
        "masked_field": main,
        "status": CredentialStatus.VERIFIED if result.ok else CredentialStatus.FAILING,
        "detail": result.detail or "",
        "verified_at": now if result.ok else (old.verified_at if old is not None else None),
        "last_checked_at": now,
        "next_check_at": now + RECHECK_EVERY,
        "expires_at": as_utc(result.expires_at) if result.expires_at else None,
        "rotation_days": days or None,
        "rotation_due_at": now + timedelta(days=days) if days else None,
        "reminders_stopped": False,
        "owner_gone_at": None,
        "snoozed_until": None,
        "failing_notified": False,
        "invalid_checks": 0,  # the owner acted: re-checks start over
        "provided_by": row.provided_by,
        "purpose": row.purpose,
        "needed_until": row.needed_until,
    }
