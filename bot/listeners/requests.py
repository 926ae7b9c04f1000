"""Asking someone else for a key: `/getkey request @person <platform> [note]`, the provider's
button that opens the form, and the submission stored for the requester (bot.requests).

Slack sends a mention in command text as `<@U123|name>` (or `<@U123>`): only the id is read.
The provider's workspace comes from users.info, never from the text.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.credentials import Actor, Rejected, Stored, SubmitOutcome
from bot.listeners import actor_of, channel_of
from bot.messenger import Undeliverable
from bot.requests import Opened, Refused
from bot.runtime import Runtime
from bot.ui.form import form_view
from bot.ui.ids import OPEN_FORM
from bot.ui.messages import guide_blocks
from bot.ui.text import clip, escape
from flows.base import Flow

log = logging.getLogger(__name__)

OPEN_REQUEST_FORM = "getkey.open_request_form"  # value = request id
MENTION = re.compile(r"<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>")
USAGE = (
    "Usage: `/getkey request @person <platform> [a short note]`, "
    "e.g. `/getkey request @ana wix for the migration`."
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


def provider_message(opened: Opened) -> dict[str, Any]:
    info, flow = opened.request, opened.flow
    asks = f"<@{info.user_id}> asks you for a *{escape(flow.name)}* API key."
    if info.note:
        asks += f"\n>{escape(clip(info.note, 300))}"
    asks += "\nFollow the steps below, then press the button: the key is checked with "
    asks += f"{escape(flow.name)} and stored encrypted for <@{info.user_id}>, never shown in Slack."
    guide = [
        b for b in guide_blocks(flow)
        if not any(e.get("action_id") == OPEN_FORM for e in b.get("elements", []))
    ]  # fmt: skip
    button = {
        "type": "actions",
        "block_id": "getkey.request",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Paste the key"},
                "action_id": OPEN_REQUEST_FORM,
                "value": info.id,
                "style": "primary",
            }
        ],
    }
    intro = {"type": "section", "text": {"type": "mrkdwn", "text": asks}}
    return {"text": f"A {flow.name} key is asked of you", "blocks": [intro, *guide, button]}


async def start_request(
    rt: Runtime, body: dict[str, Any], text: str, respond: AsyncRespond, client: AsyncWebClient
) -> None:
    actor = actor_of(body)
    parsed = parse(text)
    if parsed is None:
        await respond(response_type="ephemeral", text=USAGE)
        return
    provider_id, platform, note = parsed
    try:
        # POST (Slack accepts it for every method): the same path as every other call we make.
        found = await client.api_call("users.info", params={"user": provider_id})
        provider_team = str((found.get("user") or {}).get("team_id") or "")
    except SlackApiError as exc:
        log.info("users.info failed", extra={"error": exc.response.get("error")})
        provider_team = ""
    outcome = await rt.workers.quick(
        rt.requests.request, actor, provider_id=provider_id, provider_team=provider_team,
        platform=platform, note=note, channel_id=channel_of(body),
    )  # fmt: skip
    if isinstance(outcome, Refused):
        await respond(response_type="ephemeral", text=outcome.reason)
        return
    message = provider_message(outcome)
    try:
        await rt.messenger.send(actor.team_id, provider_id, message)
        where = "by direct message"
    except Undeliverable:
        # No DM possible (e.g. a guest who cannot be messaged): show it in the channel, to them.
        await client.chat_postEphemeral(
            channel=str(channel_of(body)), user=provider_id, **message
        )
        where = "in this channel"
    await respond(
        response_type="ephemeral",
        text=(
            f"Asked <@{provider_id}> {where} for a {outcome.flow.name} key. You will be told "
            "when they open the form and when the key is verified; `/getkey list` shows the "
            "request."
        ),
    )


async def tell_requester(rt: Runtime, team_id: str, user_id: str, text: str) -> None:
    try:
        await rt.messenger.send(team_id, user_id, {"text": text})
    except Exception as exc:
        log.warning("requester not told", extra={"error": type(exc).__name__})


async def submit_for_requester(
    rt: Runtime,
    client: AsyncWebClient,
    request_id: str,
    flow: Flow,
    values: dict[str, str],
    provider: Actor,
    view: dict[str, Any],
    rotation_days: int | None,
) -> SubmitOutcome | None:
    outcome = await rt.workers.slow(
        flow.id, rt.requests.submit, request_id, flow, values, provider=provider,
        view_id=str(view.get("id")), view_hash=str(view.get("hash") or ""),
        rotation_days=rotation_days,
    )  # fmt: skip
    if isinstance(outcome, Refused):
        return None
    info = await rt.workers.quick(rt.store.get_request, request_id)
    if info is not None and isinstance(outcome, Rejected):
        cause = outcome.result.detail or "the platform did not accept it"
        await tell_requester(
            rt, info.team_id, info.user_id,
            f"<@{provider.user_id}> tried a {flow.name} key for you, but it failed: "
            f"{cause} They can try again from the same form.",
        )  # fmt: skip
    elif info is not None and isinstance(outcome, Stored):
        log.info("request fulfilled", extra={"request": request_id, "platform": flow.id})
    return outcome


def register(app: AsyncApp, rt: Runtime) -> None:
    @app.action(OPEN_REQUEST_FORM)
    async def open_request_form(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        actor = actor_of(body)
        found = await rt.workers.quick(rt.requests.for_provider, str(action.get("value")), actor)
        if isinstance(found, Refused):
            await tell_requester(rt, actor.team_id, actor.user_id, found.reason)
            return
        info = found.request
        meta = json.dumps(
            {"flow": found.flow.id, "credential": None, "channel": None, "request": info.id}
        )
        try:
            await client.views_open(
                trigger_id=body["trigger_id"],
                view=form_view(
                    found.flow,
                    private_metadata=meta,
                    default_rotation_days=rt.credentials.rotation_days_for(found.flow),
                ),
            )
        except SlackApiError as exc:
            log.warning("views.open failed", extra={"error": exc.response.get("error")})
            return
        await tell_requester(
            rt, info.team_id, info.user_id,
            f"<@{actor.user_id}> opened the form for the {found.flow.name} key you asked for.",
        )  # fmt: skip
