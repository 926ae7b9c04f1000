"""Synthetic credentials in bulk, for benchmarks and concurrency tests.

Rows are written with multi-row INSERTs (not one Store.save per credential), but they are real
rows: secrets encrypted with the right associated data, one reminder per credential, so the
Store reads, reveals and sweeps them like any other.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store.crypto import Keyring
from bot.store.db import SQLITE_BEGIN
from bot.store.models import Credential, Reminder, SecretValue
from bot.store.repository import Store
from flows.base import mask

_CHUNK = 5_000


def seed(
    engine: Engine,
    keyring: Keyring,
    *,
    count: int,
    due: int,
    now: datetime,
    team_id: str = "TSEED",
    platform: str = "wix",
) -> int:
    """Insert `count` credentials; the first `due` have an expiry reminder already due at
    `now`, the rest have a rotation reminder spread over the next 180 days. Returns the
    highest reminder id written."""
    for start in range(0, count, _CHUNK):
        creds, secrets, reminders = [], [], []
        for n in range(start, min(count, start + _CHUNK)):
            cid = uuid.uuid4().hex
            secret = f"seed-secret-{cid}"
            creds.append(
                {
                    "id": cid,
                    "team_id": team_id,
                    "user_id": f"U{n % 1000:04d}",
                    "platform": platform,
                    "identity": f"store-{n}",
                    "store_name": f"Store {n}",
                    "identifiers": {"account_id": f"store-{n}"},
                    "masked": mask(secret),
                    "masked_field": "api_key",
                    "status": "verified",
                    "detail": "",
                    "verified_at": now,
                    "last_checked_at": now,
                    "next_check_at": now + timedelta(seconds=86_400 * (n % 97) / 97 + 60),
                    "expires_at": now + timedelta(days=14) if n < due else None,
                    "rotation_days": 180,
                    "rotation_due_at": now + timedelta(days=1 + n % 180),
                    "created_at": now,
                    "rotated_at": None,
                    "version": 1,
                    "reminders_stopped": False,
                    "snoozed_until": None,
                    "failing_notified": False,
                }
            )
            secrets.append(
                {
                    "credential_id": cid,
                    "field": "api_key",
                    "token": keyring.encrypt(
                        secret,
                        Store._aad(cid, team_id, platform, "api_key"),
                    ),
                    "key_id": keyring.current_kid,
                }
            )
            if n < due:
                reminder = ("expiry", "expiry-14d", now - timedelta(minutes=1 + n % 60))
            else:
                reminder = ("rotation", "rotation-due", now + timedelta(days=1 + n % 180))
            reminders.append(
                {
                    "credential_id": cid,
                    "credential_version": 1,
                    "kind": reminder[0],
                    "stage": reminder[1],
                    "origin": "plan",
                    "due_at": reminder[2],
                }
            )
        with engine.connect() as conn:
            conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                conn.execute(sa.insert(Credential), creds)
                conn.execute(sa.insert(SecretValue), secrets)
                conn.execute(sa.insert(Reminder), reminders)
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.max(Reminder.id))) or 0)
