"""Slack listeners. Every module here that defines `register(app, services)` is registered by
bot.app.build_app, so a new surface (events, reminders' buttons) is one new module."""

from __future__ import annotations

import logging

log = logging.getLogger("bot.listeners")


def user_and_team(body: dict) -> tuple[str, str]:
    """(team_id, user_id) from any payload shape: commands are flat, interactivity nests."""
    user = body.get("user") or {}
    team = body.get("team") or {}
    user_id = body.get("user_id") or (user.get("id") if isinstance(user, dict) else user) or ""
    team_id = (
        body.get("team_id")
        or (team.get("id") if isinstance(team, dict) else "")
        or (user.get("team_id") if isinstance(user, dict) else "")
        or ""
    )
    return str(team_id), str(user_id)


def channel_of(body: dict) -> str | None:
    channel = body.get("channel")
    if isinstance(channel, dict) and channel.get("id"):
        return str(channel["id"])
    container = body.get("container") or {}
    return body.get("channel_id") or container.get("channel_id")
