"""A platform's guide and its form: `/getkey <platform or alias>` (answered in the ack), the
platform picker, the "did you mean" buttons, and the button that opens the credential form.

Only the platforms the workspace offers are shown (bot.slack.listeners.replies
.workspace_defaults). The form button calls views.open right after the ack, before any other
work that could wait: a trigger_id is single-use and expires after 3 seconds.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.credentials import not_offered
from bot.slack.listeners import actor_of, channel_of
from bot.slack.listeners.replies import Body, open_view, runtime_of, workspace_defaults
from bot.slack.ui import ids, messages
from bot.slack.ui.contact import help_context
from bot.slack.ui.form import form_view, metadata
from bot.slack.ui.text import MESSAGE_BLOCKS
from flows import catalog
from flows.base import Flow

NO_LONGER = "That platform is no longer supported. Type `/getkey help` for the list."


async def offered_in(rt: Runtime, body: dict[str, Any]) -> tuple[str, ...] | None:
    """The platforms the sender's workspace offers (None: all, or not read in time)."""
    return (await workspace_defaults(rt, actor_of(body))).platforms


async def offered_and_contact(
    rt: Runtime, body: dict[str, Any]
) -> tuple[tuple[str, ...] | None, str | None]:
    """The platforms the sender's workspace offers, and its support contact (None: none)."""
    defaults = await workspace_defaults(rt, actor_of(body))
    return defaults.platforms, defaults.support_contact


def guide_blocks(flow: Flow, contact: str | None) -> list[dict[str, Any]]:
    """The platform's guide, ending with whom to ask for help when the workspace named one."""
    extra = help_context(contact)
    return messages.guide_blocks(flow)[:MESSAGE_BLOCKS - len(extra)] + extra


@lru_cache(maxsize=1024)
def guide_message(flow: Flow, contact: str | None) -> str:
    """The whole ephemeral guide as JSON, serialized once per platform and support contact:
    `/getkey <platform>` is the busiest answer getkey gives."""
    return json.dumps({"response_type": "ephemeral", "text": messages.guide_text(flow),
                       "blocks": guide_blocks(flow, contact)})  # fmt: skip


async def answer_platform(ack: AsyncAck, name: str, offered: tuple[str, ...] | None = None,
                          contact: str | None = None) -> None:
    flow = catalog.get(name)
    if flow is not None and offered is not None and flow.id not in offered:
        await ack(response_type="ephemeral", text=not_offered(flow))
        return
    if flow is not None:
        # Bolt sends an ack of text alone as the response body as it is, labelled JSON when
        # it starts with "{": the guide goes out already serialized.
        await ack(guide_message(flow, contact))
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


async def show_guide(
    flow_id: str, respond: AsyncRespond, offered: tuple[str, ...] | None = None,
    contact: str | None = None,
) -> None:
    flow = catalog.get(flow_id)
    if flow is None or (offered is not None and flow.id not in offered):
        text = NO_LONGER if flow is None else not_offered(flow)
        await respond(response_type="ephemeral", replace_original=False, text=text)
        return
    await respond(
        response_type="ephemeral",
        replace_original=True,
        text=messages.guide_text(flow),
        blocks=guide_blocks(flow, contact),
    )


async def handle_show_guide(ack: AsyncAck, body: Body, action: dict[str, Any],
                            respond: AsyncRespond, context: AsyncBoltContext) -> None:
    """The platform picker and the "did you mean" buttons: the chosen platform's guide."""
    await ack()
    chosen = (action.get("selected_option") or {}).get("value") or action.get("value") or ""
    await show_guide(chosen, respond, *await offered_and_contact(runtime_of(context), body))


async def handle_open_form(ack: AsyncAck, body: Body, action: dict[str, Any],
                           client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    flow = catalog.get(action.get("value") or "")
    if flow is None:
        return
    rt = runtime_of(context)
    defaults = await workspace_defaults(rt, actor_of(body))
    if not defaults.offers(flow.id):
        return  # the guide that carried this button was shown before the admins' choice
    view = form_view(
        flow,
        private_metadata=metadata(flow.id, channel=channel_of(body)),
        default_rotation_days=rt.credentials.rotation_days_for(flow, defaults.rotation_days),
        purpose=defaults.purpose,  # the form starts on the workspace's default purpose
    )
    await open_view(client, body, view)


def register(app: AsyncApp, rt: Runtime) -> None:
    app.action(ids.PICK_PLATFORM)(handle_show_guide)
    app.action(re.compile("^" + re.escape(ids.SHOW_GUIDE) + r"(\..+)?$"))(handle_show_guide)
    app.action(ids.OPEN_FORM)(handle_open_form)
