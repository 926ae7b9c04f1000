"""Operator commands for scripts (issue 17): `getkey db current`, `getkey webhooks deliveries`,
`getkey webhooks test`, `getkey remind --once --dry-run`, and the JSON forms of list commands.
JSON goes to stdout alone (one document), so `| jq` works; advice goes to stderr."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError

from bot.cli.operator import _settings, _store, parse_now
from bot.errors import UsageError
from bot.store.db import current_revision, display_url, head_revision, make_engine


def emit(data: Any) -> None:
    print(json.dumps(data, indent=2, default=_when))


def _when(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def cmd_db_current(as_json: bool) -> int:
    """The schema revision the database is at, and whether it is the newest; exit 1 if not."""
    url = _settings().database_url
    try:
        engine = make_engine(url)
        try:
            current = current_revision(engine)
        finally:
            engine.dispose()
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise UsageError(f"Cannot open the database at {display_url(url)} "
                         f"({type(exc).__name__}).") from None
    head = head_revision()
    if as_json:
        emit({"database": display_url(url), "current": current, "head": head,
              "up_to_date": current == head})
    elif current == head:
        print(f"{current} (newest) at {display_url(url)}")
    else:
        print(f"{current or 'empty'} at {display_url(url)}; the newest is {head}: run "
              "`getkey db upgrade`")
    return 0 if current == head else 1


def _team_rows(store: Any, team: str | None) -> list[dict[str, Any]]:
    teams = [team] if team else [h.team_id for h in store.webhooks()]
    rows = []
    for t in teams:
        for d in store.deliveries(t):
            rows.append({
                "team": t, "id": d.id, "event": d.event_type, "attempts": d.attempts,
                "delivered": d.delivered, "done_at": d.done_at,
                "next_attempt_at": None if d.done_at else d.next_attempt_at,
                "last_status": d.last_status,
                "tries": [{"at": at, "status": status, "error": error}
                          for at, status, error in d.tries],
            })
    return rows


def cmd_webhook_deliveries(team: str | None, as_json: bool) -> int:
    """Each delivery with its attempts (status and time), oldest first."""
    with _store() as store:
        rows = _team_rows(store, team)
    if as_json:
        emit(rows)
        return 0
    if not rows:
        print("No webhook deliveries.")
    for row in rows:
        state = ("delivered" if row["delivered"] else "given up") if row["done_at"] else (
            f"next try {row['next_attempt_at']:%Y-%m-%d %H:%M}")
        print(f"{row['team']}  #{row['id']}  {row['event']}  {state}  "
              f"attempts {row['attempts']}  last status {row['last_status'] or '-'}")
        for attempt in row["tries"]:
            status = attempt["status"] or "no answer"
            error = f"  {attempt['error']}" if attempt["error"] else ""
            print(f"    {attempt['at']:%Y-%m-%d %H:%M:%S}  {status}{error}")
    return 0


def cmd_webhook_test(team: str, as_json: bool) -> int:
    """POST a signed `ping` to the workspace's webhook now (recorded nowhere); exit 1 unless
    the receiver answers 2xx."""
    from bot.jobs.webhooks import TIMEOUT, WebhookSender

    settings = _settings()
    with _store() as store:
        item = store.ping_item(team)
        if item is None:
            raise UsageError(f"{team} has no webhook: set one with `getkey webhooks set`.")
        sender = WebhookSender(store, None,  # type: ignore[arg-type] - no worker needed
                               allow_private=settings.getkey_webhook_allow_private)

        async def ping() -> tuple[int, str]:
            async with httpx.AsyncClient(timeout=httpx.Timeout(**TIMEOUT),
                                         follow_redirects=False) as client:
                return await sender._attempt(client, item)

        status, error = asyncio.run(ping())
    ok = 200 <= status < 300
    if as_json:
        emit({"team": team, "event": "ping", "status": status, "ok": ok, "error": error})
    else:
        answer = f"HTTP {status}" if status else "no answer"
        print(f"ping to {team}'s webhook: {answer}" + ("" if ok else f" ({error})"))
    return 0 if ok else 1


def cmd_remind_dry_run(now: str | None, as_json: bool) -> int:
    """What `remind --once` would send at `now`, claiming and sending nothing."""
    from bot.clock import utcnow

    when = parse_now(now) or utcnow()
    with _store() as store:
        due = store.due_preview(when)
    rows = [{"platform": info.platform, "store": info.store_name or info.identity,
             "masked": info.masked, "stage": stage, "owner": info.user_id} for stage, info in due]
    if as_json:
        emit({"now": when, "dry_run": True, "due": rows})
    else:
        for row in rows:
            print("\t".join(str(row[k]) for k in ("platform", "store", "masked", "stage", "owner")))
        print(f"{len(rows)} reminder{'' if len(rows) == 1 else 's'} due as of "
              f"{when.isoformat()} (dry run: nothing sent)", file=sys.stderr)
    return 0
