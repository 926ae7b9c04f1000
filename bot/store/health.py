"""Honest health: the database answers, accepts a write, and the keyring opens what is stored.

Each key id that ever encrypted anything here has a small encrypted canary, so a keyring that
cannot decrypt (wrong key, missing old key) is found at once rather than by the next person
whose secret fails. Reasons name key ids and error types, never a secret. A check runs in a
daemon thread with a deadline, so a database that never answers makes the report unhealthy
instead of hanging the caller; while one check is stuck, callers get the verdict at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.store.base import StoreCore
from bot.store.crypto import DecryptError, aad_for
from bot.store.encrypted import keyring_problems
from bot.store.models import Heartbeat, KeyCanary

log = logging.getLogger(__name__)

CANARY_TEXT = "getkey canary"


@dataclass(frozen=True)
class HealthReport:
    database: bool  # a query was answered
    writable: bool  # a write transaction committed
    keyring: bool  # every stored key id is configured and decrypts its canary
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.database and self.writable and self.keyring


def canary_aad(kid: str) -> bytes:
    return aad_for("getkey-canary", kid)


def _upsert(s: Session, model: type, values: dict[str, object], *, update: bool) -> None:
    """INSERT … ON CONFLICT on the primary key: race-free on both backends."""
    # Imported for the backend in use only: SQLAlchemy's PostgreSQL dialect is about 2 MB that
    # a process serving SQLite does not need (issue 21).
    insert: Callable[..., sa.Insert]
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(model).values(**values)
    key = [c.name for c in sa.inspect(model).primary_key]
    if update:
        rest = {k: v for k, v in values.items() if k not in key}
        statement = statement.on_conflict_do_update(index_elements=key, set_=rest)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=key)
    s.execute(statement)


class Health(StoreCore):
    _health_lock = threading.Lock()

    def ensure_canary(self) -> None:
        """Write the canary of the current key if it has none (call at start-up)."""
        with self._session(write=True) as s:
            self._write_canary(s, self._now())

    def _write_canary(self, s: Session, now: datetime) -> None:
        kid = self._keyring.current_kid
        if s.get(KeyCanary, kid) is None:
            token = self._keyring.encrypt(CANARY_TEXT, canary_aad(kid))
            _upsert(s, KeyCanary, {"key_id": kid, "token": token, "created_at": now}, update=False)

    def health(self, timeout: float = 2.0) -> HealthReport:
        """Check the database and the keyring within `timeout` seconds."""
        with self._health_lock:
            running: Future[HealthReport] | None = getattr(self, "_health_running", None)
            if running is None or running.done():
                running = Future()
                self._health_running = running
                threading.Thread(
                    target=self._check_into, args=(running,), name="getkey-health", daemon=True
                ).start()
        try:
            return running.result(timeout)
        except FutureTimeout:
            return HealthReport(
                False, False, False, (f"the database did not answer within {timeout:g} s",)
            )

    def healthy(self) -> bool:
        return self.health().ok

    def _check_into(self, future: Future[HealthReport]) -> None:
        try:
            future.set_result(self._check())
        except BaseException as exc:  # a check must always settle its future
            future.set_result(
                HealthReport(False, False, False, (f"health check failed: {type(exc).__name__}",))
            )

    def _check(self) -> HealthReport:
        try:
            with self._engine.connect() as conn:
                conn.execute(sa.text("SELECT 1")).scalar()
        except Exception as exc:
            log.warning("database health check failed", extra={"error": type(exc).__name__})
            return HealthReport(
                False, False, False, (f"the database does not answer ({type(exc).__name__})",)
            )
        problems: list[str] = []
        writable = True
        try:
            with self._session(write=True) as s:
                now = self._now()
                _upsert(s, Heartbeat, {"id": 1, "at": now}, update=True)
                self._write_canary(s, now)
        except Exception as exc:
            writable = False
            problems.append(f"the database refuses writes ({type(exc).__name__})")
        keyring_problems = self._keyring_problems()
        problems.extend(keyring_problems)
        if problems:
            log.warning("health check found problems", extra={"problems": problems})
        return HealthReport(True, writable, not keyring_problems, tuple(problems))

    def _keyring_problems(self) -> list[str]:
        kids = set(self._keyring.kids)
        problems = []
        with self._session(write=False) as s:
            for canary in s.scalars(sa.select(KeyCanary).where(KeyCanary.key_id.in_(kids))):
                try:
                    if (
                        self._keyring.decrypt(canary.token, canary_aad(canary.key_id))
                        == CANARY_TEXT
                    ):
                        continue
                except DecryptError:
                    pass
                problems.append(f"key {canary.key_id} does not decrypt its canary")
            # Every encrypted table: keys it needs that are missing, rows that do not open.
            problems.extend(keyring_problems(self._keyring, s))
        return problems
