"""The end of a key's job, from Slack (issue 19): "Done with it" (getkey forgets the key and
shows that platform's revocation steps; a provider who is someone else gets them too) and the
"Keep it until…" date on the "still needed?" message. Only the key's owner can do either."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.credentials import Done
from bot.services.ending import EndDateError, Ending, end_of
from bot.slack.listeners.home import refresh_home
from bot.slack.listeners.reminders import refusal
from bot.slack.listeners.replies import Body, from_home, pressed, workspace_defaults
from bot.slack.ui import ids
from bot.slack.ui.ending import ended_message
from bot.slack.ui.reminders import acted_message
from bot.slack.ui.text import slack_day

DONE_WHY = "You marked the job done."


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
        await refresh_home(p.rt, p.client, actor)
        await p.rt.messenger.send(actor.team_id, actor.user_id, message)
    else:
        await p.replace(**message)


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
