"""The end of a key's job, from Slack (issue 19): "Done with it" (getkey forgets the key and
shows that platform's revocation steps; a provider who is someone else gets them too) and the
"Keep it until…" date on the "still needed?" message. Only the key's owner can do either.

Done is offered wherever the key shows: the "still needed?" message and the Home tab (a button
with Slack's confirmation dialog), and `/getkey done <n>` and the list's button (a modal, as for
Delete, answered inside its ack when the hand-back is quick)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.credentials import ActionOutcome, Actor, Done
from bot.services.ending import EndDateError, Ending, end_of
from bot.slack.listeners import actor_of, channel_of
from bot.slack.listeners.deletion import ACK_BUDGET, list_button, numbered_key
from bot.slack.listeners.home import refresh_if_home
from bot.slack.listeners.reminders import refusal
from bot.slack.listeners.replies import (
    Body,
    from_home,
    open_view,
    pressed,
    runtime_of,
    workspace_defaults,
)
from bot.slack.ui import ids
from bot.slack.ui.ending import confirm_done_view, ended_message, message_view, note_message
from bot.slack.ui.form import read_metadata
from bot.slack.ui.modals import done_view
from bot.slack.ui.reminders import acted_message
from bot.slack.ui.text import row_label, slack_day

log = logging.getLogger(__name__)

DONE_WHY = "You marked the job done."
NOT_DONE = ("getkey could not do that just now, so the key is still stored. Please try again; "
            "`/getkey list` shows what is stored.")
SLOW = ("getkey is finishing it: the steps to revoke the key on the platform come in a "
        "direct message in a moment.")


async def handle_done(ack: AsyncAck, body: Body, client: AsyncWebClient, respond: AsyncRespond,
                      context: AsyncBoltContext) -> None:
    p = await pressed(ack, body, client, respond, context)
    actor = p.actor
    outcome = await p.act(lambda: p.rt.handback.done(p.value, actor), refusal, what="done")
    if outcome is None:
        return
    assert isinstance(outcome, Done)
    contact = (await workspace_defaults(p.rt, actor)).support_contact
    message = ended_message(outcome.info, why=DONE_WHY, steps=True, contact=contact)
    if from_home(p.body):
        await refresh_if_home(p.rt, p.client, p.body)
        await _tell(p.rt, actor, message)
    else:
        await p.replace(**message)


async def start_done(rt: Runtime, body: dict[str, Any], argument: str, respond: AsyncRespond,
                     client: AsyncWebClient) -> None:
    """`/getkey done [n]`: the confirmation for key n (or the only key), else the list."""
    info = await numbered_key(rt, body, argument, respond, word="done", button="Done with it",
                              nothing="You have no stored keys, so none to mark done.")
    if info is not None:
        await client.views_open(trigger_id=body["trigger_id"],
                                view=confirm_done_view(info.id, row_label(info), channel_of(body)))


async def handle_list_done(ack: AsyncAck, body: Body, action: dict[str, Any],
                           client: AsyncWebClient) -> None:
    await ack()
    row = list_button(action)
    if row is not None:
        await open_view(client, body, confirm_done_view(*row, channel_of(body)))


# What the hand-back did, and the workspace's support contact to show beside it.
Finished = tuple[ActionOutcome, str | None]


async def _finish(rt: Runtime, credential_id: str, actor: Actor) -> Finished:
    outcome = await rt.handback.done(credential_id, actor)
    if not isinstance(outcome, Done):
        return outcome, None
    return outcome, (await workspace_defaults(rt, actor)).support_contact


def _outcome(work: asyncio.Future[Finished]) -> tuple[str, dict[str, Any]]:
    """(a title, the message: text and blocks) saying how the hand-back went."""
    failed = work.exception()
    if failed is not None:
        log.error("done failed", extra={"error": type(failed).__name__})
        return "Not done", note_message(NOT_DONE)
    outcome, contact = work.result()
    if not isinstance(outcome, Done):
        # Someone else's key looks exactly like a missing one: nothing to learn from ids.
        return "Nothing to do", note_message("That key is no longer stored.")
    return "Key done", ended_message(outcome.info, why=DONE_WHY, steps=True, contact=contact)


async def handle_done_confirmed(ack: AsyncAck, body: Body, view: dict[str, Any],
                                context: AsyncBoltContext) -> None:
    """The modal shows the outcome when the hand-back is done within ACK_BUDGET; else it says
    the steps follow, and they come as a DM once it is (nothing is cut off half-way)."""
    rt = runtime_of(context)
    actor = actor_of(body)
    credential_id = str(read_metadata(view.get("private_metadata")).get("credential") or "")
    work = asyncio.ensure_future(_finish(rt, credential_id, actor))
    finished, _ = await asyncio.wait({work}, timeout=ACK_BUDGET)
    if finished:
        await ack(response_action="update", view=message_view(*_outcome(work)))
        return
    await ack(response_action="update", view=done_view("Finishing", SLOW, close="OK"))
    await asyncio.wait({work})
    await _tell(rt, actor, _outcome(work)[1])


async def _tell(rt: Runtime, actor: Actor, message: dict[str, Any]) -> None:
    """A DM to the presser about what Done did."""
    try:
        await rt.messenger.send(actor.team_id, actor.user_id, message)
    except Exception as exc:  # the outcome stands either way; /getkey list shows it
        log.warning("done not told", extra={"error": type(exc).__name__})


async def handle_extend(ack: AsyncAck, body: Body, client: AsyncWebClient,
                        respond: AsyncRespond, context: AsyncBoltContext) -> None:
    p = await pressed(ack, body, client, respond, context)
    action = (body.get("actions") or [{}])[0]
    credential_id = str(action.get("block_id") or "").removeprefix(ids.END_BLOCK + ".")
    day = str(action.get("selected_date") or "")
    actor = p.actor
    ending = Ending(p.rt.credentials)
    try:
        end_of(day or None, p.rt.credentials.now().date())
    except EndDateError as exc:
        await p.tell(str(exc))  # a past date: nothing changes
        return
    outcome = await p.act(
        lambda: p.rt.workers.quick(ending.extend, credential_id, actor, day), refusal,
        what="extend",
    )  # fmt: skip
    if outcome is None:
        return
    assert isinstance(outcome, Done)
    until = outcome.info.needed_until
    note = (f"Kept until {slack_day(until)}: getkey asks again three days before."
            if until else "Kept.")
    await p.replace(**acted_message(outcome.info, note))


def register(app: AsyncApp, rt: Runtime) -> None:
    app.action(ids.END_DONE)(handle_done)
    app.action(ids.END_EXTEND)(handle_extend)
    app.action(ids.LIST_DONE)(handle_list_done)
    app.view(ids.CONFIRM_DONE_VIEW)(handle_done_confirmed)
