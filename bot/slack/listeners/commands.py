"""/getkey [help | list | delete [n] | request … | <platform or alias>]: each word goes to
the listener module that owns it (guides, deletion, requests).

Answers that need no I/O go back in the ack itself (instant, ephemeral, works in any channel).
Answers that read the database ack first and follow through `respond` (the response_url).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.slack.listeners import actor_of
from bot.slack.listeners.deletion import start_delete
from bot.slack.listeners.guides import answer_platform, offered_in
from bot.slack.listeners.replies import runtime_of
from bot.slack.listeners.requests import start_request
from bot.slack.ui import messages
from bot.slack.ui.requests import request_rows
from bot.slack.ui.text import MESSAGE_BLOCKS, dicts

log = logging.getLogger(__name__)

HELP_WORDS = {"", "help", "?", "-h", "--help"}
LIST_WORDS = {"list", "ls", "keys"}
DELETE_WORDS = {"delete", "remove", "rm"}
READ_FAILED = "getkey could not read your stored keys just now. Please try again in a minute."


async def show_list(rt: Runtime, body: dict[str, Any], respond: AsyncRespond) -> None:
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


async def handle_getkey(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    rt = runtime_of(context)
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
        await ack()
        await _guarded("request", respond, lambda: start_request(rt, body, rest, respond, client))
    else:
        await answer_platform(ack, text, await offered_in(rt, body))


def register(app: AsyncApp, rt: Runtime) -> None:
    app.command("/getkey")(handle_getkey)
