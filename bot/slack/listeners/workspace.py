"""Workspace lifecycle (installed by OAuth): an uninstall or a revoked bot token deletes that
workspace's Slack tokens at once and stops its reminders; its credentials stay encrypted for the
retention period, and a reinstall finds them again."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.runtime import Runtime

log = logging.getLogger(__name__)


def register(app: AsyncApp, rt: Runtime) -> None:
    if not rt.settings.oauth:
        return  # one bot token from the operator: nothing here to delete

    async def uninstall(context: AsyncBoltContext, why: str) -> None:
        team = None if context.is_enterprise_install else context.team_id
        await rt.workers.quick(
            rt.store.uninstall, context.enterprise_id, team, actor=f"slack:{why}"
        )
        log.info("workspace uninstalled", extra={"team": team, "why": why})

    @app.event("app_uninstalled")
    async def on_uninstalled(context: AsyncBoltContext) -> None:
        await uninstall(context, "app_uninstalled")

    @app.event("tokens_revoked")
    async def on_tokens_revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
        tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
        if tokens.get("bot"):
            # Without its bot token getkey can do nothing in the workspace: as an uninstall.
            await uninstall(context, "tokens_revoked")
        for user_id in tokens.get("oauth") or []:
            if isinstance(user_id, str):
                await rt.workers.quick(
                    rt.store.delete_installations, context.enterprise_id, context.team_id, user_id
                )
