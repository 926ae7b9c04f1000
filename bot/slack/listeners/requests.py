"""Asking someone else for a key: `/getkey request @person <platform> [note]`, the "Ask for a
key" modal (message shortcut, App Home button), the provider's button that opens the form, the
submission stored for the requester (bot.services.requests), and the request buttons: Cancel / Send
again (requester), Withdraw (provider), Ask for a new one (on a provided key's reminders).

Slack sends a mention in command text as `<@U123|name>` (or `<@U123>`): only the id is read.
The provider's workspace comes from users.info, never from the text. What the requester is
told about each step (opened, failed, verified, withdrawn, expired) goes through the durable
outbox, written with the step; the listeners only kick the sender.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.credentials import Actor, Intent, Rejected, Stored, SubmitOutcome
from bot.services.requests import Draft, Opened, Refused, fixed_of
from bot.slack.listeners import actor_of, channel_of
from bot.slack.listeners.home import refresh_home, refresh_if_home
from bot.slack.listeners.links import ask_across, link_from_modal, start_link_request
from bot.slack.listeners.replies import (
    Body,
    Press,
    open_view,
    pressed,
    runtime_of,
    workspace_defaults,
)
from bot.slack.messenger import Undeliverable
from bot.slack.ui import ids
from bot.slack.ui.form import form_view, read_metadata
from bot.slack.ui.intent import fixed_meta, intent_from_words, read_intent
from bot.slack.ui.requests import (
    ask_view,
    asked_message,
    provider_message,
    read_ask,
    read_ask_link,
)
from flows.base import Flow, Purpose

log = logging.getLogger(__name__)

OPEN_REQUEST_FORM = ids.OPEN_REQUEST_FORM  # kept importable from here (tests, old callers)
MENTION = re.compile(r"<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>")
USAGE = (
    "Usage: `/getkey request @person <platform> [a short note]`, "
    "e.g. `/getkey request @ana wix for the migration`. For someone outside this Slack: "
    "`/getkey request link <platform> [a short note]`. To fix what the key is for and until "
    "when, start the note with `for:write` (or `for:read`) and `until:YYYY-MM-DD`."
)
NO_WAY = (
    "getkey could not reach {who}: no direct message is possible and there is no channel to "
    "show it in. Ask them from a channel you share, or cancel the request."
)


def parse(text: str) -> tuple[str, str, str] | None:
    """(provider id, platform, note) from the words after `request`."""
    found = MENTION.match(text.strip())
    if found is None:
        return None
    rest = text.strip()[found.end():].split(maxsplit=1)
    if not rest:
        return None
    return found.group(1), rest[0].lower(), rest[1] if len(rest) > 1 else ""


async def team_of(client: AsyncWebClient, user_id: str) -> str:
    """The workspace Slack says this person belongs to ('' if Slack does not say)."""
    try:
        # POST (Slack accepts it for every method): the same path as every other call we make.
        found = await client.api_call("users.info", params={"user": user_id})
        return str((found.get("user") or {}).get("team_id") or "")
    except SlackApiError as exc:
        log.info("users.info failed", extra={"error": exc.response.get("error")})
        return ""


async def deliver(
    rt: Runtime, client: AsyncWebClient, opened: Opened, channel_id: str | None
) -> str | None:
    """Send the provider their message: by DM, or when a DM is impossible (a guest who cannot
    be messaged) as an ephemeral message in the channel. Returns where, None if nowhere."""
    info = opened.request
    defaults = await rt.admins.defaults_within(info.team_id, info.enterprise_id)
    message = provider_message(info, opened.flow, contact=defaults.support_contact)
    try:
        await rt.messenger.send(info.team_id, info.provider_id, message)
        return "by direct message"
    except Undeliverable as exc:
        log.info("no DM to the provider", extra={"error": exc.error, "request": info.id})
    if not channel_id:
        return None
    try:
        await client.chat_postEphemeral(channel=channel_id, user=info.provider_id, **message)
        return "in the channel (only they can see it)"
    except SlackApiError as exc:
        log.info("no ephemeral either", extra={"error": exc.response.get("error")})
        return None


async def ask(
    rt: Runtime,
    client: AsyncWebClient,
    actor: Actor,
    *,
    provider_id: str,
    platform: str,
    note: str,
    channel_id: str | None,
    intent: Intent | None = None,
) -> dict[str, Any]:
    """Open a request and deliver it; returns what to show the requester. `intent`: the
    purpose and end date it fixes (None: the workspace's default purpose, no end date)."""
    if intent is None:
        intent = Intent(Purpose.parse((await workspace_defaults(rt, actor)).purpose, Purpose.READ))
    provider_team = await team_of(client, provider_id)
    if provider_team and provider_team != actor.team_id:
        return await ask_across(rt, client, actor, provider_id=provider_id, platform=platform,
                                note=note, channel_id=channel_id, deliver=deliver, intent=intent)
    outcome = await rt.workers.quick(
        rt.requests.request, actor, provider_id=provider_id, provider_team=provider_team,
        platform=platform, note=note, channel_id=channel_id, intent=intent,
    )  # fmt: skip
    if isinstance(outcome, Refused):
        return {"text": outcome.reason}
    return await send_and_say(rt, client, outcome, channel_id)


async def send_and_say(
    rt: Runtime, client: AsyncWebClient, opened: Opened, channel_id: str | None
) -> dict[str, Any]:
    where = await deliver(rt, client, opened, channel_id or opened.request.channel_id)
    if where is None:
        return {"text": NO_WAY.format(who=f"<@{opened.request.provider_id}>")}
    return asked_message(opened.request, opened.flow, where)


async def start_request(
    rt: Runtime, body: dict[str, Any], text: str, respond: AsyncRespond, client: AsyncWebClient
) -> None:
    if text.split(maxsplit=1)[:1] == ["link"]:
        await start_link_request(rt, body, text.strip()[len("link"):], respond, client)
        return
    parsed = parse(text)
    if parsed is None:
        await respond(response_type="ephemeral", text=USAGE)
        return
    provider_id, platform, note = parsed
    fixed = await intent_of(rt, actor_of(body), note)
    if isinstance(fixed, str):
        await respond(response_type="ephemeral", text=f"{fixed} Nothing was asked.")
        return
    said = await ask(
        rt, client, actor_of(body), provider_id=provider_id, platform=platform, note=fixed[1],
        channel_id=channel_of(body), intent=fixed[0],
    )  # fmt: skip
    await respond(response_type="ephemeral", **said)


async def submit_for_requester(
    rt: Runtime,
    client: AsyncWebClient,
    request_id: str,
    flow: Flow,
    values: dict[str, str],
    provider: Actor,
    view: Mapping[str, Any],
    rotation_days: int | None,
    intent: Intent | None = None,
) -> SubmitOutcome | Refused:
    """`intent`: the provider's choice, used only when the request fixed none (an old one)."""
    outcome = await rt.workers.slow(
        flow.id, rt.requests.submit, request_id, flow, values, provider=provider,
        view_id=str(view.get("id")), view_hash=str(view.get("hash") or ""),
        rotation_days=rotation_days, intent=intent,
    )  # fmt: skip
    if isinstance(outcome, Refused):
        return outcome
    if isinstance(outcome, Rejected | Stored):
        # The request moved (failed / fulfilled) and wrote what each side is owed.
        rt.outbox.kick()
    if isinstance(outcome, Stored):
        log.info("request fulfilled", extra={"request": request_id, "platform": flow.id})
    return outcome


async def intent_of(rt: Runtime, actor: Actor, note: str) -> tuple[Intent, str] | str:
    """What a command's request fixes (its leading `for:`/`until:` words, else the workspace's
    default purpose) and the rest of its note; or why its date is refused."""
    default = (await workspace_defaults(rt, actor)).purpose
    return intent_from_words(note, rt.credentials.now().date(), default)


def _refusal(outcome: object) -> str | None:
    return outcome.reason if isinstance(outcome, Refused) else None


async def _answer(p: Press, use_case: Callable[..., Any]) -> Any:
    """A request button: the request service's `use_case` for the presser, who is told when it
    refused. Returns what it did, None if it did not."""
    actor = p.actor
    return await p.act(
        lambda: p.rt.workers.quick(use_case, p.value, actor), _refusal, what="request button"
    )


async def handle_open_request_form(ack: AsyncAck, body: Body, action: dict[str, Any],
                                   client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    rt, actor = runtime_of(context), actor_of(body)
    found = await rt.workers.quick(rt.requests.for_provider, str(action.get("value")), actor)
    if isinstance(found, Refused):
        try:
            await rt.messenger.send(actor.team_id, actor.user_id, {"text": found.reason})
        except Exception as exc:
            log.info("presser not told", extra={"error": type(exc).__name__})
        return
    fixed = fixed_of(found.request)
    meta = json.dumps({"flow": found.flow.id, "credential": None, "channel": None,
                       "request": found.request.id, "fixed": fixed_meta(fixed)})
    rt.outbox.kick()  # "they opened the form", written with the move to 'opened'
    defaults = await workspace_defaults(rt, actor)
    days = rt.credentials.rotation_days_for(found.flow, defaults.rotation_days)
    await open_view(client, body, form_view(
        found.flow, private_metadata=meta, default_rotation_days=days, purpose=defaults.purpose,
        fixed=fixed,
    ))  # fmt: skip


async def handle_cancel(ack: AsyncAck, body: Body, client: AsyncWebClient, respond: AsyncRespond,
                        context: AsyncBoltContext) -> None:
    p = await pressed(ack, body, client, respond, context)
    if (done := await _answer(p, p.rt.requests.cancel)) is None:
        return
    p.rt.outbox.kick()  # the provider hears there is nothing to do
    await p.replace(text=f"Request to <@{done.provider_id}> cancelled: they were told.")
    await refresh_if_home(p.rt, client, body)


async def handle_resend(ack: AsyncAck, body: Body, client: AsyncWebClient, respond: AsyncRespond,
                        context: AsyncBoltContext) -> None:
    p = await pressed(ack, body, client, respond, context)
    if (found := await _answer(p, p.rt.requests.resend)) is None:
        return
    said = await send_and_say(p.rt, client, found, channel_of(body))
    await p.tell("Sent again. " + said["text"])


async def handle_withdraw(ack: AsyncAck, body: Body, client: AsyncWebClient,
                          respond: AsyncRespond, context: AsyncBoltContext) -> None:
    # Slack asked "Withdraw this key?" (the button's confirm dialog) before sending this.
    p = await pressed(ack, body, client, respond, context)
    if (done := await _answer(p, p.rt.requests.withdraw)) is None:
        return
    p.rt.outbox.kick()  # the requester hears it was withdrawn
    await p.replace(text=(
        f"Withdrawn: getkey deleted the key you provided and told <@{done.user_id}>. The "
        "key itself still works on the platform until you revoke it there."
    ))  # fmt: skip
    await refresh_if_home(p.rt, client, body)


async def handle_ask_again(ack: AsyncAck, body: Body, client: AsyncWebClient,
                           respond: AsyncRespond, context: AsyncBoltContext) -> None:
    p = await pressed(ack, body, client, respond, context)
    if (found := await _answer(p, p.rt.requests.ask_again)) is None:
        return
    if isinstance(found, Draft):
        said = await ask(
            p.rt, client, p.actor, provider_id=found.provider_id, platform=found.platform,
            note=found.note, channel_id=channel_of(body) or found.channel_id, intent=found.intent,
        )  # fmt: skip
    else:
        said = await send_and_say(p.rt, client, found, channel_of(body))
    await p.tell(said["text"])
    await refresh_if_home(p.rt, client, body)


async def handle_home_ask(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                          context: AsyncBoltContext) -> None:
    await ack()
    purpose = (await workspace_defaults(runtime_of(context), actor_of(body))).purpose
    await open_view(client, body, ask_view(purpose=purpose))


async def handle_ask_shortcut(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                              context: AsyncBoltContext) -> None:
    await ack()
    # A message shortcut: whoever wrote the message is the likely person to ask.
    author = str((body.get("message") or {}).get("user") or "") or None
    purpose = (await workspace_defaults(runtime_of(context), actor_of(body))).purpose
    await open_view(client, body, ask_view(provider_id=author, channel_id=channel_of(body),
                                           purpose=purpose))


async def handle_ask_submitted(ack: AsyncAck, body: Body, view: dict[str, Any],
                               client: AsyncWebClient, context: AsyncBoltContext) -> None:
    state = (view.get("state") or {}).get("values") or {}
    provider_id, platform, note = read_ask(state)
    by_link = read_ask_link(state)
    if not platform or not (provider_id or by_link):
        errors = {ids.ASK_PLATFORM_BLOCK: "Please choose one."} if not platform else {
            ids.ASK_USER_BLOCK: "Choose a person, or tick Send a link instead."
        }
        await ack(response_action="errors", errors=errors)
        return
    rt, actor = runtime_of(context), actor_of(body)
    intent = read_intent(state, rt.credentials.now().date())
    if isinstance(intent, str):
        await ack(response_action="errors", errors={ids.NEEDED_UNTIL_BLOCK: intent})
        return
    await ack()
    channel = read_metadata(view.get("private_metadata")).get("channel")
    if by_link and not provider_id:
        await link_from_modal(rt, body, actor, platform, note, channel, intent)
        await refresh_home(rt, client, actor, level=logging.INFO)
        return
    said = await ask(
        rt, client, actor, provider_id=provider_id, platform=platform, note=note,
        channel_id=str(channel) if channel else None, intent=intent,
    )  # fmt: skip
    # A modal has no conversation to answer in: the requester hears it by DM.
    try:
        await rt.messenger.send(actor.team_id, actor.user_id, said)
    except Exception as exc:
        log.info("requester not told", extra={"error": type(exc).__name__})
    await refresh_home(rt, client, actor, level=logging.INFO)


def register(app: AsyncApp, rt: Runtime) -> None:
    app.action(ids.OPEN_REQUEST_FORM)(handle_open_request_form)
    app.action(ids.REQUEST_CANCEL)(handle_cancel)
    app.action(ids.REQUEST_RESEND)(handle_resend)
    app.action(ids.REQUEST_WITHDRAW)(handle_withdraw)
    app.action(ids.REQUEST_ASK_AGAIN)(handle_ask_again)
    app.action(ids.HOME_ASK)(handle_home_ask)
    app.shortcut(ids.ASK_SHORTCUT)(handle_ask_shortcut)
    app.view(ids.ASK_VIEW)(handle_ask_submitted)
