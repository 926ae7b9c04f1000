"""Modal submissions: the credential form and the delete confirmation.

The form's journey: format errors go back inline in the ack (no I/O, instant); a well-formed
submission is acked with a "Verifying…" view, then the credential service verifies and stores it
in the slow-work pool, and the modal is updated with the outcome. The ack never waits for that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.credentials import Actor, Done, NotSaved, Rejected, Stored
from bot.slack.listeners import actor_of
from bot.slack.ui import ids, modals
from bot.slack.ui.form import form_view, read_auto_renew, read_metadata, read_rotation
from bot.store.admin import Defaults
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
# Work done before an ack must finish well inside Slack's 3 s.
ACK_BUDGET = 2.0


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


async def finish(
    rt: Runtime,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    *,
    flow: Flow,
    values: dict[str, str],
    view: Mapping[str, Any],
    actor: Actor,
    rotation_days: int | None,
    auto_renew: bool,
    workspace_days: int | None = None,
) -> None:
    """After the ack: verify and store through the service, then show the outcome."""
    view_id = str(view.get("id"))
    metadata = str(view.get("private_metadata") or "")
    rotating_id = str(read_metadata(metadata).get("credential") or "") or None
    request_id = str(read_metadata(metadata).get("request") or "")
    try:
        if request_id:  # typed in for someone who asked (bot.services.requests): stored for them
            from bot.slack.listeners.requests import submit_for_requester

            outcome = await submit_for_requester(
                rt, client, request_id, flow, values, actor, view, rotation_days
            )
        else:
            outcome = await rt.workers.slow(
                flow.id,
                rt.credentials.submit,
                flow,
                values,
                actor=actor,
                view_id=view_id,
                view_hash=str(view.get("hash") or ""),
                rotating_id=rotating_id,
                rotation_days=rotation_days,
                auto_renew=auto_renew,
            )
    except Exception as exc:
        # The database failed before the platform was asked: nothing stored, say so.
        log.error("submission failed", extra={"platform": flow.id, "error": type(exc).__name__})
        outcome = None
    if outcome is None:
        result_view = modals.done_view(
            "Not checked",
            "getkey could not start the check just now (its database did not answer), so "
            "nothing was stored. Please submit the key again in a minute.",
        )
    elif isinstance(outcome, Rejected):
        public = {f.key: values.get(f.key, "") for f in flow.public_fields}
        result_view = form_view(
            flow,
            private_metadata=metadata,
            values=public,
            problem=outcome.result,
            default_rotation_days=rt.credentials.rotation_days_for(flow, workspace_days),
            rotation_days=rotation_days,
            auto_renew=auto_renew,
        )
    elif isinstance(outcome, NotSaved):
        result_view = modals.save_failed_view(flow)
    else:
        result_view = modals.result_view(
            flow, outcome.info, outcome.result, replaced=outcome.replaced, rotating=outcome.rotating
        )
    await ack_delivered(context)
    await update(client, view_id, result_view)
    if isinstance(outcome, Stored) and not outcome.duplicate:
        # The confirmation DM was written to the outbox with the credential; send it now.
        rt.outbox.kick()
    log.info(
        "submission finished",
        extra={
            "platform": flow.id,
            "stored": isinstance(outcome, Stored),
            "duplicate": isinstance(outcome, Stored) and outcome.duplicate,
        },
    )


def register(app: AsyncApp, rt: Runtime) -> None:
    @app.view(ids.FORM_VIEW)
    async def submitted(
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        meta = read_metadata(view.get("private_metadata"))
        flow = catalog.get(str(meta.get("flow") or ""))
        if flow is None:
            await ack(
                response_action="update",
                view=modals.done_view(
                    "Form expired", "This platform is no longer supported. Type `/getkey help`."
                ),
            )
            return
        actor = actor_of(body)
        try:
            defaults = await asyncio.wait_for(
                rt.admins.defaults(actor.team_id, actor.enterprise_id), ACK_BUDGET
            )
        except Exception as exc:
            log.warning("workspace defaults unread", extra={"error": type(exc).__name__})
            defaults = Defaults()
        if not defaults.offers(flow.id):
            await ack(
                response_action="update",
                view=modals.done_view(
                    "Not offered",
                    f"{flow.name} is not offered in this workspace any more (its getkey admins "
                    "chose the platforms it offers). Nothing was stored.",
                ),
            )
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
        await ack(
            response_action="update",
            view=modals.verifying_view(
                flow, str(view.get("private_metadata") or ""), queued=rt.workers.busy(flow.id)
            ),
        )
        await finish(
            rt,
            client,
            context,
            flow=flow,
            values=checked.values,
            view=view,
            actor=actor,
            rotation_days=read_rotation(state),
            workspace_days=defaults.rotation_days,
            auto_renew=read_auto_renew(state),
        )

    @app.view(ids.CONFIRM_DELETE_VIEW)
    async def confirmed(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = read_metadata(view.get("private_metadata"))
        credential_id = str(meta.get("credential") or "")
        try:
            # Answered inside the ack (the modal closes with the outcome), so bounded: a database
            # that does not answer gets a message, not Slack's timeout error.
            outcome = await asyncio.wait_for(
                rt.workers.quick(rt.credentials.delete, credential_id, actor_of(body)),
                ACK_BUDGET,
            )
        except Exception as exc:
            log.error("delete failed", extra={"error": type(exc).__name__})
            await ack(
                response_action="update",
                view=modals.done_view(
                    "Not deleted",
                    "getkey could not delete it just now. Please try again; `/getkey list` "
                    "shows what is stored.",
                ),
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
