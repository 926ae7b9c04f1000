"""Outbound webhooks: one URL per workspace, its signing secret encrypted with the Keyring, and
the durable outbox of deliveries (bot.store.changes writes them with the change they report).

A sender claims due deliveries with a lease, posts them, and reports each attempt: delivered
(2xx), tried again after a growing backoff, or given up after MAX_ATTEMPTS. Every attempt is
kept (time, status), so an operator can see what a receiver was sent and when.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.store.base import StoreCore
from bot.store.changes import change_of
from bot.store.claims import claim_rows
from bot.store.crypto import DecryptError
from bot.store.encrypted import webhook_aad
from bot.store.sharing_models import ChangeEvent, Webhook, WebhookAttempt, WebhookDelivery
from bot.webhook_urls import check_syntax

SECRET_PREFIX = "whsec_"
RETRY_FIRST = timedelta(seconds=10)
RETRY_MAX = timedelta(hours=1)
# 10 s doubling to an hour, then hourly: about 14 hours of trying before giving up.
MAX_ATTEMPTS = 20


def backoff(attempts: int) -> timedelta:
    return min(RETRY_FIRST * 2 ** max(0, attempts - 1), RETRY_MAX)


def check_url(url: str, *, allow_private: bool = False) -> str:
    """The webhook URL policy before resolution (bot.webhook_urls); the reason in
    words (a ValueError) otherwise."""
    return check_syntax(url, allow_private=allow_private)[0]


@dataclass(frozen=True)
class WebhookInfo:
    team_id: str
    url: str
    created_at: datetime


@dataclass(frozen=True)
class DeliveryItem:
    """A claimed delivery: where, what (the exact body to sign and send) and with which key."""

    id: int
    team_id: str
    url: str
    event_type: str
    body: bytes
    attempts: int  # including this one
    secret: str = field(repr=False)


@dataclass(frozen=True)
class DeliveryInfo:
    id: int
    change_id: int
    event_type: str
    attempts: int
    delivered: bool
    done_at: datetime | None
    next_attempt_at: datetime
    last_status: int | None
    tries: tuple[tuple[datetime, int, str], ...]  # (when, HTTP status or 0, error)


def _settle(s: Session, row: WebhookDelivery, now: datetime, status: int, error: str) -> None:
    """Record one attempt of a claimed delivery: delivered, retried later or given up."""
    s.add(WebhookAttempt(delivery_id=row.id, at=now, status=status, error=error[:200]))
    row.last_status = status
    row.last_error = error[:200]
    row.claimed_until = None
    if 200 <= status < 300:
        row.done_at, row.delivered = now, True
    elif row.attempts >= MAX_ATTEMPTS:
        row.done_at, row.last_error = now, f"gave up after {row.attempts} attempts"
    else:
        row.next_attempt_at = now + backoff(row.attempts)


def body_of(change: ChangeEvent) -> bytes:
    return json.dumps(change_of(change).as_json(), separators=(",", ":"), sort_keys=True).encode()


class Webhooks(StoreCore):
    def _webhook_aad(self, team_id: str) -> bytes:
        return webhook_aad(team_id)

    def set_webhook(self, team_id: str, url: str, *, allow_private: bool = False) -> str:
        """Set (or replace) the workspace's webhook; returns the new signing secret, which is
        shown once. Raises ValueError for a URL the policy refuses."""
        url = check_url(url, allow_private=allow_private)
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        token = self._keyring.encrypt(secret, self._webhook_aad(team_id))
        now = self._now()
        with self._session(write=True) as s:
            row = s.scalars(
                sa.select(Webhook).where(Webhook.team_id == team_id).with_for_update()
            ).first()
            if row is None:
                s.add(
                    Webhook(
                        team_id=team_id,
                        url=url,
                        secret_token=token,
                        key_id=self._keyring.current_kid,
                        created_at=now,
                    )
                )
            else:
                row.url, row.secret_token, row.key_id = url, token, self._keyring.current_kid
        return secret

    def remove_webhook(self, team_id: str) -> bool:
        """Remove the webhook and its undelivered deliveries (cascade)."""
        with self._session(write=True) as s:
            row = s.scalars(sa.select(Webhook).where(Webhook.team_id == team_id)).first()
            if row is None:
                return False
            s.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.webhook_id == row.id))
            s.delete(row)
            return True

    def webhooks(self) -> list[WebhookInfo]:
        with self._session(write=False) as s:
            rows = s.scalars(sa.select(Webhook).order_by(Webhook.team_id)).all()
            return [WebhookInfo(r.team_id, r.url, r.created_at) for r in rows]

    def claim_deliveries(
        self,
        now: datetime | None = None,
        *,
        limit: int = 50,
        lease_seconds: int = 60,
        exclude_teams: Collection[str] = (),
    ) -> list[DeliveryItem]:
        """Claim due deliveries for this caller, oldest first (at-least-once: an unreported
        claim becomes due again when its lease ends). `exclude_teams`: workspaces this
        caller is still sending to, so their events stay in order."""
        now = as_utc(now) if now else self._now()
        lease_end = now + timedelta(seconds=lease_seconds)
        with self._session(write=True) as s:
            busy = sa.select(Webhook.id).where(Webhook.team_id.in_(list(exclude_teams)))
            candidates = (
                sa.select(WebhookDelivery.id)
                .where(WebhookDelivery.done_at.is_(None), WebhookDelivery.next_attempt_at <= now)
                .where(WebhookDelivery.webhook_id.not_in(busy))
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            lease = {
                "next_attempt_at": lease_end,
                "claimed_until": lease_end,
                "attempts": WebhookDelivery.attempts + 1,
            }
            rows = claim_rows(s, WebhookDelivery, candidates, lease, WebhookDelivery.id)
            items = []
            for row in rows:
                hook = s.get(Webhook, row.webhook_id)
                change = s.get(ChangeEvent, row.change_id)
                if hook is None or change is None:
                    row.done_at, row.last_error = now, "webhook or change gone"
                    continue
                try:
                    secret = self._keyring.decrypt(hook.secret_token, webhook_aad(hook.team_id))
                except DecryptError:
                    # Nothing can be signed: an attempt that failed, so it is retried (after
                    # a key fix) and given up in time, and the other rows still go.
                    _settle(s, row, now, 0, "the signing secret cannot be decrypted")
                    continue
                items.append(
                    DeliveryItem(
                        id=row.id or 0,
                        team_id=hook.team_id,
                        url=hook.url,
                        event_type=row.event_type,
                        body=body_of(change),
                        attempts=row.attempts,
                        secret=secret,
                    )
                )
            return items

    def delivery_attempted(
        self, delivery_id: int, *, status: int, error: str = "", now: datetime | None = None
    ) -> bool:
        """Record one attempt (`status` 0: no HTTP answer). Returns whether it was delivered."""
        now = as_utc(now) if now else self._now()
        ok = 200 <= status < 300
        with self._session(write=True) as s:
            row = s.get(WebhookDelivery, delivery_id, with_for_update=True)
            if row is None or row.done_at is not None:
                return ok
            _settle(s, row, now, status, error)
        return ok

    def deliveries(self, team_id: str) -> list[DeliveryInfo]:
        """Every delivery of the workspace's webhook with its attempts, oldest first."""
        with self._session(write=False) as s:
            rows = s.scalars(
                sa.select(WebhookDelivery)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(Webhook.team_id == team_id)
                .order_by(WebhookDelivery.id)
            ).all()
            out = []
            for row in rows:
                tries = s.scalars(
                    sa.select(WebhookAttempt)
                    .where(WebhookAttempt.delivery_id == row.id)
                    .order_by(WebhookAttempt.id)
                ).all()
                out.append(
                    DeliveryInfo(
                        id=row.id or 0,
                        change_id=row.change_id,
                        event_type=row.event_type,
                        attempts=row.attempts,
                        delivered=row.delivered,
                        done_at=row.done_at,
                        next_attempt_at=row.next_attempt_at,
                        last_status=row.last_status,
                        tries=tuple((t.at, t.status, t.error) for t in tries),
                    )
                )
            return out
