"""The Store on every configured backend: what a person stores comes back intact, replaces
cleanly, never sits in the database in clear, and cannot be moved between rows."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store import CredentialNotFound, DecryptError, Keyring, Store
from bot.store.models import SecretValue
from bot.store.tables import TABLES
from flows.base import Failure, VerifyResult
from flows.wix import FLOW as WIX
from tests.storage_fixtures import KEY_A, KEY_B, TWO, Backend, Clock, ok, two_values

pytest_plugins = ["tests.storage_fixtures"]

WIX_KEY = (
    "IST.eyJraWQiOiJQb3pIX2FDMiIsImFsZyI6IlJTMjU2In0"
    ".eyJkYXRhIjoie1wiaWRcIjpcImFiY1wifSJ9.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZw"
)
WIX_ACCOUNT = "1a2b3c4d-1234-5678-9abc-1234567890ab"


def save_two(store: Store, n: int = 1, *, user: str = "U1", store_hash: str = "abc123", **kw):
    return store.save(
        team_id="T1",
        user_id=user,
        flow=TWO,
        values=two_values(n, store=store_hash),
        result=ok(),
        **kw,
    )


def dump_database(engine: Engine) -> str:
    """Every row of every table as text: what someone with a database dump would see."""
    out = []
    with engine.connect() as conn:
        for table in TABLES:
            out.extend(repr(tuple(row)) for row in conn.execute(sa.text(f"SELECT * FROM {table}")))
    return "\n".join(out)


def test_save_list_get_reveal_delete_round_trip(store: Store) -> None:
    saved = store.save(
        team_id="T1",
        user_id="U1",
        flow=WIX,
        values={"api_key": WIX_KEY, "account_id": WIX_ACCOUNT, "site_id": ""},
        result=VerifyResult(ok=True, store_name="Plant Shop", granted=("site list",)),
    )
    info = saved.credential
    assert (saved.replaced, saved.duplicate) == (False, False)
    assert (info.platform, info.identity, info.store_name) == ("wix", WIX_ACCOUNT, "Plant Shop")
    assert info.identifiers == {"account_id": WIX_ACCOUNT}
    assert info.masked == "••••••" + WIX_KEY[-4:] and info.status == "verified"
    assert info.rotation_days == WIX.rotation_days
    assert info.rotation_due_at == info.created_at + timedelta(days=WIX.rotation_days)
    assert info.next_reminder_at == info.rotation_due_at
    assert WIX_KEY not in repr(info)

    assert store.list_for_user("T1", "U1") == [info]
    assert store.list_for_user("T1", "U2") == [] and store.list_for_user("T2", "U1") == []
    assert store.get(info.id) == info
    assert store.secret_values(info.id) == {"api_key": WIX_KEY}
    assert store.reveal(info.id, actor="operator:ana") == {
        "api_key": WIX_KEY,
        "account_id": WIX_ACCOUNT,
    }

    assert store.delete(info.id, actor="U1") is True
    assert store.get(info.id) is None and store.list_for_user("T1", "U1") == []
    assert store.delete(info.id, actor="U1") is False
    with pytest.raises(CredentialNotFound):
        store.reveal(info.id, actor="operator:ana")
    events = [(e.action, e.actor) for e in store.audit_events(info.id)]
    assert events == [("stored", "U1"), ("revealed", "operator:ana"), ("deleted", "U1")]


def test_same_store_again_replaces_the_secret(store: Store, clock: Clock) -> None:
    first = save_two(store, 1).credential
    clock.advance(days=10)
    second = save_two(store, 2)
    assert (second.replaced, second.duplicate) == (True, False)
    info = second.credential
    assert info.id == first.id and info.version == 2
    assert info.rotated_at == clock.now and info.created_at == first.created_at
    assert info.rotation_due_at == clock.now + timedelta(days=TWO.rotation_days)
    assert store.secret_values(info.id) == {
        k: v for k, v in two_values(2).items() if k != "store_hash"
    }
    assert len(store.list_for_user("T1", "U1")) == 1
    history = [(e.action, e.at) for e in store.audit_events(info.id)]
    assert history == [("stored", first.created_at), ("replaced", clock.now)]
    # Another store, or another person's copy of the same store, is a separate credential.
    assert save_two(store, 3, store_hash="other").replaced is False
    assert save_two(store, 4, user="U2").replaced is False
    assert len(store.list_for_user("T1", "U1")) == 2


def test_no_secret_in_any_table_or_audit_row(store: Store, engine: Engine) -> None:
    a = save_two(store, 1).credential
    save_two(store, 2)  # replacement: the old secret must not linger anywhere either
    store.reveal(a.id, actor="operator:ana")
    store.replace_secret(a.id, {"access_token": "tok-SECRET-refresh-99887766"}, actor="getkey")
    dump = dump_database(engine)
    for value in (*two_values(1).values(), *two_values(2).values(), "tok-SECRET-refresh"):
        if value != "abc123":  # the store hash is an identifier, not a secret
            assert value not in dump
    for event in store.audit_events():
        assert "SECRET" not in repr(event)


def test_secret_not_in_sqlite_file_bytes(tmp_path: Path, sqlite_template: Path) -> None:
    from bot.store import make_engine

    path = tmp_path / "bytes.db"
    path.write_bytes(sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{path}")
    store = Store(engine, Keyring.from_env(KEY_A))
    info = save_two(store, 7).credential
    store.reveal(info.id, actor="operator:ana")
    secret_parts = [v.encode() for k, v in two_values(7).items() if k != "store_hash"]
    files = [p for p in tmp_path.iterdir() if p.name.startswith("bytes.db")]
    assert any(p.name.endswith("-wal") for p in files), files  # WAL holds the fresh writes
    for file in files:
        data = file.read_bytes()
        for secret in secret_parts:
            assert secret not in data and secret[-12:] not in data, file.name
    engine.dispose()
    data = path.read_bytes()  # after the checkpoint on close
    assert all(secret not in data for secret in secret_parts)
    assert info.id.encode() in data  # the search does look at real content


def test_swapped_ciphertexts_fail_to_decrypt(store: Store, engine: Engine) -> None:
    a = save_two(store, 1).credential
    b = save_two(store, 2, store_hash="other").credential
    with engine.begin() as conn:
        table = SecretValue.__table__  # type: ignore[attr-defined]
        tokens = dict(
            conn.execute(
                sa.select(table.c.credential_id, table.c.token).where(
                    table.c.field == "access_token"
                )
            ).all()
        )
        for cid, other in ((a.id, b.id), (b.id, a.id)):
            conn.execute(
                sa.update(table)
                .where(table.c.credential_id == cid, table.c.field == "access_token")
                .values(token=tokens[other])
            )
    for cid in (a.id, b.id):
        with pytest.raises(DecryptError, match="another row") as caught:
            store.secret_values(cid)
        assert "SECRET" not in str(caught.value) and cid in str(caught.value)
        with pytest.raises(DecryptError):
            store.reveal(cid, actor="operator:ana")
    # A failed reveal leaves no "revealed" event: nothing was revealed.
    assert "revealed" not in {e.action for e in store.audit_events()}


def test_value_copied_to_another_field_fails(store: Store, engine: Engine) -> None:
    a = save_two(store, 1).credential
    table = SecretValue.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        token = conn.execute(
            sa.select(table.c.token).where(table.c.field == "access_token")
        ).scalar_one()
        conn.execute(sa.update(table).where(table.c.field == "client_secret").values(token=token))
    with pytest.raises(DecryptError):
        store.secret_values(a.id)


def test_key_rotation_loses_nothing(engine: Engine, clock: Clock) -> None:
    old = Store(engine, Keyring.from_env(KEY_A), clock=clock)
    ids = [save_two(old, n, store_hash=f"s{n}").credential.id for n in range(12)]
    expected = {cid: old.secret_values(cid) for cid in ids}

    both = Store(engine, Keyring.from_env(f"{KEY_B},{KEY_A}"), clock=clock)
    ids.append(save_two(both, 99, store_hash="new").credential.id)  # already under B
    expected[ids[-1]] = both.secret_values(ids[-1])

    # Interrupted after the first committed batch (like Ctrl-C), then resumed.
    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        both.rotate_keys(batch=5, progress=interrupt)
    report = both.rotate_keys(batch=5)
    assert report.total == 26 and report.reencrypted == 26 - 2 - 5
    assert report.already_current == 2 + 5
    assert both.rotate_keys(batch=5).reencrypted == 0

    new_only = Store(engine, Keyring.from_env(KEY_B), clock=clock)
    assert {cid: new_only.secret_values(cid) for cid in ids} == expected
    assert "keys_rotated" in {e.action for e in new_only.audit_events()}


def test_rotation_stops_clearly_on_a_value_no_key_opens(engine: Engine, clock: Clock) -> None:
    a = save_two(Store(engine, Keyring.from_env(KEY_A), clock=clock), 1).credential
    with pytest.raises(DecryptError, match=a.id):
        Store(engine, Keyring.from_env(KEY_B), clock=clock).rotate_keys()


def test_crash_before_commit_leaves_nothing_half_written(store: Store, engine: Engine) -> None:
    first = save_two(store, 1).credential

    class Crash(Exception):
        pass

    def fail_on_secret_insert(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO SECRET_VALUE"):
            raise Crash

    sa.event.listen(engine, "before_cursor_execute", fail_on_secret_insert)
    try:
        with pytest.raises(Crash):
            save_two(store, 2, store_hash="second")
        with pytest.raises(Crash):
            save_two(store, 3)  # a replacement that crashes keeps the old secret
    finally:
        sa.event.remove(engine, "before_cursor_execute", fail_on_secret_insert)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM credential")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM audit_event")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM secret_value")).scalar() == 2
    assert store.get(first.id) == first
    assert store.secret_values(first.id)["access_token"] == two_values(1)["access_token"]


def test_submission_retried_stores_once(store: Store) -> None:
    first = save_two(store, 1, submission_key="view-1")
    again = save_two(store, 1, submission_key="view-1")
    assert again.duplicate is True and again.credential.id == first.credential.id
    assert again.credential.version == 1
    assert [e.action for e in store.audit_events()] == ["stored"]


def test_concurrent_retries_and_saves_from_threads(store: Store) -> None:
    errors: list[BaseException] = []
    results = []

    def work(n: int) -> None:
        try:
            results.append(save_two(store, 1, submission_key="same-view"))
            save_two(store, n, store_hash=f"thread-{n}")
            store.list_for_user("T1", "U1")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(not r.duplicate for r in results) == 1
    assert len({r.credential.id for r in results}) == 1
    assert len(store.list_for_user("T1", "U1")) == 9


def test_concurrent_replacements_of_one_credential_all_count(store: Store) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            save_two(store, n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    (info,) = store.list_for_user("T1", "U1")
    assert info.version == 6
    assert sorted(e.action for e in store.audit_events(info.id)) == ["replaced"] * 5 + ["stored"]
    token = store.secret_values(info.id)["access_token"]
    assert token in {two_values(n)["access_token"] for n in range(6)}


def test_replace_secret_updates_one_field(store: Store) -> None:
    info = save_two(store, 1).credential
    updated = store.replace_secret(
        info.id, {"access_token": "tok-SECRET-refreshed-12345678"}, actor="getkey refresh"
    )
    assert updated.masked == "••••••5678" and updated.version == info.version
    assert store.secret_values(info.id) == {
        "access_token": "tok-SECRET-refreshed-12345678",
        "client_secret": two_values(1)["client_secret"],
    }
    assert store.audit_events(info.id)[-1].action == "secret_replaced"


def test_record_check_and_failure_notification(store: Store, clock: Clock) -> None:
    info = save_two(store, 1).credential
    clock.advance(days=1)
    down = store.record_check(info.id, VerifyResult.failed(Failure.UNREACHABLE, "timeout"))
    assert down.status == "verified"  # an outage proves nothing about the key
    failing = store.record_check(
        info.id, VerifyResult.failed(Failure.BAD_CREDENTIAL, "The key was revoked.")
    )
    assert (failing.status, failing.detail, failing.last_checked_at) == (
        "failing",
        "The key was revoked.",
        clock.now,
    )
    # The owner is owed one "no longer works" message per failure episode (the outbox).
    def owed() -> list[str]:
        return [m.kind for m in store.outbox_pending(info.id) if m.kind == "failing"]

    assert owed() == ["failing"]
    store.record_check(info.id, VerifyResult.failed(Failure.BAD_CREDENTIAL, "Still revoked."))
    assert owed() == ["failing"]  # same episode: nothing more
    back = store.record_check(info.id, ok())
    assert back.status == "verified" and back.verified_at == clock.now
    store.record_check(info.id, VerifyResult.failed(Failure.BAD_CREDENTIAL, "Revoked again."))
    assert owed() == ["failing", "failing"]  # a new episode
    actions = [e.action for e in store.audit_events(info.id)]
    assert actions == ["stored", "check_inconclusive", "failed", "failed", "verified", "failed"]


def test_due_for_recheck_hands_each_credential_out_once(store: Store, clock: Clock) -> None:
    a = save_two(store, 1).credential
    b = save_two(store, 2, store_hash="other").credential
    assert store.due_for_recheck(clock.now) == []
    later = clock.advance(days=1)
    assert {c.id for c in store.due_for_recheck(later)} == {a.id, b.id}
    assert store.due_for_recheck(later) == []
    store.record_check(a.id, ok())
    # b was handed out but never reported back: it comes back after the lease.
    assert [c.id for c in store.due_for_recheck(later + timedelta(hours=1))] == [b.id]


def test_statuses(store: Store, clock: Clock) -> None:
    info = save_two(store, 1, **{}).credential
    assert info.status == "verified"
    expiring = store.save(
        team_id="T1",
        user_id="U1",
        flow=TWO,
        values=two_values(2, store="x"),
        result=ok(expires_at=clock.now + timedelta(days=20)),
    ).credential
    assert expiring.status == "verified"
    clock.advance(days=7)
    assert store.get(expiring.id).status == "expiring"
    clock.advance(days=14)
    assert store.get(expiring.id).status == "expired"


def test_audit_trail_is_append_only(store: Store, engine: Engine) -> None:
    save_two(store, 1)
    for statement in ("UPDATE audit_event SET actor = 'someone else'", "DELETE FROM audit_event"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert [e.actor for e in store.audit_events()] == ["U1"]


def test_healthy(store: Store, backend: Backend) -> None:
    assert store.healthy() is True
    from bot.store import make_engine

    broken = make_engine(
        "sqlite:////nonexistent-dir/x.db"
        if backend.name == "sqlite"
        else "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    )
    assert Store(broken, Keyring.from_env(KEY_A)).healthy() is False
