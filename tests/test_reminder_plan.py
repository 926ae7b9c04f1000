"""The reminder schedule, driven by a settable clock: each stage at its moment, once."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store import Keyring, Store
from bot.store.models import Reminder
from tests.storage_fixtures import KEY_A, TWO, Clock, ok, two_values

pytest_plugins = ["tests.storage_fixtures"]

DAY = timedelta(days=1)


def sweep(store: Store, now: datetime) -> list[str]:
    """What a sweep at `now` would send: stages claimed and marked sent."""
    sent = []
    for due in store.claim_due(now):
        sent.append(due.stage)
        store.mark_sent(due.reminder_id)
    return sent


def save(store: Store, n: int = 1, **kw) -> str:
    result = ok(expires_at=kw.pop("expires_at", None))
    return store.save(
        team_id="T1", user_id="U1", flow=TWO, values=two_values(n), result=result, **kw
    ).credential.id


def test_each_expiry_stage_fires_once_at_its_moment(store: Store, clock: Clock) -> None:
    start = clock.now
    expires = start + 30 * DAY
    cid = save(store, expires_at=expires, rotation_days=0)
    assert store.get(cid).next_reminder_at == expires - 14 * DAY
    timeline = [
        (expires - 14 * DAY - timedelta(seconds=1), []),
        (expires - 14 * DAY, ["expiry-14d"]),
        (expires - 4 * DAY, []),
        (expires - 3 * DAY, ["expiry-3d"]),
        (expires - 2 * DAY, []),
        (expires - 1 * DAY + timedelta(hours=1), ["expiry-1d"]),
        (expires - timedelta(minutes=1), []),
        (expires, ["expiry-0d"]),
        (expires + 30 * DAY, []),
    ]
    for moment, expected in timeline:
        assert sweep(store, moment) == expected, moment
    assert store.get(cid).next_reminder_at is None


def test_stages_already_past_at_save_time_are_skipped(store: Store, clock: Clock) -> None:
    save(store, expires_at=clock.now + 2 * DAY, rotation_days=0)
    assert sweep(store, clock.now + DAY / 2) == []
    assert sweep(store, clock.now + DAY) == ["expiry-1d"]
    assert sweep(store, clock.now + 2 * DAY) == ["expiry-0d"]


def test_a_short_lived_token_is_flagged_shortly_before_it_dies(store: Store, clock: Clock) -> None:
    # An R-Series access token lasts an hour: no day-based stage fits, so one comes 15 minutes
    # before expiry (when renewable ones are renewed) and one at expiry.
    expires = clock.now + timedelta(hours=1)
    save(store, expires_at=expires, rotation_days=0)
    assert sweep(store, expires - timedelta(minutes=16)) == []
    assert sweep(store, expires - timedelta(minutes=15)) == ["expiry-soon"]
    assert sweep(store, expires) == ["expiry-0d"]


def test_a_late_sweep_sends_only_the_latest_missed_stage(store: Store, clock: Clock) -> None:
    # The process was down for days: "expires in 14 days" and "in 3 days" are no longer true.
    save(store, expires_at=clock.now + 20 * DAY, rotation_days=0)
    assert sweep(store, clock.now + 17 * DAY + timedelta(hours=1)) == ["expiry-3d"]
    assert sweep(store, clock.now + 17 * DAY + timedelta(hours=2)) == []
    assert sweep(store, clock.now + 19 * DAY) == ["expiry-1d"]



def test_an_earlier_stage_stays_unsent_once_another_sweeper_sent_the_latest(
    store: Store, clock: Clock
) -> None:
    # Two instances, a late sweep: one sends "in 3 days" and marks it before the other claims
    # "in 14 days". The earlier stage is no longer true, sent later stage or not: nothing goes.
    save(store, expires_at=clock.now + 20 * DAY, rotation_days=0)
    now = clock.now + 17 * DAY + timedelta(hours=1)
    with store.engine.begin() as conn:
        latest = conn.scalar(sa.select(Reminder.id).where(Reminder.due_at <= now)
                             .order_by(Reminder.due_at.desc()).limit(1))
        conn.execute(sa.update(Reminder).where(Reminder.id == latest).values(sent_at=now))
    assert sweep(store, now) == []


def test_rotation_due_then_weekly_while_overdue(store: Store, clock: Clock) -> None:
    start = clock.now
    cid = save(store)  # TWO rotates every 30 days
    due = start + 30 * DAY
    assert store.get(cid).rotation_due_at == due
    assert sweep(store, due - timedelta(minutes=1)) == []
    assert sweep(store, due) == ["rotation-due"]
    assert store.get(cid).next_reminder_at == due + 7 * DAY
    assert sweep(store, due + 6 * DAY) == []
    assert sweep(store, due + 7 * DAY) == ["rotation-overdue-1"]
    assert sweep(store, due + 14 * DAY) == ["rotation-overdue-2"]
    # A sweep that runs late still keeps to the weekly rhythm from the due date.
    assert sweep(store, due + 25 * DAY) == ["rotation-overdue-3"]
    assert store.get(cid).next_reminder_at == due + 28 * DAY


def test_rotation_period_precedence(engine: Engine, clock: Clock) -> None:
    workspace = Store(engine, Keyring.from_env(KEY_A), clock=clock, rotation_days_override=60)
    default = Store(engine, Keyring.from_env(KEY_A), clock=clock)
    own = save(workspace, 1, rotation_days=10)
    ws = workspace.save(
        team_id="T1", user_id="U2", flow=TWO, values=two_values(2), result=ok()
    ).credential
    flow_default = default.save(
        team_id="T1", user_id="U3", flow=TWO, values=two_values(3), result=ok()
    ).credential
    assert default.get(own).rotation_days == 10
    assert ws.rotation_days == 60
    assert flow_default.rotation_days == TWO.rotation_days


def test_no_rotation_reminder_after_the_key_expires(store: Store, clock: Clock) -> None:
    save(store, expires_at=clock.now + 20 * DAY)  # rotation would be due at 30 days
    for day in (6, 17, 19, 20, 365):
        assert not [s for s in sweep(store, clock.now + day * DAY) if s.startswith("rotation")]


def test_rotating_drops_the_old_schedule(store: Store, clock: Clock) -> None:
    start = clock.now
    cid = save(store, 1, expires_at=start + 20 * DAY)
    assert sweep(store, start + 6 * DAY) == ["expiry-14d"]
    # Claimed by a sweeper that has not sent it yet when the key is rotated.
    claimed = store.claim_due(start + 17 * DAY)
    assert [d.stage for d in claimed] == ["expiry-3d"]
    clock.advance(days=17, hours=1)
    save(store, 2, expires_at=clock.now + 40 * DAY)
    store.mark_sent(claimed[0].reminder_id)  # the stale claim is gone: no effect
    assert sweep(store, start + 20 * DAY) == []  # nothing of the old key's schedule
    new_expiry = clock.now + 40 * DAY
    assert store.get(cid).next_reminder_at == new_expiry - 14 * DAY
    assert sweep(store, new_expiry - 14 * DAY) == ["expiry-14d"]


def test_delete_cancels(store: Store, clock: Clock) -> None:
    cid = save(store, expires_at=clock.now + 20 * DAY)
    store.delete(cid, actor="U1")
    assert sweep(store, clock.now + 400 * DAY) == []


def test_snooze_delays_due_reminders(store: Store, clock: Clock) -> None:
    start = clock.now
    cid = save(store, expires_at=start + 20 * DAY, rotation_days=0)
    clock.now = start + 6 * DAY
    until = clock.now + 7 * DAY  # past the 14d stage (day 6), before the 3d stage (day 17)
    info = store.snooze(cid, until, actor="U1")
    assert info.snoozed_until == until and info.next_reminder_at == until
    assert sweep(store, until - timedelta(seconds=1)) == []
    assert sweep(store, until) == ["expiry-14d"]
    assert sweep(store, start + 17 * DAY) == ["expiry-3d"]
    assert store.audit_events(cid)[-1].action == "snoozed"


def test_snooze_after_a_reminder_brings_it_back(store: Store, clock: Clock) -> None:
    start = clock.now
    cid = save(store)
    due = start + 30 * DAY
    assert sweep(store, due) == ["rotation-due"]
    clock.now = due + timedelta(hours=2)
    store.snooze(cid, clock.now + DAY, actor="U1")  # "Snooze 1 day"
    assert sweep(store, clock.now + DAY - timedelta(minutes=1)) == []
    assert sweep(store, clock.now + DAY) == ["rotation-due"]
    # The weekly overdue reminder is still on its own schedule.
    assert sweep(store, due + 7 * DAY) == ["rotation-overdue-1"]
    # "Snooze 1 week" right after that: the next weekly one moves instead of doubling.
    clock.now = due + 7 * DAY
    store.snooze(cid, clock.now + 7 * DAY + timedelta(hours=1), actor="U1")
    assert sweep(store, due + 14 * DAY) == []
    assert sweep(store, due + 14 * DAY + timedelta(hours=1)) == ["rotation-overdue-2"]


def test_stop_silences_until_rotated(store: Store, clock: Clock) -> None:
    start = clock.now
    cid = save(store, 1, expires_at=start + 20 * DAY)
    info = store.stop_reminders(cid, actor="U1")
    assert info.reminders_stopped and info.next_reminder_at is None
    assert sweep(store, start + 400 * DAY) == []
    clock.advance(days=1)
    save(store, 2, expires_at=clock.now + 20 * DAY)  # a new key: a new schedule
    assert store.get(cid).reminders_stopped is False
    assert sweep(store, clock.now + 6 * DAY) == ["expiry-14d"]


def test_new_expiry_found_by_a_recheck_replans(store: Store, clock: Clock) -> None:
    cid = save(store, expires_at=clock.now + 20 * DAY, rotation_days=0)
    clock.advance(days=1)
    later = clock.now + 60 * DAY
    assert store.record_check(cid, ok(expires_at=later)).expires_at == later
    assert sweep(store, clock.now + 30 * DAY) == []
    assert sweep(store, later - 14 * DAY) == ["expiry-14d"]


def test_due_reminder_carries_the_credential(store: Store, clock: Clock) -> None:
    cid = save(store, expires_at=clock.now + 20 * DAY)
    (due,) = store.claim_due(clock.now + 6 * DAY)
    assert (due.kind, due.stage, due.due_at) == ("expiry", "expiry-14d", clock.now + 6 * DAY)
    assert due.credential.id == cid and due.credential.status == "expiring"
    assert "SECRET" not in repr(due)
