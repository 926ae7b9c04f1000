"""Buttons and selects in getkey's messages.

Handlers that open a modal call views.open right after the ack, before any database or network
work: a trigger_id is single-use and expires after 3 seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.slack.listeners import actor_of, channel_of
from bot.slack.listeners.commands import OFFERED_BUDGET, not_offered_text, offered_in
from bot.slack.ui import ids, messages
from bot.slack.ui.form import form_view, metadata
from bot.slack.ui.modals import confirm_delete_view
from bot.store.admin import Defaults
from flows import catalog

log = logging.getLogger(__name__)


async def show_guide(
    flow_id: str, respond: AsyncRespond, offered: tuple[str, ...] | None = None
) -> None:
    flow = catalog.get(flow_id)
    if flow is not None and offered is not None and flow.id not in offered:
        await respond(
            response_type="ephemeral", replace_original=False, text=not_offered_text(flow)
        )
        return
    if flow is None:
        await respond(
            response_type="ephemeral",
            replace_original=False,
            text="That platform is no longer supported. Type `/getkey help` for the list.",
        )
        return
    await respond(
        response_type="ephemeral",
        replace_original=True,
        text=messages.guide_text(flow),
        blocks=messages.guide_blocks(flow),
    )


def register(app: AsyncApp, rt: Runtime) -> None:
    @app.action(ids.PICK_PLATFORM)
    async def picked(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        chosen = ((action.get("selected_option") or {}).get("value")) or ""
        await show_guide(chosen, respond, await offered_in(rt, body))

    @app.action(re.compile("^" + re.escape(ids.SHOW_GUIDE) + r"(\..+)?$"))
    async def suggested(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        await show_guide(action.get("value") or "", respond, await offered_in(rt, body))

    @app.action(ids.OPEN_FORM)
    async def open_modal(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        flow = catalog.get(action.get("value") or "")
        if flow is None:
            return
        actor = actor_of(body)
        try:
            # Cached (bot.services.admins): the trigger id expires 3 s after the click.
            defaults = await asyncio.wait_for(
                rt.admins.defaults(actor.team_id, actor.enterprise_id), OFFERED_BUDGET
            )
        except Exception as exc:
            log.warning("workspace defaults unread", extra={"error": type(exc).__name__})
            defaults = Defaults()
        if not defaults.offers(flow.id):
            return  # the guide that carried this button was shown before the admins' choice
        try:
            await client.views_open(
                trigger_id=body["trigger_id"],
                view=form_view(
                    flow,
                    private_metadata=metadata(flow.id, channel=channel_of(body)),
                    default_rotation_days=rt.credentials.rotation_days_for(
                        flow, defaults.rotation_days
                    ),
                ),
            )
        except SlackApiError as exc:
            log.warning("views.open failed", extra={"error": exc.response.get("error")})

    @app.action(ids.LIST_DELETE)
    async def delete_pressed(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        try:
            data = json.loads(action.get("value") or "{}")
        except ValueError:
            return
        if not isinstance(data, dict) or not data.get("id"):
            return
        # The label travels in the button so the dialog opens without a database read;
        # ownership is checked when the deletion is confirmed.
        try:
            await client.views_open(
                trigger_id=body["trigger_id"],
                view=confirm_delete_view(
                    str(data["id"]), str(data.get("label") or "this key"), channel_of(body)
                ),
            )
        except SlackApiError as exc:
            log.warning("views.open failed", extra={"error": exc.response.get("error")})
