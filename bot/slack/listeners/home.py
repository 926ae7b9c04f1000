"""The App Home tab: the person's stored keys, their status and the reminder buttons; their
requests to others; the keys they provided to others (bot.slack.ui.home)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.admins import Admin
from bot.services.credentials import Actor
from bot.slack.listeners import actor_of
from bot.slack.listeners.replies import from_home, runtime_of, slack_call
from bot.slack.ui.admin import admin_toggle
from bot.slack.ui.home import home_view


async def publish_home(rt: Runtime, client: AsyncWebClient, actor: Actor) -> None:
    credentials = await rt.workers.quick(rt.credentials.mine, actor)
    requests = await rt.workers.quick(rt.requests.mine, actor)
    provided = await rt.workers.quick(rt.requests.provided, actor)
    view = home_view(credentials, requests, provided)
    if isinstance(await rt.admins.check(actor), Admin):
        # Admins get a way to every credential of the workspace (bot.slack.listeners.admin).
        view["blocks"].insert(1, admin_toggle().to_dict())
    await client.views_publish(user_id=actor.user_id, view=view)


async def refresh_home(
    rt: Runtime, client: AsyncWebClient, actor: Actor, *, level: int = logging.WARNING
) -> None:
    """Publish the Home tab again; a failure is logged (the tab shows its last version)."""
    await slack_call("views.publish", publish_home(rt, client, actor), level=level)


async def refresh_if_home(rt: Runtime, client: AsyncWebClient, body: dict[str, Any]) -> None:
    """After a button on the Home tab: show its new state there."""
    if from_home(body):
        await refresh_home(rt, client, actor_of(body))


async def handle_home_opened(
    body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    # The Messages tab fires the same event; only the Home tab needs a view.
    if (body.get("event") or {}).get("tab", "home") != "home":
        return
    actor = actor_of(body)
    if not actor.user_id or not actor.team_id:
        return
    await refresh_home(runtime_of(context), client, actor)


def register(app: AsyncApp, rt: Runtime) -> None:
    app.event("app_home_opened")(handle_home_opened)
