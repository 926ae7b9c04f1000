"""The retention job (issue 17) removes exactly what its settings say, on SQLite and PostgreSQL;
audit rows younger than 90 days cannot be deleted by anyone (the database refuses)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import metrics
from bot.jobs.retention import Retention, retention_days
from bot.settings import load_partial
from bot.store import Keyring, Store
from bot.store.models import AuditEvent, OutboxMessage
from bot.store.sharing_models import ChangeEvent, WebhookAttempt, WebhookDelivery
from bot.store.upkeep import RetentionDays
from tests.storage_fixtures import KEY_A

pytest_plugins = ["tests.storage_fixtures"]

# Real time: the audit triggers compare with the database's own clock.
NOW = datetime.now(UTC).replace(microsecond=0)
TEAM = "T0RETAIN"


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def seed(engine: Engine, store: Store) -> dict[str, Any]:
    """Rows on both sides of each default period; returns their ids by name."""
    store.set_webhook(TEAM, "https://hooks.example.com/retention")
    ids: dict[str, Any] = {}
    with Session(engine) as s:
        hook_id = s.execute(sa.text("SELECT id FROM webhook WHERE team_id = :t"),
                            {"t": TEAM}).scalar_one()
        for name, days in (("change_old", 31), ("change_young", 29), ("change_waited", 40)):
            row = ChangeEvent(team_id=TEAM, type="credential.verified", at=ago(days), data={})
            s.add(row)
            s.flush()
            ids[name] = row.id
        for name, done_days, change in (("delivery_old", 31, "change_old"),
                                        ("delivery_young", 29, "change_young"),
                                        ("delivery_pending", None, "change_waited")):
            created = ago(done_days or 40)
            delivery = WebhookDelivery(
                webhook_id=hook_id, change_id=ids[change], event_type="credential.verified",
                created_at=created, next_attempt_at=created,
                done_at=ago(done_days) if done_days else None, delivered=bool(done_days))
            s.add(delivery)
            s.flush()
            ids[name] = delivery.id
            attempt = WebhookAttempt(delivery_id=delivery.id, at=created, status=200)
            s.add(attempt)
            s.flush()
            ids[name.replace("delivery", "attempt")] = attempt.id
        for name, sent_days, created_days in (("outbox_old", 8, 9), ("outbox_young", 6, 7),
                                              ("outbox_unsent", None, 30)):
            msg = OutboxMessage(kind="stored", team_id=TEAM, user_id="U1",
                                created_at=ago(created_days), next_attempt_at=ago(created_days),
                                sent_at=ago(sent_days) if sent_days else None)
            s.add(msg)
            s.flush()
            ids[name] = msg.id
        for name, days in (("audit_old", 401), ("audit_kept", 399), ("audit_recent", 10)):
            event = AuditEvent(at=ago(days), action="stored", actor="test")
            s.add(event)
            s.flush()
            ids[name] = event.id
        s.commit()
    return ids


def remaining(engine: Engine) -> dict[str, set[int]]:
    with Session(engine) as s:
        return {model.__tablename__: set(s.scalars(sa.select(model.id)))  # type: ignore[attr-defined]
                for model in (ChangeEvent, WebhookDelivery, WebhookAttempt, OutboxMessage,
                              AuditEvent)}


@pytest.fixture
def real_time_store(engine: Engine) -> Store:
    return Store(engine, Keyring.from_env(KEY_A), clock=lambda: NOW)


def test_defaults_remove_only_what_is_past_its_period(engine, real_time_store):
    ids = seed(engine, real_time_store)
    deleted = real_time_store.prune(RetentionDays())
    left = remaining(engine)
    assert left["change_event"] == {ids["change_young"], ids["change_waited"]}
    assert left["webhook_delivery"] == {ids["delivery_young"], ids["delivery_pending"]}
    # The pending delivery stays; its 40-day-old attempt goes (attempts are kept 30 days).
    assert left["webhook_attempt"] == {ids["attempt_young"]}
    assert left["outbox"] == {ids["outbox_young"], ids["outbox_unsent"]}
    assert left["audit_event"] == {ids["audit_kept"], ids["audit_recent"]}
    assert deleted == {"change_event": 1, "webhook_attempt": 2, "webhook_delivery": 1,
                       "outbox": 1, "audit_event": 1}
    assert real_time_store.prune(RetentionDays()) == dict.fromkeys(deleted, 0)  # idempotent


def test_the_settings_decide_through_the_job(engine, real_time_store):
    ids = seed(engine, real_time_store)
    settings = load_partial({"GETKEY_RETENTION_CHANGE_DAYS": "100",
                             "GETKEY_RETENTION_WEBHOOK_DAYS": "1",
                             "GETKEY_RETENTION_OUTBOX_DAYS": "30",
                             "GETKEY_RETENTION_AUDIT_DAYS": "90"})
    assert retention_days(settings) == RetentionDays(change=100, webhook=1, outbox=30, audit=90)
    counter = metrics.RETENTION_DELETED.labels("webhook_delivery")
    before = counter._value.get()

    async def quick(fn: Any, *args: Any) -> Any:
        return fn(*args)

    asyncio.run(Retention(real_time_store, settings, quick).run())
    left = remaining(engine)
    assert len(left["change_event"]) == 3  # nothing is 100 days old
    assert left["webhook_delivery"] == {ids["delivery_pending"]}
    assert left["webhook_attempt"] == set()
    assert len(left["outbox"]) == 3
    assert left["audit_event"] == {ids["audit_recent"]}
    assert counter._value.get() == before + 2


def test_recent_audit_rows_cannot_be_deleted_or_changed(engine, real_time_store):
    ids = seed(engine, real_time_store)
    for statement in ("DELETE FROM audit_event WHERE id = :id",
                      "UPDATE audit_event SET actor = 'x' WHERE id = :id"):
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
            conn.execute(sa.text(statement), {"id": ids["audit_recent"]})
    with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_event SET actor = 'x' WHERE id = :id"),
                     {"id": ids["audit_old"]})
    # Even a setting below the floor cannot reach them: the store never asks for < 90 days.
    real_time_store.prune(RetentionDays(change=1, webhook=1, outbox=1, audit=1))
    assert remaining(engine)["audit_event"] == {ids["audit_recent"]}


def test_the_audit_floor_cannot_be_set_lower():
    with pytest.raises(Exception) as exc:
        load_partial({"GETKEY_RETENTION_AUDIT_DAYS": "30"})
    assert "GETKEY_RETENTION_AUDIT_DAYS" in str(exc.value) and "90" in str(exc.value)
