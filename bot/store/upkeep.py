"""Retention and backlog: what the retention job deletes, and the queue depths /metrics shows.

Retention deletes, each in its own transaction:
- change events older than `change_days`, except those a webhook delivery still waits on (the
  delivery is built from the event);
- webhook attempts older than `webhook_days`, and deliveries finished (delivered or given up)
  before then, with their attempts;
- outbox messages closed (sent, or dropped as undeliverable) more than `outbox_days` ago;
- audit events older than `audit_days`. The audit table is append-only: since migration 0008 its
  triggers let a DELETE through only for rows older than AUDIT_FLOOR_DAYS, so no setting, bug or
  hand-written query can erase recent history.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.store.base import StoreCore, from_db
from bot.store.models import AuditEvent, OutboxMessage
from bot.store.sharing_models import ChangeEvent, WebhookAttempt, WebhookDelivery

# The database refuses to delete audit events younger than this (migration 0008's triggers).
AUDIT_FLOOR_DAYS = 90


@dataclass(frozen=True)
class RetentionDays:
    change: int = 30
    webhook: int = 30
    outbox: int = 7
    audit: int = 400


@functools.cache
def _head() -> str | None:
    from bot.store.db import head_revision_plain

    return head_revision_plain()


class Upkeep(StoreCore):
    def release_idle_connections(self) -> None:
        """Close the pooled connections nobody holds; the next use opens new ones. For a quiet
        process (bot.workers): each idle SQLite connection keeps its prepared statements,
        measured as 14 MB for 32 connections after a burst of submissions (issue 21). An
        in-memory SQLite database lives in its one connection and is left alone."""
        if not isinstance(self.engine.pool, sa.pool.StaticPool):
            self.engine.dispose()

    def readiness(self) -> dict[str, Any]:
        """For /readyz, reading only: the database answers, its schema is at the newest
        migration, and every configured key decrypts its canary. `ok` is the verdict."""
        from bot.store.db import current_revision_plain

        try:
            revision = current_revision_plain(self._engine)
        except Exception as exc:
            return {"ok": False, "database": False,
                    "problem": f"the database does not answer ({type(exc).__name__})"}
        problems = [] if revision == _head() else [
            f"the schema is at revision {revision or 'none'}, not {_head()}: run getkey db upgrade"
        ]
        keyring = self._keyring_problems()  # type: ignore[attr-defined] - Health, in Store
        problems += keyring
        report: dict[str, Any] = {"ok": not problems, "database": True,
                                  "migrations": revision == _head(), "keyring": not keyring}
        if problems:
            report["problem"] = "; ".join(problems)
        return report

    def prune(self, days: RetentionDays, now: datetime | None = None) -> dict[str, int]:
        """Delete what `days` says is past keeping; returns the rows deleted per table."""
        now = now or self._now()
        done: dict[str, int] = {}
        cutoff = now - timedelta(days=days.change)
        waiting = sa.select(WebhookDelivery.change_id).where(WebhookDelivery.done_at.is_(None))
        done["change_event"] = self._delete(
            sa.delete(ChangeEvent).where(ChangeEvent.at < cutoff, ChangeEvent.id.not_in(waiting))
        )
        cutoff = now - timedelta(days=days.webhook)
        finished = sa.select(WebhookDelivery.id).where(WebhookDelivery.done_at < cutoff)
        done["webhook_attempt"] = self._delete(
            sa.delete(WebhookAttempt).where(
                sa.or_(WebhookAttempt.at < cutoff, WebhookAttempt.delivery_id.in_(finished))
            )
        )
        done["webhook_delivery"] = self._delete(
            sa.delete(WebhookDelivery).where(WebhookDelivery.done_at < cutoff)
        )
        cutoff = now - timedelta(days=days.outbox)
        done["outbox"] = self._delete(
            sa.delete(OutboxMessage).where(OutboxMessage.sent_at < cutoff)
        )
        cutoff = now - timedelta(days=max(days.audit, AUDIT_FLOOR_DAYS))
        done["audit_event"] = self._delete(sa.delete(AuditEvent).where(AuditEvent.at < cutoff))
        return done

    def _delete(self, statement: sa.Delete) -> int:
        with self._session(write=True) as s:
            result = s.execute(statement.execution_options(synchronize_session=False))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def backlog(self, now: datetime | None = None) -> dict[str, tuple[int, float]]:
        """(undelivered count, age in seconds of the oldest) of the outbox and the webhooks."""
        now = now or self._now()
        out: dict[str, tuple[int, float]] = {}
        with self._session(write=False) as s:
            for name, created, open_ in (
                ("outbox", OutboxMessage.created_at, OutboxMessage.sent_at.is_(None)),
                ("webhooks", WebhookDelivery.created_at, WebhookDelivery.done_at.is_(None)),
            ):
                count, oldest = s.execute(
                    sa.select(sa.func.count(), sa.func.min(created)).where(open_)
                ).one()
                oldest_at = from_db(oldest)
                age = (now - oldest_at).total_seconds() if oldest_at else 0.0
                out[name] = (int(count), max(0.0, age))
        return out

    def ping_item(self, team_id: str) -> Any:
        """A signed-ready `ping` for the workspace's webhook (`getkey webhooks test`), or None
        when it has none. Nothing is recorded: a test is not an event."""
        import json

        from bot.store.encrypted import webhook_aad
        from bot.store.sharing_models import Webhook
        from bot.store.webhooks import DeliveryItem

        with self._session(write=False) as s:
            hook = s.scalars(sa.select(Webhook).where(Webhook.team_id == team_id)).first()
            if hook is None:
                return None
            secret = self._keyring.decrypt(hook.secret_token, webhook_aad(team_id))
            body = {"type": "ping", "team_id": team_id, "at": self._now().isoformat()}
            return DeliveryItem(id=0, team_id=team_id, url=hook.url, event_type="ping",
                                body=json.dumps(body, separators=(",", ":")).encode(),
                                attempts=1, secret=secret)

    def due_preview(self, now: datetime, limit: int = 1000) -> list[tuple[str, Any]]:
        """(stage, credential info) of the reminders a sweep at `now` would consider, claiming
        nothing (`getkey remind --once --dry-run`)."""
        from bot.store.claims import due_reminders
        from bot.store.models import Credential, Reminder

        with self._session(write=False) as s:
            ids = list(s.scalars(_unlocked(due_reminders(now, limit))))
            rows = s.execute(sa.select(Reminder, Credential)
                             .join(Credential, Credential.id == Reminder.credential_id)
                             .where(Reminder.id.in_(ids))
                             .order_by(Reminder.due_at, Reminder.id)).all()
            infos = {i.id: i for i in self._infos(s, {c.id: c for _, c in rows}.values(), now)}
            return [(r.stage, infos[c.id]) for r, c in rows]


def _unlocked(query: sa.Select[Any]) -> sa.Select[Any]:
    """The same select without its FOR UPDATE (a preview locks nothing)."""
    query = query._generate()  # type: ignore[attr-defined]
    query._for_update_arg = None
    return query
