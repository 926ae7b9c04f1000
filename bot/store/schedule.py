"""The reminder schedule of a credential version, as rows in the reminder table.

Expiry: 14, 3 and 1 days before, and on the day (only stages still ahead when planned).
Rotation: when due, then weekly while overdue; each weekly stage is planned when the previous
one is sent, so an answered reminder never leaves a queue of stale ones behind. A reminder row
belongs to one credential version: storing a new secret deletes the old version's unsent rows.
These functions work inside the caller's transaction (a Session) and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from bot.store.models import Credential, Reminder
from bot.vocabulary import ReminderKind, Stage, StageKind

EXPIRY_STAGES_DAYS = (14, 3, 1, 0)
# Short-lived tokens (R-Series access tokens last about an hour) get one reminder shortly before
# they die, which is also when the reminders side renews the ones it can.
SHORT_LIVED = timedelta(days=1)
SOON_BEFORE = timedelta(minutes=15)
OVERDUE_EVERY = timedelta(weeks=1)
# A key needed until a date: its owner is asked "still needed?" this long before it.
END_ASK_BEFORE = timedelta(days=3)
END = ReminderKind.END
END_ASK, END_DUE = str(StageKind.END_ASK), str(StageKind.END_DUE)


class Planned(Protocol):
    """What planning reads of a credential version: a tracked row or its read model."""

    @property
    def id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def needed_until(self) -> datetime | None: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def rotation_due_at(self) -> datetime | None: ...


def reminder_row(
    cred: Planned, kind: str, stage: str, due: datetime, origin: str = "plan"
) -> dict[str, Any]:
    """One reminder row's values (for Core inserts, and for `new_reminder`)."""
    return {
        "credential_id": cred.id,
        "credential_version": cred.version,
        "kind": kind,
        "stage": stage,
        "origin": origin,
        "due_at": due,
    }


def new_reminder(
    cred: Planned, kind: str, stage: str, due: datetime, origin: str = "plan"
) -> Reminder:
    return Reminder(**reminder_row(cred, kind, stage, due, origin))


def planned_rows(cred: Planned, now: datetime, *, rotation: bool = True) -> list[dict[str, Any]]:
    """The rows `plan` adds, as values: the one schedule for the ORM and Core paths (a save
    inserts them with one executemany, bot.store.saving)."""
    rows: list[dict[str, Any]] = []
    until = cred.needed_until
    if until is not None:
        rotation = False
        rows.extend(end_rows(cred, now))
    if cred.expires_at is not None:
        for days in EXPIRY_STAGES_DAYS:
            due = cred.expires_at - timedelta(days=days)
            if due > now and (until is None or due < until):
                rows.append(
                    reminder_row(cred, ReminderKind.EXPIRY, str(Stage.expiry(days)), due)
                )
        left = cred.expires_at - now
        soon = cred.expires_at - min(SOON_BEFORE, left / 2)
        if timedelta(0) < left < SHORT_LIVED:
            rows.append(reminder_row(cred, ReminderKind.EXPIRY, str(Stage.expiry(None)), soon))
    due_at = cred.rotation_due_at
    # Past its expiry a key is dead; a rotation reminder then would only be noise.
    if rotation and due_at is not None and (cred.expires_at is None or due_at < cred.expires_at):
        rows.append(reminder_row(cred, ReminderKind.ROTATION, str(Stage.rotation()), due_at))
    return rows


def end_rows(cred: Planned, now: datetime) -> list[dict[str, Any]]:
    """The end of a key needed until a date: "still needed?" before it (if still ahead) and
    the end itself."""
    if cred.needed_until is None:
        return []
    origin = f"plan:{cred.needed_until.date()}"
    ask = cred.needed_until - END_ASK_BEFORE
    rows = [reminder_row(cred, END, END_ASK, ask, origin=origin)] if ask > now else []
    rows.append(reminder_row(cred, END, END_DUE, max(cred.needed_until, now), origin=origin))
    return rows


def plan(s: Session, cred: Credential, now: datetime, *, rotation: bool = True) -> None:
    """The schedule of a freshly stored (or re-dated) credential version. A key needed until
    a date gets no rotation reminder (it leaves before rotation matters): "still needed?"
    before the date, and its end at the date (replacing any end already planned)."""
    if cred.needed_until is not None:
        _drop_unsent_end(s, cred)
    s.add_all(Reminder(**row) for row in planned_rows(cred, now, rotation=rotation))


def plan_end(s: Session, cred: Credential, now: datetime) -> None:
    """The end of a key needed until a date (replacing any end already planned)."""
    _drop_unsent_end(s, cred)
    s.add_all(Reminder(**row) for row in end_rows(cred, now))


def _drop_unsent_end(s: Session, cred: Credential) -> None:
    s.execute(
        sa.delete(Reminder).where(
            Reminder.credential_id == cred.id, Reminder.kind == END, Reminder.sent_at.is_(None)
        )
    )


def superseded(now: datetime) -> sa.Exists:
    """True of a reminder when a later stage of the same reminder (same credential version and
    kind) is due by `now`: only the latest stage is still true. Sent or not: with two sweepers,
    the later stage may already be out (and marked) when the other claims the earlier one."""
    later = aliased(Reminder)
    return sa.exists().where(
        later.credential_id == Reminder.credential_id,
        later.credential_version == Reminder.credential_version,
        later.kind == Reminder.kind,
        later.due_at <= now,
        later.due_at > Reminder.due_at,
    )


def supersede(s: Session, now: datetime) -> None:
    """A sweep that runs late (process down for days) would find several stages of one
    reminder due at once: "expires in 14 days", "in 3 days", "tomorrow". Only the latest is
    still true, so the earlier ones are closed without being sent."""
    older = (
        sa.select(Reminder.id)
        .where(Reminder.sent_at.is_(None), Reminder.due_at <= now, superseded(now))
        # Another sweeper's rows are left to it (PostgreSQL); no waiting, no deadlock.
        .with_for_update(skip_locked=True, of=Reminder)
    )
    s.execute(
        sa.update(Reminder)
        .where(Reminder.id.in_(older))
        .values(sent_at=now, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def plan_overdue(s: Session, sent: Reminder) -> None:
    """After a rotation reminder is sent: the next weekly one, unless one is already waiting."""
    cred = s.get(Credential, sent.credential_id)
    if cred is None or cred.version != sent.credential_version or not cred.rotation_due_at:
        return
    pending = s.scalar(
        sa.select(sa.func.count())
        .select_from(Reminder)
        .where(
            Reminder.credential_id == cred.id,
            Reminder.credential_version == cred.version,
            Reminder.kind == "rotation",
            Reminder.sent_at.is_(None),
            Reminder.id != sent.id,
        )
    )
    if pending:
        return
    # "When" is the sweep's notion of now (claimed_at), so clock-controlled sweeps plan the
    # same way as real ones, and a late sweep keeps the weekly rhythm from the due date.
    when = sent.claimed_at or sent.due_at
    weeks = max(1, (when - cred.rotation_due_at) // OVERDUE_EVERY + 1)
    stages = set(
        s.scalars(
            sa.select(Reminder.stage).where(
                Reminder.credential_id == cred.id,
                Reminder.credential_version == cred.version,
                Reminder.origin == "plan",
            )
        )
    )
    while str(Stage.rotation(weeks)) in stages:
        weeks += 1
    due = cred.rotation_due_at + weeks * OVERDUE_EVERY
    s.add(new_reminder(cred, ReminderKind.ROTATION, str(Stage.rotation(weeks)), due))


def snooze(s: Session, cred: Credential, until: datetime) -> None:
    """Nothing before `until`; then remind again about what was last reminded ("Snooze 1 day"
    on a rotation reminder means: ask me again tomorrow)."""
    current = (Reminder.credential_id == cred.id) & (Reminder.credential_version == cred.version)
    s.execute(
        sa.update(Reminder)
        .where(current, Reminder.sent_at.is_(None), Reminder.due_at < until)
        .values(due_at=until, claimed_at=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    last = s.scalars(
        sa.select(Reminder)
        .where(current, Reminder.sent_at.is_not(None))
        .order_by(Reminder.due_at.desc(), Reminder.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return
    waiting = s.scalar(
        sa.select(sa.func.count())
        .select_from(Reminder)
        .where(
            current,
            Reminder.kind == last.kind,
            Reminder.sent_at.is_(None),
            Reminder.due_at <= until,
        )
    )
    stage = None if waiting else follow_up_stage(cred, last.kind, until)
    if stage:
        origin = f"snooze:{until.isoformat()}"
        s.add(new_reminder(cred, last.kind, stage, until, origin=origin))


def follow_up_stage(cred: Credential, kind: str, until: datetime) -> str | None:
    """The stage a snoozed reminder comes back with, worded for the moment it fires."""
    if kind == ReminderKind.ROTATION and cred.rotation_due_at is not None:
        weeks = (until - cred.rotation_due_at) // OVERDUE_EVERY
        return str(Stage.rotation(max(0, weeks)))
    if kind == ReminderKind.EXPIRY and cred.expires_at is not None:
        return str(Stage.expiry(max(0, (cred.expires_at - until).days)))
    return None
