"""Nothing a crash interrupts is lost: the message a change owes a person is written with the
change (or not at all), handed to one sender at a time, retried with a backoff until sent;
verifications in progress are recorded (without any value typed) so that after a restart each
person can be told to submit again. And the owner's auto-renew choice is kept."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store import Store
from flows.base import Failure, VerifyResult
from tests.storage_fixtures import TWO, Clock, ok, two_values

pytest_plugins = ["tests.storage_fixtures"]

REVOKED = VerifyResult.failed(Failure.BAD_CREDENTIAL, "The key was revoked.")


def save_two(store: Store, n: int = 1, *, store_hash: str = "abc123", **kw):
    return store.save(
        team_id="T1", user_id="U1", flow=TWO, values=two_values(n, store=store_hash),
        result=ok(), **kw,
    )  # fmt: skip


def kinds(store: Store) -> list[tuple[str, str | None]]:
    return [(m.kind, m.credential_id) for m in store.outbox_pending()]


# -- auto_renew --------------------------------------------------------------------------------
def test_auto_renew_is_off_unless_chosen_and_kept_when_rotating(store: Store) -> None:
    plain = save_two(store, 1, store_hash="plain").credential
    assert plain.auto_renew is False
    chosen = save_two(store, 2, auto_renew=True).credential
    assert chosen.auto_renew is True and store.get(chosen.id).auto_renew is True
    rotated = save_two(store, 3).credential  # Rotate now without touching the choice
    assert (rotated.id, rotated.version, rotated.auto_renew) == (chosen.id, 2, True)
    off = save_two(store, 4, auto_renew=False).credential
    assert off.auto_renew is False
    assert [i.auto_renew for i in store.list_for_user("T1", "U1")] == [False, False]


# -- the outbox ---------------------------------------------------------------------------------
def test_saving_owes_one_confirmation_and_a_retried_submission_none(store: Store) -> None:
    first = save_two(store, 1, submission_key="view-1").credential
    save_two(store, 1, submission_key="view-1")  # Slack delivered the submission twice
    assert kinds(store) == [("stored", first.id)]
    save_two(store, 2)
    assert kinds(store) == [("stored", first.id), ("replaced", first.id)]
    (message, _) = store.outbox_pending()
    assert (message.team_id, message.user_id, message.attempts) == ("T1", "U1", 0)


def test_a_crashed_save_owes_no_message(store: Store, engine: Engine) -> None:
    class Crash(Exception):
        pass

    def crash(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            raise Crash

    sa.event.listen(engine, "before_cursor_execute", crash)
    try:
        with pytest.raises(Crash):
            save_two(store, 1)
    finally:
        sa.event.remove(engine, "before_cursor_execute", crash)
    # The message could not be written, so neither was the credential it would report.
    assert store.list_for_user("T1", "U1") == [] and store.outbox_pending() == []


def test_no_longer_works_is_owed_once_per_failure_episode(store: Store, clock: Clock) -> None:
    info = save_two(store, 1).credential
    store.outbox_sent(store.claim_outbox(clock.now)[0].id)
    clock.advance(days=1)
    store.record_check(info.id, VerifyResult.failed(Failure.UNREACHABLE, "timeout"))
    assert kinds(store) == []  # an outage proves nothing
    store.record_check(info.id, REVOKED)
    store.record_check(info.id, REVOKED)  # still the same episode
    assert kinds(store) == [("failing", info.id)]
    store.record_check(info.id, ok())
    store.record_check(info.id, REVOKED, failure_kind="renew-failed")
    assert kinds(store) == [("failing", info.id), ("renew-failed", info.id)]


def test_claimed_messages_go_to_one_sender_until_sent_or_lease_ends(
    store: Store, clock: Clock
) -> None:
    a = save_two(store, 1, store_hash="a").credential
    b = save_two(store, 2, store_hash="b").credential
    now = clock.now
    first = store.claim_outbox(now, limit=1, lease_seconds=60)
    assert [m.credential_id for m in first] == [a.id] and first[0].attempts == 1
    second = store.claim_outbox(now, lease_seconds=60)
    assert [m.credential_id for m in second] == [b.id]
    assert store.claim_outbox(now + timedelta(seconds=59)) == []
    store.outbox_sent(first[0].id)
    # The sender of b died: after the lease, b is handed out again; a never is.
    again = store.claim_outbox(now + timedelta(seconds=60))
    assert [(m.id, m.attempts) for m in again] == [(second[0].id, 2)]


def test_a_failed_send_is_retried_with_a_growing_backoff(store: Store, clock: Clock) -> None:
    save_two(store, 1)
    now = clock.now
    waits = []
    for _ in range(4):
        (message,) = store.claim_outbox(now)
        retry_at = store.outbox_retry(message.id, error="slack: service_unavailable", now=now)
        assert store.claim_outbox(retry_at - timedelta(seconds=1)) == []
        waits.append(retry_at - now)
        now = retry_at
    assert waits == sorted(waits) and waits[0] < waits[-1]
    (message,) = store.claim_outbox(now)
    store.outbox_drop(message.id, reason="user_not_found")
    assert store.claim_outbox(now + timedelta(days=1)) == [] and store.outbox_pending() == []


def test_concurrent_senders_claim_each_message_exactly_once(store: Store, clock: Clock) -> None:
    for n in range(40):
        save_two(store, n, store_hash=f"s{n}")
    claimed: list[int] = []
    lock = threading.Lock()

    def sender() -> None:
        while batch := store.claim_outbox(clock.now, limit=3):
            with lock:
                claimed.extend(m.id for m in batch)
            for m in batch:
                store.outbox_sent(m.id)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 40 and len(set(claimed)) == 40


# -- pending submissions -------------------------------------------------------------------------
def test_interrupted_verifications_are_found_after_a_restart(store: Store, clock: Clock) -> None:
    store.submission_started("V1", team_id="T1", user_id="U1", platform="test-two")
    store.submission_started("V2", team_id="T1", user_id="U2", platform="wix")
    save_two(store, 1, pending_view_id="V1")  # finished: its row went with the save
    clock.advance(seconds=30)
    store.submission_started("V3", team_id="T1", user_id="U3", platform="wix")
    stale = store.pending_submissions(older_than=timedelta(seconds=20))
    assert [(p.view_id, p.user_id, p.platform) for p in stale] == [("V2", "U2", "wix")]
    # Two restarted processes: only one of them tells U2.
    (claimed,) = store.claim_stale_submissions(timedelta(seconds=20), lease_seconds=60)
    assert claimed.view_id == "V2"
    assert store.claim_stale_submissions(timedelta(seconds=20)) == []
    store.submission_finished("V2")
    clock.advance(minutes=5)
    assert [p.view_id for p in store.claim_stale_submissions(timedelta(seconds=20))] == ["V3"]


def test_a_verification_that_ends_without_saving_leaves_nothing(store: Store) -> None:
    store.submission_started("V9", team_id="T1", user_id="U1", platform="wix")
    store.submission_finished("V9")
    assert store.pending_submissions() == []
