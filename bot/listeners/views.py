"""Modal submissions: the credential form and the delete confirmation.

The form's journey: format errors go back inline in the ack (no I/O, instant); a well-formed
submission is acked with a "Verifying…" view, then — still in this listener, after the ack has
been sent — verified live, stored on success, and the modal updated with the result.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.listeners import user_and_team
from bot.services import Services
from bot.ui import ids, messages, modals
from bot.ui.form import form_view, read_metadata, read_rotation
from flows import catalog
from flows.base import Flow, VerifyResult

log = logging.getLogger(__name__)


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


def submission_key(view: Mapping[str, Any], user_id: str) -> str:
    """Same for a retried delivery of one submission, different for a new attempt in the same
    modal (each views.update changes the view's hash)."""
    seed = f"{view.get('id')}:{user_id}:{view.get('hash')}"
    return hashlib.sha256(seed.encode()).hexdigest()[:40]


# The "Verifying…" ack travels back to Slack as the HTTP response while this listener goes on;
# a views.update that overtakes it would be overwritten by it, leaving the person looking at
# "Verifying…" for good. Over HTTP the server tells us when the ack has been written
# (bot.server sets ACK_DELIVERED); elsewhere (Socket Mode) a short head start stands in.
ACK_DELIVERED = "getkey_ack_delivered"
ACK_HEAD_START = 0.3
ACK_WAIT_LIMIT = 3.0
# "Written" means handed to the server's output buffer; the socket send follows a moment later.
ACK_FLUSH_MARGIN = 0.05


class AckGate:
    """Holds the result back until Slack has the "Verifying…" ack."""

    def __init__(self, delivered: threading.Event | None) -> None:
        self.delivered = delivered
        self.acked_at = time.monotonic()

    def wait(self) -> None:
        if self.delivered is not None:
            if self.delivered.wait(ACK_WAIT_LIMIT):
                time.sleep(ACK_FLUSH_MARGIN)
            return
        wait = self.acked_at + ACK_HEAD_START - time.monotonic()
        if wait > 0:
            time.sleep(wait)


def _update(
    client: WebClient, view_id: str, view: dict[str, Any], gate: AckGate | None = None
) -> None:
    if gate is not None:
        gate.wait()
    try:
        client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        # Usually the person closed the modal; the DM still carries a success.
        log.info("views.update failed", extra={"error": exc.response.get("error")})


def send_dm(client: WebClient, user_id: str, text: str, dm_blocks: list[dict[str, Any]]) -> None:
    try:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.chat_postMessage(channel=channel, text=text, blocks=dm_blocks)
    except SlackApiError as exc:
        log.warning("dm failed", extra={"error": exc.response.get("error")})


def finish(
    services: Services,
    client: WebClient,
    *,
    flow: Flow,
    values: dict[str, str],
    view: Mapping[str, Any],
    team_id: str,
    user_id: str,
    gate: AckGate | None = None,
    rotation_days: int | None = None,
) -> None:
    """Verify, store, show the outcome. Runs after the ack."""
    started = time.perf_counter()
    result: VerifyResult = flow.run_verify(values, services.http)
    view_id = str(view.get("id"))
    metadata = str(view.get("private_metadata") or "")
    log.info(
        "verified",
        extra={
            "platform": flow.id,
            "ok": result.ok,
            "failure": str(result.failure) if result.failure else None,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    if not result.ok:
        public = {f.key: values.get(f.key, "") for f in flow.public_fields}
        _update(
            client,
            view_id,
            form_view(
                flow,
                private_metadata=metadata,
                values=public,
                problem=result,
                default_rotation_days=services.store.rotation_days_for(flow),
                rotation_days=rotation_days,
            ),
            gate,
        )
        log.info("submission finished", extra={"platform": flow.id, "stored": False})
        return
    try:
        saved = services.store.save(
            team_id=team_id,
            user_id=user_id,
            flow=flow,
            values=values,
            result=result,
            submission_key=submission_key(view, user_id),
            rotation_days=rotation_days,
        )
    except Exception as exc:
        log.error("store failed", extra={"platform": flow.id, "error": type(exc).__name__})
        _update(client, view_id, modals.save_failed_view(flow), gate)
        return
    info = saved.credential
    rotating_id = str(read_metadata(metadata).get("credential") or "")
    rotating = services.store.get(rotating_id) if rotating_id else None
    if rotating is not None and (rotating.team_id, rotating.user_id) != (team_id, user_id):
        rotating = None  # never describe someone else's key
    view = modals.result_view(flow, info, result, replaced=saved.replaced, rotating=rotating)
    _update(client, view_id, view, gate)
    if not saved.duplicate:  # a retried delivery: the first one already told the person
        send_dm(
            client,
            user_id,
            messages.dm_text(flow, info),
            messages.dm_blocks(flow, info, result, replaced=saved.replaced),
        )
    log.info(
        "submission finished",
        extra={"platform": flow.id, "stored": True, "duplicate": saved.duplicate},
    )


def register(app: App, services: Services) -> None:
    @app.view(ids.FORM_VIEW)
    def submitted(
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        team_id, user_id = user_and_team(body)
        meta = read_metadata(view.get("private_metadata"))
        flow = catalog.get(str(meta.get("flow") or ""))
        if flow is None:
            ack(
                response_action="update",
                view=modals.done_view(
                    "Form expired", "This platform is no longer supported. Type `/getkey help`."
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
            ack(response_action="errors", errors=errors)
            return
        ack(
            response_action="update",
            view=modals.verifying_view(flow, str(view.get("private_metadata") or "")),
        )
        gate = AckGate(context.get(ACK_DELIVERED))
        finish(
            services,
            client,
            flow=flow,
            values=checked.values,
            view=view,
            team_id=team_id,
            user_id=user_id,
            gate=gate,
            rotation_days=read_rotation(state),
        )

    @app.view(ids.CONFIRM_DELETE_VIEW)
    def confirmed(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = user_and_team(body)
        meta = read_metadata(view.get("private_metadata"))
        credential_id = str(meta.get("credential") or "")
        try:
            info = services.store.get(credential_id) if credential_id else None
            mine = info is not None and info.team_id == team_id and info.user_id == user_id
            if not mine:
                ack(
                    response_action="update",
                    view=modals.done_view("Nothing to delete", "That key is no longer stored."),
                )
                return
            services.store.delete(credential_id, actor=f"slack:{team_id}:{user_id}")
        except Exception as exc:
            log.error("delete failed", extra={"error": type(exc).__name__})
            ack(
                response_action="update",
                view=modals.done_view(
                    "Not deleted", "getkey could not delete it just now. Please try again."
                ),
            )
            return
        ack(
            response_action="update",
            view=modals.deleted_view(info),
        )
