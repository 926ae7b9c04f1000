"""Requests by link: `/getkey request link <platform> [note]` answers (ephemeral) with a link to
send by email or chat, and its Cancel button (the requester's or a workspace admin's).
bot.services.links does the work; bot.http.pages serves the link."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.admins import Admin
from bot.services.credentials import Actor, Intent
from bot.services.requests import Refused
from bot.slack.listeners import actor_of, channel_of
from bot.slack.listeners.home import refresh_if_home
from bot.slack.listeners.replies import (
    button_value,
    open_view,
    runtime_of,
    tell,
    workspace_defaults,
)
from bot.slack.ui import ids
from bot.slack.ui.intent import intent_from_words
from bot.slack.ui.links import LINK_USAGE, link_message
from bot.slack.ui.requests import ask_view, asked_message

log = logging.getLogger(__name__)


def _names(body: dict[str, Any]) -> tuple[str, str]:
    """(the requester's name, their workspace) as the command says them, for the page."""
    return str(body.get("user_name") or ""), str(body.get("team_domain") or "")


async def start_link_request(
    rt: Runtime, body: dict[str, Any], text: str, respond: AsyncRespond, client: AsyncWebClient
) -> None:
    """`text`: what follows `request link`."""
    words = text.split(maxsplit=1)
    if not words:
        await respond(response_type="ephemeral", text=LINK_USAGE)
        return
    actor = actor_of(body)
    default = (await workspace_defaults(rt, actor)).purpose
    fixed = intent_from_words(words[1] if len(words) > 1 else "", rt.credentials.now().date(),
                              default)
    if isinstance(fixed, str):
        await respond(response_type="ephemeral", text=f"{fixed} No link was made.")
        return
    handle, team = _names(body)
    # The page shows who asks: their full name where Slack gives it, else their handle.
    name = await _real_name(client, actor.user_id) or handle
    made = await rt.workers.quick(
        rt.links.create, actor, words[0].lower(), note=fixed[1], channel_id=channel_of(body),
        requester_name=name, team_name=team, intent=fixed[0],
    )  # fmt: skip
    if isinstance(made, Refused):
        await respond(response_type="ephemeral", text=made.reason)
        return
    await respond(response_type="ephemeral", **link_message(made))


async def handle_cancel_link(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    rt, actor = runtime_of(context), actor_of(body)
    request_id = button_value(body)
    done = await rt.workers.quick(rt.links.cancel, request_id, actor)
    if isinstance(done, Refused) and isinstance(await rt.admins.check(actor), Admin):
        # Not theirs: an admin of the workspace may still close it.
        done = await rt.workers.quick(rt.links.cancel, request_id, actor, admin=True)
    if isinstance(done, Refused):
        await tell(body, client, respond, done.reason)
        return
    log.info("link cancelled", extra={"request": done.id})
    if body.get("response_url"):
        # Replacing the answer that held the link also takes the link out of Slack.
        await respond(replace_original=True, text="Link cancelled: it no longer opens anything.")
    await refresh_if_home(rt, client, body)


async def link_from_modal(
    rt: Runtime, body: dict[str, Any], actor: Actor, platform: str, note: str,
    channel: Any, intent: Intent,
) -> None:
    """"Send a link instead" in the Ask modal: a modal has no conversation to answer in, so
    the requester gets the link by DM (only they can read it)."""
    user = body.get("user") or {}
    made = await rt.workers.quick(
        rt.links.create, actor, platform, note=note,
        channel_id=str(channel) if channel else None,
        requester_name=str(user.get("username") or user.get("name") or ""),
        team_name=str((body.get("team") or {}).get("domain") or ""), intent=intent,
    )  # fmt: skip
    message = {"text": made.reason} if isinstance(made, Refused) else link_message(made)
    try:
        await rt.messenger.send(actor.team_id, actor.user_id, message)
    except Exception as exc:
        log.info("requester not told", extra={"error": type(exc).__name__})


async def ask_across(
    rt: Runtime, client: AsyncWebClient, actor: Actor, *, provider_id: str, platform: str,
    note: str, channel_id: str | None, deliver: Callable[..., Awaitable[str | None]],
    intent: Intent,
) -> dict[str, Any]:
    """Slack Connect: the provider belongs to another organisation. They get the button where
    Slack allows it (a DM, else an ephemeral message in the shared channel); otherwise the
    request becomes a link, and the requester is told which was used. `deliver`: the
    DM-else-ephemeral sender of bot.slack.listeners.requests."""
    opened = await rt.workers.quick(
        rt.requests.request, actor, provider_id=provider_id, provider_team="", platform=platform,
        note=note, channel_id=channel_id, external=True, intent=intent,
    )  # fmt: skip
    if isinstance(opened, Refused):
        return {"text": opened.reason}
    where = await deliver(rt, client, opened, channel_id)
    if where is not None:
        said = asked_message(opened.request, opened.flow, where)
        said["text"] += " They belong to another organisation (Slack Connect)."
        return said
    await rt.workers.quick(rt.requests.unreached, opened.request.id)
    name = await _real_name(client, actor.user_id)
    made = await rt.workers.quick(
        rt.links.create, actor, platform, note=note, channel_id=channel_id,
        requester_name=name, intent=intent,
    )  # fmt: skip
    why = (
        f"<@{provider_id}> belongs to another organisation, and its Slack settings do not let "
        "getkey message them here."
    )
    if isinstance(made, Refused):
        return {"text": f"{why} {made.reason}"}
    said = link_message(made)
    said["text"] = f"{why} Send them this link instead."
    said["blocks"].insert(0, {"type": "section", "text": {"type": "mrkdwn", "text": said["text"]}})
    return said


async def _real_name(client: AsyncWebClient, user_id: str) -> str:
    try:
        found = await client.api_call("users.info", params={"user": user_id})
    except SlackApiError:
        return ""
    user = found.get("user") or {}
    return str((user.get("profile") or {}).get("real_name") or user.get("real_name") or "")


async def handle_home_ask_link(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                               context: AsyncBoltContext) -> None:
    await ack()
    purpose = (await workspace_defaults(runtime_of(context), actor_of(body))).purpose
    await open_view(client, body, ask_view(link=True, purpose=purpose))


def register(app: AsyncApp, rt: Runtime) -> None:
    app.action(ids.LINK_CANCEL)(handle_cancel_link)
    app.action(ids.HOME_ASK_LINK)(handle_home_ask_link)
