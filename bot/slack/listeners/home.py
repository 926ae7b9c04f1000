"""The App Home tab: the person's stored keys, their status and the reminder buttons; their
requests to others; the keys they provided to others (bot.slack.ui.home)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.admins import Admin
from bot.services.credentials import Actor
from bot.slack.listeners import actor_of
from bot.slack.ui.admin import admin_toggle
from bot.slack.ui.home import home_view

log = logging.getLogger(__name__)


async def publish_home(rt: Runtime, client: AsyncWebClient, actor: Actor) -> None:
    credentials = await rt.workers.quick(rt.credentials.mine, actor)
    requests = await rt.workers.quick(rt.requests.mine, actor)
    provided = await rt.workers.quick(rt.requests.provided, actor)
    view = home_view(credentials, requests, provided)
    if isinstance(await rt.admins.check(actor), Admin):
        # Admins get a way to every credential of the workspace (bot.slack.listeners.admin).
        view["blocks"].insert(1, admin_toggle().to_dict())
    await client.views_publish(user_id=actor.user_id, view=view)


def register(app: AsyncApp, rt: Runtime) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(body: dict[str, Any], client: AsyncWebClient) -> None:
        # The Messages tab fires the same event; only the Home tab needs a view.
        if (body.get("event") or {}).get("tab", "home") != "home":
            return
        actor = actor_of(body)
        if not actor.user_id or not actor.team_id:
            return
        try:
            await publish_home(rt, client, actor)
        except SlackApiError as exc:
            log.warning("views.publish failed", extra={"error": exc.response.get("error")})
