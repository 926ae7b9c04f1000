"""/getkey [help | list | delete [n] | done [n] | request … | <platform or alias>]: each word
goes to the listener module that owns it (guides, deletion, ending, requests).

Answers that need no I/O go back in the ack itself (instant, ephemeral, works in any channel).
Answers that read the database ack first and follow through `respond` (the response_url),
except /getkey list, which answers in the ack when its one read is quick (LIST_BUDGET).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.credentials import Actor
from bot.services.search import clean_query, my_list, my_page
from bot.slack.listeners import actor_of
from bot.slack.listeners.deletion import start_delete
from bot.slack.listeners.ending import start_done
from bot.slack.listeners.guides import answer_platform, offered_and_contact, offered_in
from bot.slack.listeners.replies import Body, runtime_of
from bot.slack.listeners.requests import start_request
from bot.slack.ui import ids, messages, paging
from bot.slack.ui.requests import CLOSED_SHOWN, request_rows
from bot.slack.ui.text import MESSAGE_BLOCKS, dicts

if TYPE_CHECKING:
    from bot.store.listing import Page
    from bot.store.requests import RequestInfo

log = logging.getLogger(__name__)

HELP_WORDS = {"", "help", "?", "-h", "--help"}
LIST_WORDS = {"list", "ls", "keys"}
DELETE_WORDS = {"delete", "remove", "rm"}
DONE_WORDS = {"done"}
# How long the ack waits for /getkey list's read before answering through the response_url.
LIST_BUDGET = 0.5
# Open requests shown under the list's first page.
LIST_REQUESTS = 5
READ_FAILED = "getkey could not read your stored keys just now. Please try again in a minute."


def read_list(
    rt: Runtime, actor: Actor, query: str, offset: int, *, instant: bool = False
) -> tuple[Page, list[RequestInfo]]:
    """One page of keys, and on the first unsearched page the person's requests to others
    (with their state and buttons), in one read."""
    if query:
        return my_page(rt.credentials.store, actor, query, offset, paging.LIST_PAGE), []
    first = offset <= 0
    return my_list(rt.credentials.store, actor, offset, paging.LIST_PAGE,
                   open_requests=LIST_REQUESTS if first else 0,
                   closed_requests=CLOSED_SHOWN if first else 0, instant=instant)  # fmt: skip


def read_list_now(
    rt: Runtime, actor: Actor, query: str
) -> tuple[Page, list[RequestInfo]] | None:
    """The first unsearched page read on the spot, on the event loop, where the store can
    without waiting (a SQLite file that is not busy): cheaper than a worker thread and back.
    None otherwise: the worker pool reads it."""
    if query or not getattr(rt.credentials.store, "instant_reads", False):
        return None
    try:
        return read_list(rt, actor, query, 0, instant=True)
    except Exception as exc:  # busy, or anything else: the worker pool's read says what
        log.debug("list not read on the spot", extra={"error": type(exc).__name__})
        return None


def list_message(page: Page, asked: list[RequestInfo], query: str) -> dict[str, Any]:
    blocks = messages.list_blocks(page, query)
    rows: list[dict[str, Any]] = []
    if asked:
        # The requests get what the keys leave of a message's blocks (a header, two per open
        # request, one for the closed ones): never a key's place, nor Next's.
        room = MESSAGE_BLOCKS - len(blocks)
        rows = dicts(request_rows(asked, limit=min(LIST_REQUESTS, max(0, (room - 2) // 2))))
        rows = rows if len(rows) <= room else []
    return {
        "response_type": "ephemeral",
        "text": messages.list_text(page, query),
        "blocks": blocks + rows,
    }


async def answer_list(
    rt: Runtime, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, words: str
) -> None:
    """Answered in the ack when the read takes less than LIST_BUDGET (Slack shows a message
    sent with the acknowledgement like any other), else through the response_url."""
    query = clean_query(words)
    found = read_list_now(rt, actor_of(body), query)
    if found is not None:
        await ack(**list_message(*found, query))
        return
    read = asyncio.ensure_future(rt.workers.quick(read_list, rt, actor_of(body), query, 0))
    done, _ = await asyncio.wait({read}, timeout=LIST_BUDGET)
    if done and read.exception() is None:
        await ack(**list_message(*read.result(), query))
        return
    await ack()

    async def follow() -> None:
        await respond(replace_original=False, **list_message(*(await read), query))

    await _guarded("list", respond, follow)


async def handle_list_page(ack: AsyncAck, body: Body, action: dict[str, Any],
                           context: AsyncBoltContext) -> None:
    """Previous/Next/Show all under /getkey list: the message is replaced by that page."""
    await ack()
    rt = runtime_of(context)
    url = body.get("response_url")
    if not isinstance(url, str) or not url:
        return
    respond = _on_shared_session(rt, url)
    query, offset = paging.read_state(action.get("value"))
    query = clean_query(query)

    async def show() -> None:
        page, asked = await rt.workers.quick(read_list, rt, actor_of(body), query, offset)
        await respond(replace_original=True, **list_message(page, asked, query))

    await _guarded("list page", respond, show)


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


async def handle_getkey(ack: AsyncAck, body: Body, respond: AsyncRespond, client: AsyncWebClient,
                        context: AsyncBoltContext) -> None:
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
    elif word in LIST_WORDS:
        await answer_list(rt, ack, body, respond, rest)
    elif word in DELETE_WORDS:
        await ack()
        await _guarded(
            "delete", respond, lambda: start_delete(rt, body, rest.strip(), respond, client)
        )
    elif word in DONE_WORDS:
        await ack()
        await _guarded("done", respond, lambda: start_done(rt, body, rest.strip(), respond, client))
    elif word == "request":
        await ack()
        await _guarded("request", respond, lambda: start_request(rt, body, rest, respond, client))
    else:
        await answer_platform(ack, text, *await offered_and_contact(rt, body))


def register(app: AsyncApp, rt: Runtime) -> None:
    app.command("/getkey")(handle_getkey)
    app.action(re.compile(re.escape(ids.LIST_PAGE) + r"\.\w+"))(handle_list_page)
