"""Buttons and selects in getkey's messages.

Handlers that open a modal call views.open right after ack, before any database or network
work: a trigger_id is single-use and expires after 3 seconds.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.listeners import channel_of
from bot.services import Services
from bot.ui import ids, messages
from bot.ui.form import form_view, metadata
from bot.ui.modals import confirm_delete_view
from flows import catalog
from flows.base import Flow

log = logging.getLogger(__name__)


def open_form(
    client: WebClient,
    trigger_id: str,
    flow: Flow,
    *,
    credential_id: str | None = None,
    channel: str | None = None,
    default_rotation_days: int | None = None,
) -> None:
    """Open the credential modal."""
    client.views_open(
        trigger_id=trigger_id,
        view=form_view(
            flow,
            private_metadata=metadata(flow.id, credential_id=credential_id, channel=channel),
            default_rotation_days=default_rotation_days,
        ),
    )


def show_guide(flow_id: str, respond: Respond) -> None:
    flow = catalog.get(flow_id)
    if flow is None:
        respond(response_type="ephemeral", replace_original=False,
                text="That platform is no longer supported. Type `/getkey help` for the list.")
        return
    respond(
        response_type="ephemeral",
        replace_original=True,
        text=messages.guide_text(flow),
        blocks=messages.guide_blocks(flow),
    )


def register(app: App, services: Services) -> None:
    @app.action(ids.PICK_PLATFORM)
    def picked(ack: Ack, action: dict[str, Any], respond: Respond) -> None:
        ack()
        show_guide(((action.get("selected_option") or {}).get("value")) or "", respond)

    @app.action(re.compile("^" + re.escape(ids.SHOW_GUIDE) + r"(\..+)?$"))
    def suggested(ack: Ack, action: dict[str, Any], respond: Respond) -> None:
        ack()
        show_guide(action.get("value") or "", respond)

    @app.action(ids.OPEN_FORM)
    def open_modal(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        flow = catalog.get(action.get("value") or "")
        if flow is None:
            return
        try:
            open_form(
                client,
                body["trigger_id"],
                flow,
                channel=channel_of(body),
                default_rotation_days=services.store.rotation_days_for(flow),
            )
        except SlackApiError as exc:
            log.warning("views.open failed", extra={"error": exc.response.get("error")})

    @app.action(ids.LIST_DELETE)
    def delete_pressed(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        try:
            data = json.loads(action.get("value") or "{}")
        except ValueError:
            return
        if not isinstance(data, dict) or not data.get("id"):
            return
        # The label travels in the button so the dialog opens without a database read;
        # ownership is checked when the deletion is confirmed.
        try:
            client.views_open(
                trigger_id=body["trigger_id"],
                view=confirm_delete_view(
                    str(data["id"]), str(data.get("label") or "this key"), channel_of(body)
                ),
            )
        except SlackApiError as exc:
            log.warning("views.open failed", extra={"error": exc.response.get("error")})
