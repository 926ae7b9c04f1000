"""A save on every configured backend (bot.store.saving writes it with Core statements and
builds its read model from the values written): what it hands back is what a read finds, and
each row of its transaction is there, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store import Keyring, Store
from bot.store.admin import Defaults
from bot.vocabulary import CredentialStatus
from flows.base import Failure, VerifyResult
from tests.storage_fixtures import KEY_A, START, TWO, Clock, ok, two_values

pytest_plugins = ["tests.storage_fixtures"]

KID = Keyring.from_env(KEY_A).current_kid


def save(store: Store, n: int = 1, *, result: VerifyResult | None = None, **kw: Any):
    return store.save(
        team_id="T1", user_id="U1", flow=TWO, values=two_values(n), result=result or ok(), **kw
    )


def rows(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def test_the_saved_read_model_is_what_a_read_finds(store: Store, clock: Clock) -> None:
    soon = VerifyResult(ok=True, store_name="Shop", expires_at=START + timedelta(days=20),
                        missing=("orders",))  # fmt: skip
    first = save(store, 1, result=soon, auto_renew=True)
    assert first.credential == store.get(first.credential.id)
    assert first.credential.next_reminder_at == START + timedelta(days=6)  # 14 days before
    assert first.credential.missing == ["orders"] and first.credential.auto_renew is True
    clock.advance(hours=1)
    failing = VerifyResult(ok=False, failure=Failure.BAD_CREDENTIAL, detail="refused")
    second = save(store, 2, result=failing, needed_until=START + timedelta(days=10))
    info = second.credential
    assert (second.replaced, second.duplicate, info.id) == (True, False, first.credential.id)
    assert info == store.get(info.id)
    # A replacement keeps what it does not set: created, verified, auto-renew, enterprise.
    assert (info.version, info.created_at, info.verified_at) == (2, START, START)
    assert info.rotated_at == clock.now and info.auto_renew is True
    assert info.status == CredentialStatus.FAILING and info.detail == "refused"
    # Needed until a date: "still needed?" 3 days before it comes first, no rotation.
    assert info.next_reminder_at == START + timedelta(days=7)
    assert info.rotation_due_at == clock.now + timedelta(days=TWO.rotation_days)


def test_a_save_writes_each_row_of_its_transaction_once(store: Store, engine: Engine) -> None:
    store.set_webhook("T1", "https://hooks.example.com/in")
    store.submission_started("V1", team_id="T1", user_id="U1", platform=TWO.id)
    info = save(store, 1, submission_key="K1", pending_view_id="V1").credential
    cid = info.id
    sealed = rows(engine, "SELECT field, key_id FROM secret_value WHERE credential_id = :c "
                  "ORDER BY field", c=cid)  # fmt: skip
    assert sealed == [("access_token", KID), ("client_secret", KID)]
    assert rows(engine, "SELECT kind, stage, credential_version FROM reminder "
                "WHERE credential_id = :c", c=cid) == [("rotation", "rotation-due", 1)]  # fmt: skip
    assert rows(engine, "SELECT action, actor, team_id FROM audit_event") == [
        ("stored", "U1", "T1")
    ]
    assert rows(engine, "SELECT kind, credential_id, user_id FROM outbox") == [
        ("stored", cid, "U1")
    ]
    ((change_id, change_type),) = rows(engine, "SELECT id, type FROM change_event")
    assert change_type == "credential.verified"
    (delivery,) = rows(
        engine, "SELECT change_id, event_type, attempts, delivered, done_at FROM webhook_delivery"
    )
    assert delivery == (change_id, "credential.verified", 0, False, None)
    assert store.changes_since("T1")[0].data["credential"]["id"] == cid
    assert rows(engine, "SELECT key, credential_id FROM submission") == [("K1", cid)]
    assert store.pending_submissions() == []
    # Retried by Slack: the first outcome, nothing written again.
    again = save(store, 1, submission_key="K1")
    assert again.duplicate and again.credential == store.get(cid)
    assert len(rows(engine, "SELECT id FROM change_event")) == 1


def test_a_replacement_drops_the_old_secret_and_unsent_reminders(
    store: Store, engine: Engine
) -> None:
    cid = save(store, 1).credential.id
    with engine.begin() as conn:  # one reminder already sent: it stays
        conn.execute(sa.text("UPDATE reminder SET sent_at = due_at"))
    save(store, 2)
    assert rows(engine, "SELECT credential_version, sent_at IS NULL FROM reminder "
                "ORDER BY id") == [(1, False), (2, True)]  # fmt: skip
    assert store.secret_values(cid)["access_token"] == two_values(2)["access_token"]
    assert len(rows(engine, "SELECT field FROM secret_value")) == 2


def test_the_rotation_period_comes_from_the_save_the_workspace_or_the_flow(
    store: Store,
) -> None:
    assert save(store, 1).credential.rotation_days == TWO.rotation_days
    store.set_workspace_defaults("T1", None, Defaults(rotation_days=45), actor="admin")
    assert save(store, 2).credential.rotation_days == 45
    assert save(store, 3, rotation_days=10).credential.rotation_days == 10
    assert save(store, 4, rotation_days=0).credential.rotation_due_at is None
