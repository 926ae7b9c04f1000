"""Workspace lifecycle (installed by OAuth): an uninstall or a revoked bot token deletes that
workspace's Slack tokens at once and stops its reminders; its credentials stay encrypted for the
retention period, and a reinstall finds them again."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.runtime import Runtime
from bot.slack.listeners.replies import runtime_of

log = logging.getLogger(__name__)


async def _uninstall(context: AsyncBoltContext, why: str) -> None:
    rt = runtime_of(context)
    team = None if context.is_enterprise_install else context.team_id
    await rt.workers.quick(rt.store.uninstall, context.enterprise_id, team, actor=f"slack:{why}")
    log.info("workspace uninstalled", extra={"team": team, "why": why})


async def handle_uninstalled(context: AsyncBoltContext) -> None:
    await _uninstall(context, "app_uninstalled")


async def handle_tokens_revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
    rt = runtime_of(context)
    tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
    if tokens.get("bot"):
        # Without its bot token getkey can do nothing in the workspace: as an uninstall.
        await _uninstall(context, "tokens_revoked")
    for user_id in tokens.get("oauth") or []:
        if isinstance(user_id, str):
            await rt.workers.quick(
                rt.store.delete_installations, context.enterprise_id, context.team_id, user_id
            )


def register(app: AsyncApp, rt: Runtime) -> None:
    if not rt.settings.oauth:
        return  # one bot token from the operator: nothing here to delete
    app.event("app_uninstalled")(handle_uninstalled)
    app.event("tokens_revoked")(handle_tokens_revoked)
