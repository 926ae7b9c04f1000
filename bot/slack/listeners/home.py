"""The App Home tab: the person's stored keys, their status and the reminder buttons; their
requests to others; the keys they provided to others (bot.slack.ui.home)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.admins import Admin
from bot.services.credentials import Actor
from bot.services.search import clean_query, my_page
from bot.slack.listeners import actor_of
from bot.slack.listeners.replies import Body, from_home, runtime_of, slack_call
from bot.slack.ui import ids, paging
from bot.slack.ui.admin import admin_toggle
from bot.slack.ui.home import home_view

if TYPE_CHECKING:
    from bot.store.info import CredentialInfo
    from bot.store.listing import Page
    from bot.store.requests import RequestInfo


def read_home(
    rt: Runtime, actor: Actor, query: str, offset: int
) -> tuple[Page, list[RequestInfo], list[tuple[RequestInfo, CredentialInfo]]]:
    page = my_page(rt.credentials.store, actor, query, offset, paging.HOME_PAGE)
    return page, rt.requests.mine(actor), rt.requests.provided(actor)


async def publish_home(
    rt: Runtime, client: AsyncWebClient, actor: Actor, query: str = "", offset: int = 0
) -> None:
    """The Home tab at one page of the person's keys (those matching `query`)."""
    query = clean_query(query)
    page, requests, provided = await rt.workers.quick(read_home, rt, actor, query, offset)
    view = home_view(page, requests, provided, query)
    if isinstance(await rt.admins.check(actor), Admin):
        # Admins get a way to every credential of the workspace (bot.slack.listeners.admin).
        view["blocks"].insert(1, admin_toggle().to_dict())
    await client.views_publish(user_id=actor.user_id, view=view)


async def refresh_home(
    rt: Runtime,
    client: AsyncWebClient,
    actor: Actor,
    *,
    level: int = logging.WARNING,
    query: str = "",
    offset: int = 0,
) -> None:
    """Publish the Home tab again; a failure is logged (the tab shows its last version)."""
    await slack_call("views.publish", publish_home(rt, client, actor, query, offset), level=level)


async def refresh_if_home(rt: Runtime, client: AsyncWebClient, body: dict[str, Any]) -> None:
    """After a button on the Home tab: show its new state there, on the page it was on."""
    if from_home(body):
        query, offset = paging.read_state((body.get("view") or {}).get("private_metadata"))
        await refresh_home(rt, client, actor_of(body), query=query, offset=offset)


async def handle_page(ack: AsyncAck, body: Body, action: dict[str, Any], context: AsyncBoltContext,
                      client: AsyncWebClient) -> None:
    """Previous/Next/Show all on the Home tab."""
    await ack()
    query, offset = paging.read_state(action.get("value"))
    await refresh_home(runtime_of(context), client, actor_of(body), query=query, offset=offset)


async def handle_search(ack: AsyncAck, body: Body, action: dict[str, Any],
                        context: AsyncBoltContext, client: AsyncWebClient) -> None:
    """The Home tab's search field (Enter): the first page of the keys matching the words."""
    await ack()
    query = str(action.get("value") or "")
    await refresh_home(runtime_of(context), client, actor_of(body), query=query)


async def handle_home_opened(body: Body, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    # The Messages tab fires the same event; only the Home tab needs a view.
    if (body.get("event") or {}).get("tab", "home") != "home":
        return
    actor = actor_of(body)
    if not actor.user_id or not actor.team_id:
        return
    await refresh_home(runtime_of(context), client, actor)


def register(app: AsyncApp, rt: Runtime) -> None:
    app.event("app_home_opened")(handle_home_opened)
    app.action(re.compile(re.escape(ids.HOME_PAGE) + r"\.\w+"))(handle_page)
    app.action(ids.HOME_SEARCH)(handle_search)
