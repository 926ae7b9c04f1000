"""/getkey [help | list | delete [n] | <platform or alias>].

Answers that need no I/O go back in the ack itself (instant, ephemeral, works in any channel).
Answers that read the database ack first and follow through `respond` (the response_url).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.slack.listeners import actor_of
from bot.slack.ui import messages
from bot.slack.ui.modals import confirm_delete_view
from bot.slack.ui.text import escape, row_label
from flows import catalog
from flows.base import Flow

log = logging.getLogger(__name__)

HELP_WORDS = {"", "help", "?", "-h", "--help"}
LIST_WORDS = {"list", "ls", "keys"}
DELETE_WORDS = {"delete", "remove", "rm"}
# The workspace defaults are read before the ack (cached: usually no read at all).
OFFERED_BUDGET = 1.0
READ_FAILED = "getkey could not read your stored keys just now. Please try again in a minute."


def not_offered_text(flow: Flow) -> str:
    return (
        f"{flow.name} is not offered in this workspace: its getkey admins chose the platforms "
        "it offers. Type `/getkey help` to see them, or ask an admin."
    )


async def answer_platform(ack: AsyncAck, name: str, offered: tuple[str, ...] | None = None) -> None:
    flow = catalog.get(name)
    if flow is not None and offered is not None and flow.id not in offered:
        await ack(response_type="ephemeral", text=not_offered_text(flow))
        return
    if flow is not None:
        await ack(
            response_type="ephemeral",
            text=messages.guide_text(flow),
            blocks=messages.guide_blocks(flow),
        )
        return
    family = catalog.family(name)
    if family is not None:
        intro, editions = family
        shown = [f for f in editions if offered is None or f.id in offered]
        if shown:
            await ack(
                response_type="ephemeral",
                text=messages.family_text(shown),
                blocks=messages.family_blocks(intro, shown),
            )
            return
    suggestions = [s for s in catalog.suggest(name) if offered is None or s.id in offered]
    await ack(
        response_type="ephemeral",
        text=messages.unknown_text(name, suggestions),
        blocks=messages.unknown_blocks(name, suggestions, offered),
    )


async def offered_in(rt: Runtime, body: dict[str, Any]) -> tuple[str, ...] | None:
    """The platforms the sender's workspace offers (None: all). Read before an ack, so bounded;
    if the database does not answer in time every platform is shown (the form is checked
    again on submission)."""
    actor = actor_of(body)
    try:
        defaults = await asyncio.wait_for(
            rt.admins.defaults(actor.team_id, actor.enterprise_id), OFFERED_BUDGET
        )
    except Exception as exc:
        log.warning("workspace defaults unread", extra={"error": type(exc).__name__})
        return None
    return defaults.platforms


async def show_list(rt: Runtime, body: dict[str, Any], respond: AsyncRespond) -> None:
    from bot.slack.ui.requests import request_rows
    from bot.slack.ui.text import MESSAGE_BLOCKS, dicts

    actor = actor_of(body)
    infos = await rt.workers.quick(rt.credentials.mine, actor)
    requests = await rt.workers.quick(rt.requests.mine, actor)
    # The person's requests to others (with their state and buttons) follow their keys.
    asked = dicts(request_rows(requests, limit=5))
    blocks = messages.list_blocks(infos)[: MESSAGE_BLOCKS - len(asked)] + asked
    await respond(
        response_type="ephemeral",
        replace_original=False,
        text=messages.list_text(infos),
        blocks=blocks,
    )


async def start_delete(
    rt: Runtime,
    body: dict[str, Any],
    argument: str,
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    infos = await rt.workers.quick(rt.credentials.mine, actor_of(body))
    if not infos:
        await respond(response_type="ephemeral", text="You have no stored keys to delete.")
        return
    if not argument and len(infos) > 1:
        await respond(
            response_type="ephemeral",
            text="Which key? Press Delete next to it, or type `/getkey delete <number>`.",
            blocks=messages.list_blocks(infos),
        )
        return
    if argument and not (argument.isdigit() and 1 <= int(argument) <= len(infos)):
        await respond(
            response_type="ephemeral",
            text=(
                f"There is no key number {escape(argument[:20])}: you have {len(infos)}. "
                "`/getkey list` shows them numbered."
            ),
        )
        return
    info = infos[int(argument) - 1] if argument else infos[0]
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=confirm_delete_view(info.id, row_label(info), body.get("channel_id")),
    )


async def _guarded(what: str, respond: AsyncRespond, work: Callable[[], Awaitable[None]]) -> None:
    """Run database-backed work after the ack; a failure becomes one actionable sentence."""
    try:
        await work()
    except SlackApiError as exc:
        log.warning("slack call failed", extra={"what": what, "error": exc.response.get("error")})
    except Exception as exc:
        log.error("command failed", extra={"what": what, "error": type(exc).__name__})
        await respond(response_type="ephemeral", text=READ_FAILED)


def _on_shared_session(rt: Runtime, url: str) -> AsyncRespond:
    """`respond` through the process's one HTTP session (bot.slack.client.SlackClients.respond)
    instead of a new session per message."""

    async def respond(**message: Any) -> None:
        await rt.clients.respond(url, **message)

    return respond  # type: ignore[return-value]


def register(app: AsyncApp, rt: Runtime) -> None:
    @app.command("/getkey")
    async def getkey(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        url = body.get("response_url")
        if isinstance(url, str) and url:
            respond = _on_shared_session(rt, url)
        text = " ".join(str(body.get("text") or "").split())
        first, _, rest = text.partition(" ")
        word = first.lower()
        if text.lower() in HELP_WORDS:
            await ack(
                response_type="ephemeral",
                text=messages.help_text(),
                blocks=messages.help_blocks(await offered_in(rt, body)),
            )
        elif word in LIST_WORDS and not rest:
            await ack()
            await _guarded("list", respond, lambda: show_list(rt, body, respond))
        elif word in DELETE_WORDS:
            await ack()
            await _guarded(
                "delete", respond, lambda: start_delete(rt, body, rest.strip(), respond, client)
            )
        elif word == "request":
            from bot.slack.listeners.requests import start_request

            await ack()
            await _guarded(
                "request", respond, lambda: start_request(rt, body, rest, respond, client)
            )
        else:
            await answer_platform(ack, text, await offered_in(rt, body))
