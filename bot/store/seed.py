"""Synthetic credentials in bulk, for benchmarks and concurrency tests.

The rows are real: secrets encrypted with the right associated data, one reminder per
credential, so the Store reads, reveals and sweeps them like any other. They are written with
the driver's bulk paths (executemany on SQLite, COPY on PostgreSQL) because per-row ORM or
even Core parameter processing would dominate a 100,000-credential benchmark set-up.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.store.crypto import Keyring
from bot.store.db import SQLITE_BEGIN
from bot.store.models import Reminder
from bot.store.repository import Store
from flows.base import mask

_CHUNK = 10_000

CREDENTIAL_COLUMNS = (
    "id", "team_id", "user_id", "platform", "identity", "store_name", "identifiers", "masked",
    "masked_field", "status", "detail", "verified_at", "last_checked_at", "next_check_at",
    "expires_at", "rotation_days", "rotation_due_at", "created_at", "rotated_at", "version",
    "reminders_stopped", "snoozed_until", "failing_notified", "auto_renew",
)  # fmt: skip
SECRET_COLUMNS = ("credential_id", "field", "token", "key_id")
REMINDER_COLUMNS = ("credential_id", "credential_version", "kind", "stage", "origin", "due_at")


def seed(
    engine: Engine,
    keyring: Keyring,
    *,
    count: int,
    due: int,
    now: datetime,
    team_id: str = "TSEED",
    platform: str = "wix",
    users: Sequence[str] = (),
    platforms: Sequence[str] = (),
) -> int:
    """Insert `count` credentials; the first `due` have an expiry reminder already due at
    `now`, the rest a rotation reminder spread over the next 180 days. Owners and platforms
    go round `users` and `platforms` when given. Returns the highest reminder id afterwards."""
    for start in range(0, count, _CHUNK):
        creds, secrets, reminders = [], [], []
        for n in range(start, min(count, start + _CHUNK)):
            cid = uuid.uuid4().hex
            owner = users[n % len(users)] if users else f"U{n % 1000:04d}"
            on = platforms[n % len(platforms)] if platforms else platform
            secret = f"seed-secret-{cid}"
            expires = now + timedelta(days=14) if n < due else None
            creds.append(
                (
                    cid, team_id, owner, on, f"store-{n}", f"Store {n}",
                    json.dumps({"account_id": f"store-{n}"}), mask(secret), "api_key",
                    "verified", "", now, now,
                    now + timedelta(seconds=86_400 * (n % 97) / 97 + 60),
                    expires, 180, now + timedelta(days=1 + n % 180), now, None, 1,
                    False, None, False, False,
                )
            )  # fmt: skip
            aad = Store.secret_aad(cid, team_id, on, "api_key")
            secrets.append((cid, "api_key", keyring.encrypt(secret, aad), keyring.current_kid))
            if n < due:
                reminder = ("expiry", "expiry-14d", now - timedelta(minutes=1 + n % 60))
            else:
                reminder = ("rotation", "rotation-due", now + timedelta(days=1 + n % 180))
            reminders.append((cid, 1, reminder[0], reminder[1], "plan", reminder[2]))
        with engine.connect() as conn:
            conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                _write(conn, "credential", CREDENTIAL_COLUMNS, creds)
                _write(conn, "secret_value", SECRET_COLUMNS, secrets)
                _write(conn, "reminder", REMINDER_COLUMNS, reminders)
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.max(Reminder.id))) or 0)


def _write(
    conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    elif conn.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
            [tuple(_sqlite(v) for v in row) for row in rows],
        )
    else:
        table_obj = sa.table(table, *(sa.column(c) for c in columns))
        conn.execute(sa.insert(table_obj), [dict(zip(columns, row, strict=True)) for row in rows])


def _sqlite(value: Any) -> Any:
    # The text form SQLAlchemy's SQLite DateTime uses: naive UTC, always with microseconds,
    # so that string comparisons in queries order correctly.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value
