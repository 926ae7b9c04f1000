"""Claiming due reminders: each is handed to exactly one sweeper, and a claim that is never
completed comes back after its lease instead of being lost."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store import Keyring, Store
from bot.store.models import Reminder
from bot.store.seed import seed
from tests.storage_fixtures import START, TWO, Backend, Clock, ok, run_sweepers, two_values

pytest_plugins = ["tests.storage_fixtures"]

DAY = timedelta(days=1)


def test_a_claim_is_exclusive_until_its_lease_ends(store: Store, clock: Clock) -> None:
    store.save(
        team_id="T1",
        user_id="U1",
        flow=TWO,
        values=two_values(),
        result=ok(expires_at=clock.now + 20 * DAY),
    )
    now = clock.now + 6 * DAY
    (first,) = store.claim_due(now, lease_seconds=300)
    assert store.claim_due(now) == []
    assert store.claim_due(now + timedelta(seconds=299)) == []
    # The claimer died without sending: after the lease the reminder is due again.
    (again,) = store.claim_due(now + timedelta(seconds=300))
    assert again.reminder_id == first.reminder_id and again.stage == "expiry-14d"
    store.mark_sent(again.reminder_id)
    assert store.claim_due(now + 2 * DAY) == []


def test_release_gives_the_claim_back_at_once(store: Store, clock: Clock) -> None:
    store.save(
        team_id="T1",
        user_id="U1",
        flow=TWO,
        values=two_values(),
        result=ok(expires_at=clock.now + 20 * DAY),
    )
    now = clock.now + 6 * DAY
    (due,) = store.claim_due(now)
    store.release(due.reminder_id)  # e.g. Slack was down
    assert [d.reminder_id for d in store.claim_due(now)] == [due.reminder_id]


def test_limit_splits_work_between_claims(engine: Engine, keyring: Keyring) -> None:
    seed(engine, keyring, count=30, due=25, now=START)
    store = Store(engine, keyring)
    first = store.claim_due(START, limit=10)
    second = store.claim_due(START, limit=100)
    assert len(first) == 10 and len(second) == 15
    assert not {d.reminder_id for d in first} & {d.reminder_id for d in second}


def test_two_processes_claim_each_reminder_exactly_once(
    backend: Backend, engine: Engine, keyring: Keyring, tmp_path: Path
) -> None:
    seed(engine, keyring, count=600, due=500, now=START)
    engine.dispose()  # the sweepers are the only users from here on
    from tests.storage_fixtures import KEY_A

    results = run_sweepers(backend.url, KEY_A, START, tmp_path)
    claimed = [rid for result in results for rid in result]
    assert len(claimed) == 500
    assert len(set(claimed)) == 500
    # (Usually both processes claim a share, but how they interleave is up to the scheduler,
    # so that is not asserted.)
    store = Store(engine, keyring)
    assert store.claim_due(START + timedelta(hours=1)) == []


@pytest.mark.parametrize("part", [None, (1, 3)])
def test_a_claim_reads_the_backlog_in_index_order_without_sorting_it(
    engine: Engine, part: tuple[int, int] | None
) -> None:
    """What keeps a batch's cost flat however large the backlog: the candidates come from a
    range of the pending index in claim order, never from a sort of every due row (also when
    the sweep is split between processes by person)."""
    from bot.store.claims import due_reminders

    query = due_reminders(START, 100, part=part)
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # the plan of a large table
            plan = " ".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))
    assert "ix_reminder_pending" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def test_parts_split_the_people_between_sweepers(engine: Engine, keyring: Keyring) -> None:
    """A sweep split three ways: every due reminder is in exactly one part, and all of one
    person's reminders are in the same part (their DMs are paced by one process)."""
    people = [f"U0PART{n:03d}" for n in range(30)]
    seed(engine, keyring, count=120, due=90, now=START, users=people)
    store = Store(engine, keyring)
    assert store.count_due(START, at_most=50) == 50
    assert store.count_due(START, at_most=1000) == 90
    parts = [store.claim_due(START, limit=1000, part=(index, 3)) for index in range(3)]
    claimed = [d.reminder_id for part in parts for d in part]
    assert len(claimed) == len(set(claimed)) == 90
    owners = [{d.credential.user_id for d in part} for part in parts]
    assert all(owners), "a part with nobody in it: 30 people should spread over 3 parts"
    assert not (owners[0] & owners[1] or owners[0] & owners[2] or owners[1] & owners[2])
    assert set().union(*owners) == set(people)  # three due reminders each


def test_reminders_that_must_not_go_out_do_not_block_the_batch(store: Store, clock: Clock) -> None:
    """Stopped and superseded reminders are settled by the claim that meets them, so a batch
    still fills with sendable ones (a short batch tells the sweep it is done)."""
    stopped = store.save(
        team_id="T1", user_id="U1", flow=TWO, values=two_values(1, store="stopped"),
        result=ok(expires_at=clock.now + 2 * DAY),
    ).credential  # fmt: skip
    store.stop_reminders(stopped.id, actor="U1")
    late = store.save(
        team_id="T1", user_id="U2", flow=TWO, values=two_values(2, store="late"),
        result=ok(expires_at=clock.now + 20 * DAY),
    ).credential  # fmt: skip
    # The sweep ran late: "in 14 days" and "in 3 days" are both due; only the latter is true.
    (due,) = store.claim_due(clock.now + 18 * DAY, limit=1)
    assert (due.credential.id, due.stage) == (late.id, "expiry-3d")
    store.mark_sent(due.reminder_id)
    assert store.claim_due(clock.now + 18 * DAY) == []


def test_a_batch_marked_sent_tells_each_workspaces_tools_once_per_reminder(
    store: Store, clock: Clock
) -> None:
    """A sweep marks its batch in one go: every expiry reminder sent becomes one
    credential.expiring change of its own workspace, with one webhook delivery in a workspace
    that has a webhook and none where there is none; a reminder not claimed is not marked."""
    store.set_webhook("T1", "https://hooks.example.com/getkey")
    for n, team in enumerate(("T1", "T1", "T2")):
        store.save(team_id=team, user_id=f"U{n}", flow=TWO, values=two_values(n),
                   result=ok(expires_at=clock.now + 20 * DAY))  # fmt: skip
    unclaimed = store.save(team_id="T2", user_id="U9", flow=TWO, values=two_values(9),
                           result=ok(expires_at=clock.now + 30 * DAY)).credential  # fmt: skip
    now = clock.now + 6 * DAY + timedelta(minutes=1)
    due = store.claim_due(now)
    assert len(due) == 3
    clock.advance(days=6, minutes=1)
    with store.engine.connect() as conn:  # never claimed, so never marked
        later = list(conn.scalars(
            sa.select(Reminder.id).where(Reminder.credential_id == unclaimed.id)))
    store.mark_sent_many([d.reminder_id for d in due] + later)
    expiring = {
        team: [c for c in store.changes_since(team) if c.type == "credential.expiring"]
        for team in ("T1", "T2")
    }
    assert sorted(c.credential_id for c in expiring["T1"]) == sorted(
        d.credential.id for d in due if d.credential.team_id == "T1"
    )
    assert [c.credential_id for c in expiring["T2"]] == [
        d.credential.id for d in due if d.credential.team_id == "T2"
    ]
    assert all(c.data["credential"]["status"] == "expiring" for c in expiring["T1"])
    hooked = [d for d in store.deliveries("T1") if d.event_type == "credential.expiring"]
    assert sorted(d.change_id for d in hooked) == sorted(c.id for c in expiring["T1"])
    assert store.claim_due(now) == []  # the batch is sent: nothing comes back
    # The unclaimed key's own reminder is intact.
    assert unclaimed.id in {d.credential.id for d in store.claim_due(clock.now + 16 * DAY)}


def test_a_sweep_reads_on_from_where_it_got_to(engine: Engine, keyring: Keyring) -> None:
    """A claim given the last (due_at, id) a sweep claimed reads on from there: it never goes
    back over what is behind it, even reminders that became claimable again meanwhile (those
    are the next sweep's)."""
    seed(engine, keyring, count=30, due=25, now=START)
    store = Store(engine, keyring)
    first = store.claim_due(START, limit=10)
    store.release_many([d.reminder_id for d in first])
    cursor = max((d.due_at, d.reminder_id) for d in first)
    rest = store.claim_due(START, limit=100, after=cursor)
    assert len(rest) == 15
    assert all((d.due_at, d.reminder_id) > cursor for d in rest)
    # A sweep starting afresh finds what was given back.
    assert sorted(d.reminder_id for d in store.claim_due(START, limit=100)) == sorted(
        d.reminder_id for d in first
    )
