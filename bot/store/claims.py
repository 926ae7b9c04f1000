"""Claims: work handed to exactly one caller for a lease (due reminders, due re-checks).

A claim is one UPDATE … RETURNING over candidates chosen by an index range scan with LIMIT
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's BEGIN IMMEDIATE makes it exclusive), so a
batch costs the same however large the backlog behind it. Rows that must not be sent are
settled inside the same claim instead of being skipped by every later batch.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.store import changes, schedule
from bot.store.base import StoreCore
from bot.store.info import CredentialInfo, DueReminder
from bot.store.models import Credential, Reminder, Workspace
from bot.store.parts import Part, in_part
from bot.vocabulary import ReminderKind

RECHECK_LEASE = timedelta(hours=1)
_REMINDER = Reminder.__table__
# What a claim reads of each reminder it wins.
_CLAIMED = tuple(
    _REMINDER.c[name]
    for name in ("id", "credential_id", "credential_version", "kind", "stage", "due_at")
)


def claim_rows(
    s: Session,
    model: Any,
    candidates: sa.Select[Any],
    values: dict[str, Any],
    *order_by: Any,
    key: Any = None,
) -> list[Any]:
    """Mark the candidate rows (selected by their `key`, the id by default) as this caller's
    in one UPDATE … RETURNING, then load exactly the rows this caller won."""
    key = model.id if key is None else key
    claimed = (
        s.execute(
            sa.update(model)
            .where(key.in_(candidates))
            .values(**values)
            .returning(key)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    if not claimed:
        return []
    return list(
        s.scalars(
            sa.select(model)
            .where(key.in_(claimed))
            .order_by(*order_by)
            .execution_options(populate_existing=True)
        ).all()
    )


def uninstalled_scope() -> sa.ColumnElement[bool]:
    """The credential (in the enclosing query) belongs to a workspace, or a Grid org, that
    uninstalled getkey: nobody can be messaged there until it is installed again."""
    return sa.exists().where(
        Workspace.uninstalled_at.is_not(None),
        sa.or_(
            Workspace.team_id == Credential.team_id,
            sa.and_(Workspace.team_id == "", Workspace.enterprise_id == Credential.enterprise_id),
        ),
    )


# Where a sweep has got to: the (due_at, id) of the last reminder it claimed.
Cursor = tuple[datetime, int]


def due_reminders(
    now: datetime, limit: int, after: Cursor | None = None, part: Part | None = None,
    *, lock: bool = True,
) -> sa.Select[Any]:
    """The next `limit` claimable reminders: a range of ix_reminder_pending read in order,
    skipping those of uninstalled workspaces (they stay due for a reinstall). `after`: only
    past that point, so a long sweep never reads again over the rows it already settled
    (PostgreSQL keeps their old versions in the index until a vacuum: reading from the start
    each time made every claim of a 100,000 sweep slower than the one before). `part`: only
    the reminders of that part of the people (bot.store.parts)."""
    query = (
        sa.select(Reminder.id)
        .where(
            Reminder.sent_at.is_(None),
            Reminder.due_at <= now,
            sa.or_(Reminder.claimed_until.is_(None), Reminder.claimed_until <= now),
            ~sa.exists().where(Credential.id == Reminder.credential_id, uninstalled_scope()),
        )
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )
    if lock:
        # PostgreSQL: rows another sweeper is claiming are skipped, not waited for.
        query = query.with_for_update(skip_locked=True)
    if part is not None:
        query = query.where(
            sa.exists().where(
                Credential.id == Reminder.credential_id, in_part(Credential.user_id, part)
            )
        )
    if after is not None:
        due_at, reminder_id = after
        query = query.where(
            sa.tuple_(Reminder.due_at, Reminder.id)
            > sa.tuple_(sa.literal(due_at, Reminder.due_at.type), sa.literal(reminder_id))
        )
    return query


class Claims(StoreCore):
    def claim_due(
        self, now: datetime, limit: int = 100, lease_seconds: int = 300,
        after: Cursor | None = None, part: Part | None = None,
    ) -> list[DueReminder]:
        """Claim due reminders for this caller only, in (due_at, id) order, past `after` when
        given (a sweep passes the last one it claimed), of the people in `part` when given.
        A claim lasts `lease_seconds`: if the caller dies before `mark_sent`, the reminder
        becomes claimable again afterwards."""
        now = as_utc(now)
        lease = {"claimed_at": now, "claimed_until": now + timedelta(seconds=lease_seconds)}
        # Core statements on a plain connection: a batch of 500 as tracked objects (loaded,
        # then flushed) was a third of the claim's time.
        with self._transaction() as conn:
            won: list[tuple[sa.Row[Any], sa.Row[Any]]] = []
            while len(won) < limit:
                candidates = due_reminders(now, limit - len(won), after, part)
                batch = conn.execute(
                    sa.update(_REMINDER)
                    .where(_REMINDER.c.id.in_(candidates))
                    .values(**lease)
                    .returning(*_CLAIMED)
                ).all()
                if not batch:
                    break
                # RETURNING follows no order: the claim order is (due_at, id).
                batch.sort(key=lambda r: (r.due_at, r.id))
                after = (batch[-1].due_at, batch[-1].id)
                won.extend(_sendable(conn, batch, now))
            if not won:
                return []
            infos = {i.id: i for i in self._infos(conn, {c.id: c for _, c in won}.values(), now)}
            return [
                DueReminder(
                    reminder_id=r.id,
                    credential=infos[c.id],
                    kind=r.kind,
                    stage=r.stage,
                    due_at=r.due_at,
                )
                for r, c in won
            ]

    def count_due(self, now: datetime, at_most: int) -> int:
        """How many reminders a sweep at `now` could claim, counting no further than
        `at_most` (how many processes a sweep is worth starting)."""
        candidates = due_reminders(as_utc(now), at_most, lock=False)
        with self._session(write=False) as s:
            return int(s.scalar(sa.select(sa.func.count()).select_from(candidates.subquery()))
                       or 0)

    def mark_sent(self, reminder_id: int) -> None:
        """Record a reminder as sent; a sent rotation reminder plans the next weekly one."""
        self.mark_sent_many([reminder_id])

    def mark_sent_many(self, reminder_ids: list[int]) -> None:
        """`mark_sent` for a whole batch in one transaction: one UPDATE marks the batch,
        the expiry changes tools hear of are written together (bot.store.changes.record_many),
        only rotation reminders need a row each (their next weekly one)."""
        if not reminder_ids:
            return
        now = self._now()
        with self._session(write=True) as s:
            # Only a claimed reminder can have been sent; ids are never reused (AUTOINCREMENT
            # on SQLite, sequences on PostgreSQL), so a stale id cannot hit a newer reminder.
            marked = s.execute(
                sa.update(Reminder)
                .where(
                    Reminder.id.in_(reminder_ids),
                    Reminder.sent_at.is_(None),
                    Reminder.claimed_at.is_not(None),
                )
                .values(sent_at=now, claimed_until=None)
                .returning(Reminder.id, Reminder.kind, Reminder.credential_id)
                .execution_options(synchronize_session=False)
            ).all()
            marked.sort()
            rotation = [m.id for m in marked if m.kind == ReminderKind.ROTATION]
            for reminder in s.scalars(
                sa.select(Reminder).where(Reminder.id.in_(rotation)).order_by(Reminder.id)
            ) if rotation else ():
                schedule.plan_overdue(s, reminder)
            expiring = [m.credential_id for m in marked if m.kind == ReminderKind.EXPIRY]
            if expiring:
                # Plain rows: the change needs the columns, not tracked objects.
                table = Credential.__table__
                creds = {
                    c.id: c
                    for c in s.execute(sa.select(table).where(table.c.id.in_(expiring)))
                }
                # Tools hear of an expiry when the owner does.
                found = [creds[cid] for cid in expiring if cid in creds]
                changes.record_many(s, changes.EXPIRING, found, at=now)

    def release(self, reminder_id: int) -> None:
        """Give a claim back (sending failed): the next sweep picks the reminder up again."""
        self.release_many([reminder_id])

    def release_many(self, reminder_ids: list[int]) -> None:
        """`release` for a batch, in one statement."""
        if not reminder_ids:
            return
        with self._session(write=True) as s:
            s.execute(
                sa.update(Reminder)
                .where(Reminder.id.in_(reminder_ids), Reminder.sent_at.is_(None))
                .values(claimed_at=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    def due_for_recheck(self, now: datetime, limit: int = 100) -> list[CredentialInfo]:
        """Claims credentials whose daily re-check is due: each is handed to one caller, and
        comes back after an hour if that caller never records a result."""
        now = as_utc(now)
        with self._session(write=True) as s:
            candidates = (
                sa.select(Credential.id)
                .where(Credential.next_check_at <= now)
                .order_by(Credential.next_check_at, Credential.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            lease = {"next_check_at": now + RECHECK_LEASE}
            creds = claim_rows(s, Credential, candidates, lease, Credential.id)
            return self._infos(s, creds, now)


def _sendable(
    conn: Connection, batch: list[sa.Row[Any]], now: datetime
) -> list[tuple[sa.Row[Any], sa.Row[Any]]]:
    """Settle the claimed reminders that must not go out, and return the others with their
    credential. Settled rows leave the due range for good, so no later claim scans them:
    - of another version of the credential (or none): deleted, the new version has its own;
    - of a credential whose reminders are stopped: closed unsent;
    - of a snoozed credential: moved to the end of the snooze;
    - superseded: a late sweep finds "expires in 14 days", "in 3 days", "tomorrow" due at
      once; only the latest is still true, the earlier ones are closed unsent."""
    # Plain rows: only read here, and turned into read models (no tracked objects to build).
    table = Credential.__table__
    creds = {
        c.id: c
        for c in conn.execute(
            sa.select(table).where(table.c.id.in_({r.credential_id for r in batch}))
        )
    }
    superseded = set(
        conn.execute(
            sa.select(Reminder.id).where(
                Reminder.id.in_([r.id for r in batch]), schedule.superseded(now)
            )
        ).scalars()
    )
    keep, gone, closed = [], [], []
    snoozed: dict[datetime, list[int]] = {}
    for r in batch:
        cred = creds.get(r.credential_id)
        if cred is None or cred.version != r.credential_version:
            gone.append(r.id)
        elif cred.reminders_stopped or r.id in superseded:
            closed.append(r.id)
        elif cred.snoozed_until is not None and cred.snoozed_until > now:
            snoozed.setdefault(cred.snoozed_until, []).append(r.id)
        else:
            keep.append((r, cred))
    ids = _REMINDER.c.id
    if gone:
        conn.execute(sa.delete(_REMINDER).where(ids.in_(gone)))
    if closed:
        conn.execute(
            sa.update(_REMINDER).where(ids.in_(closed)).values(sent_at=now, claimed_until=None)
        )
    for until, moved in snoozed.items():
        conn.execute(
            sa.update(_REMINDER)
            .where(ids.in_(moved))
            .values(due_at=until, claimed_at=None, claimed_until=None)
        )
    return keep
