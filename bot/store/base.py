"""What every part of the Store shares: the engine, the keyring, the clock and short sessions.

One Store per process, shared by threads: it holds only the engine and the keyring, and each
call opens its own short session. On SQLite every write transaction starts with BEGIN
IMMEDIATE (see db.py), so concurrent writers queue instead of failing half-way; within this
process they queue on a lock first (db.write_turn). Writes every submission waits on use plain
connections and Core statements (`_transaction`; bot.store.saving) rather than a Session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from bot.clock import as_utc, utcnow
from bot.store.crypto import Keyring
from bot.store.db import SQLITE_BEGIN, write_turn
from bot.store.info import CredentialInfo, CredentialNotFound
from bot.store.models import Credential, Reminder


class StoreCore:
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

    @contextmanager
    def _session(self, *, write: bool) -> Iterator[Session]:
        with (
            write_turn(self._engine) if write else nullcontext(),
            Session(self._engine, expire_on_commit=False, autoflush=True) as session,
        ):
            if write:
                # Take the write lock before reading anything (SQLite; no-op elsewhere).
                session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A write transaction on a plain connection, for Core statements only: none of a
        Session's bookkeeping (bot.store.saving). Committed on success, else rolled back."""
        with write_turn(self._engine), self._engine.connect() as conn:
            # Take the write lock before reading anything (SQLite; no-op elsewhere).
            conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                yield conn

    def _now(self) -> datetime:
        return as_utc(self._clock())

    def _infos(
        self,
        session: Session | Connection,
        creds: Iterable[Credential | sa.Row[Any]],
        now: datetime,
    ) -> list[CredentialInfo]:
        """Read models of credentials (tracked objects, or plain rows of the credential
        table), with each one's next reminder."""
        creds = list(creds)
        if not creds:
            return []
        rows = session.execute(
            sa.select(Reminder.credential_id, sa.func.min(Reminder.due_at))
            .join(Credential, Credential.id == Reminder.credential_id)
            .where(
                Reminder.credential_id.in_([c.id for c in creds]),
                Reminder.sent_at.is_(None),
                Reminder.credential_version == Credential.version,
            )
            .group_by(Reminder.credential_id)
        ).all()
        # min() bypasses the column type on SQLite, so normalise what comes back.
        upcoming = {cid: from_db(due) for cid, due in rows}
        return [CredentialInfo.of(c, now, upcoming.get(c.id)) for c in creds]

    def _one(self, session: Session, credential_id: str, *, lock: bool = True) -> Credential:
        # Locked (PostgreSQL) so concurrent changes to one credential apply one after the
        # other instead of overwriting each other; SQLite's write lock already does that.
        cred = session.get(Credential, credential_id, with_for_update=lock or None)
        if cred is None:
            raise CredentialNotFound(f"No credential with id {credential_id}.")
        return cred


def from_db(value: object) -> datetime | None:
    """A datetime read outside the column type (aggregates on SQLite return text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
