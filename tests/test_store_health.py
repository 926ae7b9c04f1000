"""Honest health: healthy only when the database answers, accepts writes and the keyring opens
what is stored; a silent database never hangs the caller; reasons never carry a secret."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from bot.store import Keyring, Store, make_engine
from bot.store.health import canary_aad
from bot.store.models import KeyCanary
from tests.storage_fixtures import KEY_A, KEY_B, TWO, Backend, Clock, ok, two_values

pytest_plugins = ["tests.storage_fixtures"]


def save_one(store: Store) -> str:
    return store.save(
        team_id="T1", user_id="U1", flow=TWO, values=two_values(1), result=ok()
    ).credential.id


def secrets_in(text: str) -> bool:
    return any(v in text for k, v in two_values(1).items() if k != "store_hash")


def test_a_working_store_is_healthy_and_keeps_a_canary(store: Store, engine: Engine) -> None:
    save_one(store)
    report = store.health()
    assert report.ok and report.problems == ()
    assert store.healthy() is True
    with engine.connect() as conn:
        kids = conn.execute(sa.select(KeyCanary.key_id)).scalars().all()
    assert kids == [Keyring.from_env(KEY_A).current_kid]


def test_started_with_the_wrong_key_is_unhealthy(engine: Engine, clock: Clock) -> None:
    right = Store(engine, Keyring.from_env(KEY_A), clock=clock)
    save_one(right)
    right.ensure_canary()
    report = Store(engine, Keyring.from_env(KEY_B), clock=clock).health()
    assert (report.database, report.writable, report.keyring) == (True, True, False)
    assert any(Keyring.from_env(KEY_A).current_kid in p for p in report.problems)
    assert not secrets_in(repr(report)) and KEY_A not in repr(report)
    # With the old key configured after the new one, everything is readable again.
    assert Store(engine, Keyring.from_env(f"{KEY_B},{KEY_A}"), clock=clock).health().ok


def test_a_canary_that_does_not_decrypt_is_unhealthy(store: Store, engine: Engine) -> None:
    store.ensure_canary()
    keyring = Keyring.from_env(KEY_A)
    forged = keyring.encrypt("getkey canary", canary_aad("another-key"))
    with engine.begin() as conn:
        conn.execute(sa.update(KeyCanary).values(token=forged))
    report = store.health()
    assert not report.ok and report.keyring is False
    assert report.problems == (f"key {keyring.current_kid} does not decrypt its canary",)


def _read_only_url(backend: Backend, tmp_path: Path) -> str:
    if backend.name == "sqlite":
        path = Path(make_url(backend.url).database or "")
        copy = tmp_path / "readonly.db"
        shutil.copyfile(path, copy)
        return f"sqlite:///file:{copy}?mode=ro&uri=true"
    parsed = make_url(backend.url)
    options = f"{parsed.query['options']} -cdefault_transaction_read_only=on"
    return parsed.set(query={**parsed.query, "options": options}).render_as_string(False)


def test_a_read_only_database_is_unhealthy(backend: Backend, tmp_path: Path) -> None:
    url = _read_only_url(backend, tmp_path)
    engine = make_engine(url)
    try:
        report = Store(engine, Keyring.from_env(KEY_A)).health()
    finally:
        engine.dispose()
    assert (report.database, report.writable, report.ok) == (True, False, False)
    assert any("refuses writes" in p for p in report.problems)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_a_silent_database_is_reported_not_waited_for(silent_server: int) -> None:
    engine = make_engine(
        f"postgresql+psycopg://nobody@127.0.0.1:{silent_server}/none", connect_timeout=2
    )
    store = Store(engine, Keyring.from_env(KEY_A))
    report = store.health(timeout=0.5)
    assert not report.ok and report.problems == ("the database did not answer within 0.5 s",)
    # Connecting itself gives up instead of hanging (the connect timeout).
    outcome: list[BaseException] = []

    def connect() -> None:
        try:
            engine.connect().close()
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "connecting to a silent database never gave up"
    assert outcome and isinstance(outcome[0], sa.exc.OperationalError)
    engine.dispose()


def test_every_session_has_a_limit_on_waiting(backend: Backend, engine: Engine) -> None:
    with engine.connect() as conn:
        if backend.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15_000
            return
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "30s"
        # The schema chosen in the URL's options survives the added timeout.
        assert conn.exec_driver_sql("SHOW search_path").scalar().startswith("getkey_test_")
