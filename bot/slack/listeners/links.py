"""Requests by link: `/getkey request link <platform> [note]` answers (ephemeral) with a link to
send by email or chat, and its Cancel button (the requester's or a workspace admin's).
bot.services.links does the work; bot.http.pages serves the link."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.admins import Admin
from bot.services.requests import Refused
from bot.slack.listeners import actor_of, channel_of
from bot.slack.listeners.home import refresh_if_home
from bot.slack.listeners.replies import button_value, runtime_of, tell
from bot.slack.ui import ids
from bot.slack.ui.links import LINK_USAGE, link_message

log = logging.getLogger(__name__)


def _names(body: dict[str, Any]) -> tuple[str, str]:
    """(the requester's name, their workspace) as the command says them, for the page."""
    return str(body.get("user_name") or ""), str(body.get("team_domain") or "")


async def start_link_request(
    rt: Runtime, body: dict[str, Any], text: str, respond: AsyncRespond
) -> None:
    """`text`: what follows `request link`."""
    words = text.split(maxsplit=1)
    if not words:
        await respond(response_type="ephemeral", text=LINK_USAGE)
        return
    name, team = _names(body)
    made = await rt.workers.quick(
        rt.links.create, actor_of(body), words[0].lower(),
        note=words[1] if len(words) > 1 else "", channel_id=channel_of(body),
        requester_name=name, team_name=team,
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


def register(app: AsyncApp, rt: Runtime) -> None:
    app.action(ids.LINK_CANCEL)(handle_cancel_link)
