"""The change log: what happened to a workspace's credentials and requests, in order.

A change is written in the transaction of what it reports, together with one webhook delivery
per webhook of the workspace (bot.store.webhooks sends them), so neither the API's change feed
nor a webhook can miss a committed change or report one that was rolled back. Rows carry
metadata only: ids, platform, store name, status, dates. Never a secret, not even masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.store.base import StoreCore
from bot.store.columns import UtcDateTime
from bot.store.info import CredentialInfo
from bot.store.models import Credential
from bot.store.public import PublicCredential
from bot.store.sharing_models import ChangeEvent, Webhook, WebhookDelivery

VERIFIED = "credential.verified"
FAILING = "credential.failing"
EXPIRING = "credential.expiring"
DELETED = "credential.deleted"
REQUEST_EXPIRED = "request.expired"
EVENT_TYPES = (VERIFIED, FAILING, EXPIRING, DELETED, REQUEST_EXPIRED)


def credential_data(
    cred: Credential | CredentialInfo | sa.Row[Any], now: datetime
) -> dict[str, Any]:
    """What a tool may know about a credential without fetching it (bot.store.public). A
    read model already carries its status as of `now` (made in the same transaction)."""
    if isinstance(cred, CredentialInfo):
        return PublicCredential.of(cred).json()
    return PublicCredential.of_row(cred, now).json()


def event_values(
    event_type: str,
    *,
    team_id: str,
    at: datetime,
    cred: Credential | CredentialInfo | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One change's row, as values (a Core insert, bot.store.saving; or `record`)."""
    payload: dict[str, Any] = {}
    if cred is not None:
        payload["credential"] = credential_data(cred, at)
    payload.update(data or {})
    return {
        "team_id": team_id,
        "type": event_type,
        "at": at,
        "credential_id": cred.id if cred is not None else None,
        "platform": cred.platform if cred is not None else payload.get("platform"),
        "data": payload,
    }


def record(
    session: Session,
    event_type: str,
    *,
    team_id: str,
    at: datetime,
    cred: Credential | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Add a change (and its webhook deliveries) to the caller's transaction. Returns its id."""
    row = ChangeEvent(**event_values(event_type, team_id=team_id, at=at, cred=cred, data=data))
    session.add(row)
    session.flush()
    hooks = session.scalars(sa.select(Webhook.id).where(Webhook.team_id == team_id)).all()
    for hook_id in hooks:
        session.add(
            WebhookDelivery(
                webhook_id=hook_id,
                change_id=row.id or 0,
                event_type=event_type,
                created_at=at,
                next_attempt_at=at,
            )
        )
    return row.id or 0


_EVENTS: sa.Table = ChangeEvent.__table__  # type: ignore[attr-defined]
_HOOKS: sa.Table = Webhook.__table__  # type: ignore[attr-defined]
_DELIVERIES: sa.Table = WebhookDelivery.__table__  # type: ignore[attr-defined]
_AT = sa.bindparam("p_at", type_=UtcDateTime())
# One delivery per webhook of the workspace, read and written by the database in one
# statement (most workspaces have none: then it writes nothing).
_DELIVER = sa.insert(_DELIVERIES).from_select(
    ["webhook_id", "change_id", "event_type", "created_at", "next_attempt_at"],
    sa.select(
        _HOOKS.c.id,
        sa.bindparam("p_change", type_=sa.Integer()),
        sa.bindparam("p_type", type_=sa.String()),
        _AT.label("created_at"),
        _AT.label("next_attempt_at"),
    ).where(_HOOKS.c.team_id == sa.bindparam("p_team")),
)


def record_core(conn: Connection, values: dict[str, Any]) -> int:
    """`record` on a plain connection (no Session): the change of `event_values` and its
    webhook deliveries, in two statements. Returns the change's id."""
    change_id = int(conn.execute(sa.insert(_EVENTS), values).inserted_primary_key[0])
    conn.execute(
        _DELIVER,
        {"p_change": change_id, "p_type": values["type"], "p_at": values["at"],
         "p_team": values["team_id"]},
    )  # fmt: skip
    return change_id


def record_many(
    session: Session, event_type: str, creds: Sequence[Credential | sa.Row[Any]], *, at: datetime
) -> None:
    """`record` for many credentials at once (a sweep's batch): one read of the workspaces'
    webhooks, one INSERT for the changes, one for their deliveries; a flush and a webhook
    lookup per change was most of a large sweep's time."""
    if not creds:
        return
    teams = {c.team_id for c in creds}
    hooks: dict[str, list[int]] = {}
    for team_id, hook_id in session.execute(
        sa.select(Webhook.team_id, Webhook.id).where(Webhook.team_id.in_(teams))
    ):
        hooks.setdefault(team_id, []).append(hook_id)
    rows = [
        {
            "team_id": c.team_id,
            "type": event_type,
            "at": at,
            "credential_id": c.id,
            "platform": c.platform,
            "data": {"credential": credential_data(c, at)},
        }
        for c in creds
    ]
    # Core inserts on the tables: the ORM's bulk path would build its own state per row.
    events = ChangeEvent.__table__
    if not hooks:
        session.execute(sa.insert(events), rows)
        return
    ids = session.scalars(
        sa.insert(events).returning(events.c.id, sort_by_parameter_order=True), rows
    ).all()
    deliveries = [
        {
            "webhook_id": hook_id,
            "change_id": change_id,
            "event_type": event_type,
            "created_at": at,
            "next_attempt_at": at,
        }
        for cred, change_id in zip(creds, ids, strict=True)
        for hook_id in hooks.get(cred.team_id, ())
    ]
    if deliveries:
        session.execute(sa.insert(WebhookDelivery.__table__), deliveries)


@dataclass(frozen=True)
class Change:
    id: int
    type: str
    at: datetime
    team_id: str
    credential_id: str | None
    platform: str | None
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The wire form shared by the API's change feed and webhook bodies."""
        return {
            "id": self.id,
            "type": self.type,
            "created_at": self.at.isoformat(),
            "team_id": self.team_id,
            "data": self.data,
        }


def change_of(row: ChangeEvent) -> Change:
    return Change(
        id=row.id or 0,
        type=row.type,
        at=row.at,
        team_id=row.team_id,
        credential_id=row.credential_id,
        platform=row.platform,
        data=dict(row.data or {}),
    )


class Changes(StoreCore):
    def changes_since(
        self,
        team_id: str,
        cursor: int = 0,
        *,
        limit: int = 100,
        platforms: list[str] | None = None,
    ) -> list[Change]:
        """The workspace's changes after `cursor` (a change id), oldest first. With
        `platforms`, only changes about those platforms."""
        with self._session(write=False) as s:
            query = (
                sa.select(ChangeEvent)
                .where(ChangeEvent.team_id == team_id, ChangeEvent.id > cursor)
                .order_by(ChangeEvent.id)
                .limit(limit)
            )
            if platforms is not None:
                query = query.where(ChangeEvent.platform.in_(platforms))
            return [change_of(r) for r in s.scalars(query)]

    def latest_change_id(self, team_id: str) -> int:
        with self._session(write=False) as s:
            found = s.scalar(
                sa.select(sa.func.max(ChangeEvent.id)).where(ChangeEvent.team_id == team_id)
            )
            return int(found or 0)
