"""Every encrypted column is in one registry that key rotation and the health check read: a
new encrypted table cannot be forgotten, rotation re-encrypts webhook signing secrets, and a
table the keyring cannot open makes the store unhealthy (so /healthz says 503)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import bot.store.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from bot.store import Keyring, Store
from bot.store.encrypted import NOT_ROTATED, REGISTRY
from tests.storage_fixtures import KEY_A, KEY_B, TWO, Clock, ok, two_values

pytest_plugins = ["tests.storage_fixtures"]

BOT_TOKEN = "xoxb-1111-SECRET-bot-token-9f8e7d"


def fill_every_table(store: Store) -> tuple[str, str]:
    """One row in each encrypted table; returns (credential id, webhook secret)."""
    cid = store.save(
        team_id="T1", user_id="U1", flow=TWO, values=two_values(1), result=ok()
    ).credential.id
    store.save_installation(
        Installation(
            app_id="A1", team_id="T1", bot_token=BOT_TOKEN, bot_id="B1", bot_user_id="UBOT",
            user_id="U1", installed_at=datetime(2030, 1, 1, tzinfo=UTC).timestamp(),
        )
    )
    secret = store.set_webhook("T1", "https://tool.example.com/hooks")
    return cid, secret


def test_every_table_with_a_key_id_is_registered() -> None:
    registered = {t.name for t in REGISTRY}
    with_key_id = {
        name for name, table in SQLModel.metadata.tables.items() if "key_id" in table.c
    }
    assert with_key_id - NOT_ROTATED == registered
    for entry in REGISTRY:
        columns = SQLModel.metadata.tables[entry.name].c
        # Every column that holds a token is listed (a new one would be silently skipped).
        tokens = {c.name for c in columns if c.name.endswith("token") and c.name != "key_id"}
        assert tokens == set(entry.columns), entry.name


def test_rotation_covers_every_registered_table_and_the_old_key_can_go(
    engine: Engine, clock: Clock
) -> None:
    old = Store(engine, Keyring.from_env(KEY_A), clock=clock)
    cid, secret = fill_every_table(old)
    expected = old.secret_values(cid)

    both = Store(engine, Keyring.from_env(f"{KEY_B},{KEY_A}"), clock=clock)
    report = both.rotate_keys(batch=1)
    assert report.reencrypted == report.total >= len(REGISTRY)
    new_kid = Keyring.from_env(KEY_B).current_kid
    with engine.connect() as conn:
        for entry in REGISTRY:
            kids = set(conn.execute(sa.select(entry.model.key_id)).scalars())  # type: ignore[attr-defined]
            assert kids == {new_kid}, entry.name

    new_only = Store(engine, Keyring.from_env(KEY_B), clock=clock)
    new_only.ensure_canary()
    assert new_only.secret_values(cid) == expected
    found = new_only.find_installation(None, "T1")
    assert found is not None and found.bot_token == BOT_TOKEN
    # A delivery of the workspace's webhook is claimed and signed with the same secret.
    new_only.save(team_id="T1", user_id="U1", flow=TWO, values=two_values(2, store="x"),
                  result=ok())
    clock.advance(seconds=1)
    items = new_only.claim_deliveries()
    assert items and {i.secret for i in items} == {secret}
    assert new_only.health().ok


def test_health_names_a_table_the_keyring_cannot_open(engine: Engine, clock: Clock) -> None:
    old = Store(engine, Keyring.from_env(KEY_A), clock=clock)
    _cid, secret = fill_every_table(old)
    # Everything but the webhook secret re-encrypted under B (what the old rotation did).
    both = Store(engine, Keyring.from_env(f"{KEY_B},{KEY_A}"), clock=clock)
    a_kid, b_kid = Keyring.from_env(KEY_A).current_kid, Keyring.from_env(KEY_B).current_kid
    with engine.begin() as conn:  # marked as current, so rotation passes it by
        conn.execute(sa.update(REGISTRY[2].model).values(key_id=b_kid))  # type: ignore[arg-type]
    both.rotate_keys()
    with engine.begin() as conn:
        conn.execute(sa.update(REGISTRY[2].model).values(key_id=a_kid))  # type: ignore[arg-type]

    new_only = Store(engine, Keyring.from_env(KEY_B), clock=clock)
    new_only.ensure_canary()
    report = new_only.health()
    assert not report.ok and not report.keyring
    assert any("webhook" in p and a_kid in p for p in report.problems), report.problems
    assert secret not in repr(report) and BOT_TOKEN not in repr(report)
    # A row whose key id is configured but whose token does not open is named too.
    with engine.begin() as conn:
        conn.execute(sa.update(REGISTRY[2].model).values(key_id=b_kid))  # type: ignore[arg-type]
    report = new_only.health()
    assert any("webhook" in p and "cannot be decrypted" in p for p in report.problems), report
