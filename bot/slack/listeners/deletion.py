"""Deleting one of your keys: `/getkey delete [n]`, the Delete button of `/getkey list`, and the
confirmation modal's submission (answered inside its ack, so the modal closes with the outcome).
Ownership is checked by the credential service when the deletion is confirmed."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.credentials import Done
from bot.services.search import my_page
from bot.slack.listeners import actor_of, channel_of
from bot.slack.listeners.replies import Body, open_view, runtime_of
from bot.slack.ui import ids, messages, modals, paging
from bot.slack.ui.form import read_metadata
from bot.slack.ui.modals import confirm_delete_view
from bot.slack.ui.text import escape, row_label

if TYPE_CHECKING:
    from bot.store.info import CredentialInfo

log = logging.getLogger(__name__)

# Answered inside the ack: bounded, so a database that does not answer gets a message, not
# Slack's timeout error.
ACK_BUDGET = 2.0


async def numbered_key(
    rt: Runtime, body: dict[str, Any], argument: str, respond: AsyncRespond,
    *, word: str, button: str, nothing: str,
) -> CredentialInfo | None:
    """Key n of `/getkey <word> [n]` (or the only key), numbered as /getkey list shows them;
    None when the person was told why not (`nothing` when no keys, which one, no such n)."""
    actor = actor_of(body)
    valid = not argument or (argument.isdigit() and 0 < int(argument) <= 10**6)
    wanted = int(argument) - 1 if argument and valid else 0
    # Key n is the one row at offset n-1 of /getkey list's order: one read however many.
    store = rt.credentials.store
    page = await rt.workers.quick(my_page, store, actor, "", wanted, paging.LIST_PAGE)
    if not page.total:
        await respond(response_type="ephemeral", text=nothing)
        return None
    if not argument and page.total > 1:
        await respond(
            response_type="ephemeral",
            text=f"Which key? Press {button} next to it, or type `/getkey {word} <number>`.",
            blocks=messages.list_blocks(page),
        )
        return None
    if argument and not (valid and page.infos):
        await respond(
            response_type="ephemeral",
            text=(
                f"There is no key number {escape(argument[:20])}: you have {page.total}. "
                "`/getkey list` shows them numbered."
            ),
        )
        return None
    return page.infos[0]


async def start_delete(
    rt: Runtime,
    body: dict[str, Any],
    argument: str,
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    """`/getkey delete [n]`: the confirmation for key n (or the only key), else the list."""
    info = await numbered_key(rt, body, argument, respond, word="delete", button="Delete",
                              nothing="You have no stored keys to delete.")
    if info is None:
        return
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=confirm_delete_view(info.id, row_label(info), body.get("channel_id")),
    )


def list_button(action: dict[str, Any]) -> tuple[str, str] | None:
    """(credential id, label) from a /getkey list row's button; None for anything odd. The
    label travels in the button so the dialog opens without a database read."""
    try:
        data = json.loads(action.get("value") or "{}")
    except ValueError:
        return None
    if not isinstance(data, dict) or not data.get("id"):
        return None
    return str(data["id"]), str(data.get("label") or "this key")


async def handle_list_delete(ack: AsyncAck, body: Body, action: dict[str, Any],
                             client: AsyncWebClient) -> None:
    await ack()
    row = list_button(action)
    if row is not None:
        await open_view(client, body, confirm_delete_view(*row, channel_of(body)))


async def handle_delete_confirmed(ack: AsyncAck, body: Body, view: dict[str, Any],
                                  context: AsyncBoltContext) -> None:
    rt = runtime_of(context)
    credential_id = str(read_metadata(view.get("private_metadata")).get("credential") or "")
    try:
        outcome = await asyncio.wait_for(
            rt.workers.quick(rt.credentials.delete, credential_id, actor_of(body)), ACK_BUDGET
        )
    except Exception as exc:
        log.error("delete failed", extra={"error": type(exc).__name__})
        text = "getkey could not delete it just now. Please try again; `/getkey list` shows "
        await ack(
            response_action="update",
            view=modals.done_view("Not deleted", text + "what is stored."),
        )
        return
    if not isinstance(outcome, Done):
        # Someone else's key looks exactly like a missing one: nothing to learn from ids.
        await ack(
            response_action="update",
            view=modals.done_view("Nothing to delete", "That key is no longer stored."),
        )
        return
    await ack(response_action="update", view=modals.deleted_view(outcome.info))


def register(app: AsyncApp, rt: Runtime) -> None:
    app.action(ids.LIST_DELETE)(handle_list_delete)
    app.view(ids.CONFIRM_DELETE_VIEW)(handle_delete_confirmed)
