"""The credential form's submission.

The form's journey: format errors go back inline in the ack (no I/O, instant); a well-formed
submission is acked with a "Verifying…" view, then the credential service verifies and stores it
in the slow-work pool, and the modal is updated with the outcome. The ack never waits for that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.credentials import (
    READ_ONLY,
    Actor,
    Intent,
    NotSaved,
    Rejected,
    Stored,
    SubmitOutcome,
)
from bot.services.requests import Refused
from bot.slack.listeners import actor_of
from bot.slack.listeners.replies import Body, runtime_of, workspace_defaults
from bot.slack.listeners.requests import submit_for_requester
from bot.slack.ui import ids, modals
from bot.slack.ui.form import form_view, read_auto_renew, read_metadata, read_rotation
from bot.slack.ui.intent import fixed_from_meta, read_intent
from flows import catalog
from flows.base import Flow

log = logging.getLogger(__name__)

# The "Verifying…" ack travels back to Slack as the HTTP response while this listener goes on;
# a views.update that overtakes it would be overwritten by it, leaving the person looking at
# "Verifying…" for good. Over HTTP the server sets this event once the ack is written;
# elsewhere (Socket Mode) a short head start stands in.
ACK_DELIVERED = "getkey_ack_delivered"
ACK_HEAD_START = 0.3
ACK_WAIT_LIMIT = 3.0
ACK_FLUSH_MARGIN = 0.05


def read_values(flow: Flow, state: Mapping[str, Any]) -> dict[str, str | None]:
    """The raw text of each field from view.state.values (text input or select)."""
    raw: dict[str, str | None] = {}
    for f in flow.fields:
        element = (state.get(ids.field_block(f.key)) or {}).get(ids.FIELD_VALUE) or {}
        if element.get("type") == "static_select":
            raw[f.key] = (element.get("selected_option") or {}).get("value")
        else:
            raw[f.key] = element.get("value")
    return raw


async def ack_delivered(context: AsyncBoltContext) -> None:
    event = context.get(ACK_DELIVERED)
    if isinstance(event, asyncio.Event):
        try:
            await asyncio.wait_for(event.wait(), ACK_WAIT_LIMIT)
            await asyncio.sleep(ACK_FLUSH_MARGIN)
        except TimeoutError:
            pass
        return
    await asyncio.sleep(ACK_HEAD_START)


async def update(client: AsyncWebClient, view_id: str, view: dict[str, Any]) -> None:
    for attempt in (1, 2):
        try:
            await client.views_update(view_id=view_id, view=view)
            return
        except SlackApiError as exc:
            # Usually the person closed the modal; the DM still carries a success.
            log.info("views.update failed", extra={"error": exc.response.get("error")})
            return
        except (aiohttp.ClientError, TimeoutError) as exc:
            # A busy Slack (or network) timed out: once more, or the person would be left
            # looking at "Checking…".
            log.warning(
                "views.update did not go through",
                extra={"error": type(exc).__name__, "attempt": attempt},
            )


@dataclass(frozen=True)
class Submission:
    """A well-formed form submission, acked with "Verifying…"."""

    flow: Flow
    values: dict[str, str]  # checked and cleaned (flow.check)
    view: Mapping[str, Any]
    actor: Actor
    rotation_days: int | None  # the period picked in the form
    auto_renew: bool
    workspace_days: int | None = None  # the workspace admins' default period
    intent: Intent = READ_ONLY  # what the key is for and until when
    contact: str | None = None  # the workspace's support contact, named after a failure


async def _submit(
    rt: Runtime, client: AsyncWebClient, sub: Submission
) -> SubmitOutcome | Refused | None:
    """Verify and store through the service (for a requester when the form came from a
    request); None when the database failed before the platform was asked."""
    view, flow = sub.view, sub.flow
    meta = read_metadata(str(view.get("private_metadata") or ""))
    request_id = str(meta.get("request") or "")
    try:
        if request_id:  # typed in for someone who asked (bot.services.requests): stored for them
            return await submit_for_requester(
                rt, client, request_id, flow, sub.values, sub.actor, view, sub.rotation_days,
                sub.intent,
            )
        return await rt.workers.slow(
            flow.id, rt.credentials.submit, flow, sub.values, actor=sub.actor,
            view_id=str(view.get("id")), view_hash=str(view.get("hash") or ""),
            rotating_id=str(meta.get("credential") or "") or None,
            rotation_days=sub.rotation_days, auto_renew=sub.auto_renew,
            purpose=sub.intent.purpose, needed_until=sub.intent.needed_until,
        )  # fmt: skip
    except Exception as exc:
        # The database failed before the platform was asked: nothing stored, say so.
        log.error("submission failed", extra={"platform": flow.id, "error": type(exc).__name__})
        return None


def _result_view(
    rt: Runtime, outcome: SubmitOutcome | Refused | None, sub: Submission
) -> dict[str, Any]:
    if isinstance(outcome, Refused):  # the request closed (or its end date passed) meanwhile
        return modals.done_view("Not stored", outcome.reason)
    if outcome is None:
        return modals.done_view(
            "Not checked",
            "getkey could not start the check just now (its database did not answer), so "
            "nothing was stored. Please submit the key again in a minute.",
        )
    if isinstance(outcome, Rejected):
        return form_view(
            sub.flow,
            private_metadata=str(sub.view.get("private_metadata") or ""),
            values={f.key: sub.values.get(f.key, "") for f in sub.flow.public_fields},
            problem=outcome.result,
            default_rotation_days=rt.credentials.rotation_days_for(sub.flow, sub.workspace_days),
            rotation_days=sub.rotation_days,
            auto_renew=sub.auto_renew,
            purpose=str(sub.intent.purpose),
            fixed=fixed_from_meta(read_metadata(str(sub.view.get("private_metadata") or ""))),
            contact=sub.contact,
        )
    if isinstance(outcome, NotSaved):
        return modals.save_failed_view(sub.flow, sub.contact)
    return modals.result_view(
        sub.flow, outcome.info, outcome.result, replaced=outcome.replaced, rotating=outcome.rotating
    )


async def finish(
    rt: Runtime, client: AsyncWebClient, context: AsyncBoltContext, sub: Submission
) -> None:
    """After the ack: verify and store through the service, then show the outcome."""
    outcome = await _submit(rt, client, sub)
    await ack_delivered(context)
    await update(client, str(sub.view.get("id")), _result_view(rt, outcome, sub))
    if isinstance(outcome, Stored) and not outcome.duplicate:
        # The confirmation DM was written to the outbox with the credential; send it now.
        rt.outbox.kick()
    log.info(
        "submission finished",
        extra={
            "platform": sub.flow.id,
            "stored": isinstance(outcome, Stored),
            "duplicate": isinstance(outcome, Stored) and outcome.duplicate,
        },
    )


def _not_offered(flow: Flow) -> dict[str, Any]:
    return modals.done_view(
        "Not offered",
        f"{flow.name} is not offered in this workspace any more (its getkey admins "
        "chose the platforms it offers). Nothing was stored.",
    )


async def handle_form_submitted(ack: AsyncAck, body: Body, view: dict[str, Any],
                                client: AsyncWebClient, context: AsyncBoltContext) -> None:
    rt = runtime_of(context)
    flow = catalog.get(str(read_metadata(view.get("private_metadata")).get("flow") or ""))
    if flow is None:
        expired = "This platform is no longer supported. Type `/getkey help`."
        await ack(response_action="update", view=modals.done_view("Form expired", expired))
        return
    actor = actor_of(body)
    defaults = await workspace_defaults(rt, actor)
    if not defaults.offers(flow.id):
        await ack(response_action="update", view=_not_offered(flow))
        return
    state = (view.get("state") or {}).get("values") or {}
    checked = flow.check(read_values(flow, state))
    if not checked.ok:
        keys = {f.key for f in flow.fields}
        errors = {
            ids.field_block(k if k in keys else flow.fields[0].key): msg
            for k, msg in checked.errors.items()
        }
        await ack(response_action="errors", errors=errors)
        return
    intent = read_intent(state, rt.credentials.now().date())
    if isinstance(intent, str):
        await ack(response_action="errors", errors={ids.NEEDED_UNTIL_BLOCK: intent})
        return
    metadata = str(view.get("private_metadata") or "")
    queued = rt.workers.busy(flow.id)
    await ack(response_action="update", view=modals.verifying_view(flow, metadata, queued=queued))
    await finish(rt, client, context, Submission(
        flow, checked.values, view, actor, rotation_days=read_rotation(state),
        auto_renew=read_auto_renew(state), workspace_days=defaults.rotation_days, intent=intent,
        contact=defaults.support_contact,
    ))  # fmt: skip


def register(app: AsyncApp, rt: Runtime) -> None:
    app.view(ids.FORM_VIEW)(handle_form_submitted)
