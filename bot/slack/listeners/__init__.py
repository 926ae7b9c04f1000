"""Slack listeners: parse → ack → call the credential service → render.

Every module here that defines `register(app, runtime)` is registered by
bot.slack.app.build_app, so a
new surface is one new module. Identity comes only from the fields Slack documents for each
payload type: a value placed anywhere else in a payload is never read as "who".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.services.credentials import Actor


def actor_of(body: dict[str, Any]) -> Actor:
    """Who sent this request, from the documented field of its payload type:
    slash commands carry `user_id`/`team_id`; interactions (block_actions, view_submission,
    shortcuts) carry `user.id` and `team.id` (`user.team_id` when `team` is null, as in
    org-wide installs); events carry `event.user` and the envelope's `team_id`."""
    if "command" in body:
        return Actor(
            team_id=_str(body.get("team_id")),
            user_id=_str(body.get("user_id")),
            enterprise_id=_str(body.get("enterprise_id")) or None,
        )
    if body.get("type") == "event_callback":
        event = body.get("event") if isinstance(body.get("event"), dict) else {}
        user = event.get("user")
        return Actor(
            team_id=_str(body.get("team_id")),
            user_id=_str(user.get("id") if isinstance(user, dict) else user),
            enterprise_id=_str(body.get("enterprise_id")) or None,
        )
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    enterprise = body.get("enterprise") if isinstance(body.get("enterprise"), dict) else {}
    return Actor(
        team_id=_str(team.get("id") or user.get("team_id")),
        user_id=_str(user.get("id")),
        enterprise_id=_str(enterprise.get("id")) or None,
    )


def channel_of(body: dict[str, Any]) -> str | None:
    if "command" in body:
        return _str(body.get("channel_id")) or None
    channel = body.get("channel")
    if isinstance(channel, dict) and channel.get("id"):
        return _str(channel["id"])
    container = body.get("container") if isinstance(body.get("container"), dict) else {}
    return _str(container.get("channel_id")) or None


def request_kind(body: Mapping[str, Any]) -> str:
    """What a Slack request is, for log lines: never a value from it."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    return kind if isinstance(kind, str) and kind.isidentifier() and len(kind) < 40 else "other"


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""
