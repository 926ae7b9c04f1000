"""The reminder buttons (in reminder DMs and on the App Home tab): Rotate now, Snooze 1 day /
1 week, Stop reminding, Delete.

Every button carries only a credential id. Each handler acks at once and asks the credential
service, which acts only for the owner; whatever happens, the presser is told.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.credentials import ActionOutcome, Done, Gone, NotYours
from bot.slack.listeners.home import refresh_home
from bot.slack.listeners.replies import (
    Body,
    Press,
    from_home,
    open_view,
    pressed,
    workspace_defaults,
)
from bot.slack.ui import ids
from bot.slack.ui.ending import revoke_lines
from bot.slack.ui.form import rotation_modal
from bot.slack.ui.reminders import acted_message, snoozed_note
from flows import catalog

NOT_YOURS = (
    "Only the person who stored this key can act on it. If it is yours to handle, ask them to "
    "press the button, or store your own key with `/getkey`."
)
GONE = "This key is no longer stored with getkey, so there is nothing left to do."
STOPPED = (
    "Reminders stopped for this key. It stays stored, and getkey still checks it "
    "daily and tells you if it stops working. Rotate it to start a new schedule."
)
DELETED = (
    "Deleted: getkey no longer stores this key and will not remind you about it. "
    "The key itself still works on the platform until you revoke it there."
)
UNSUPPORTED = (
    "getkey no longer supports this platform, so it cannot be rotated here. Delete it, or ask "
    "your admin."
)


def refusal(outcome: ActionOutcome) -> str | None:
    """What the presser is told when the service did not act (None: it did)."""
    if isinstance(outcome, Gone):
        return GONE
    if isinstance(outcome, NotYours):
        return NOT_YOURS
    return None


async def _press(
    p: Press, work: Callable[..., ActionOutcome], note: Callable[[Done], str], *args: Any
) -> None:
    """Run one reminder action for the presser and show what happened where the button was:
    replace the reminder message (so its buttons cannot be pressed twice), or refresh Home."""
    actor = p.actor
    outcome = await p.act(
        lambda: p.rt.workers.quick(work, p.value, actor, *args), refusal, what="reminder button"
    )
    if outcome is None:
        return
    assert isinstance(outcome, Done)
    if from_home(p.body):
        await refresh_home(p.rt, p.client, actor)
    else:
        await p.replace(**acted_message(outcome.info, note(outcome)))


def _snoozed(done: Done) -> str:
    return snoozed_note(done.info.snoozed_until)


async def handle_snooze(ack: AsyncAck, body: Body, client: AsyncWebClient, respond: AsyncRespond,
                        context: AsyncBoltContext) -> None:
    p = await pressed(ack, body, client, respond, context)
    span = ids.SNOOZES[(body.get("actions") or [{}])[0].get("action_id")]
    await _press(p, p.rt.credentials.snooze, _snoozed, span)


async def handle_stop(ack: AsyncAck, body: Body, client: AsyncWebClient, respond: AsyncRespond,
                      context: AsyncBoltContext) -> None:
    p = await pressed(ack, body, client, respond, context)
    await _press(p, p.rt.credentials.stop, lambda _done: STOPPED)


async def handle_delete(ack: AsyncAck, body: Body, client: AsyncWebClient, respond: AsyncRespond,
                        context: AsyncBoltContext) -> None:
    # Slack asked "Delete this key?" (the button's confirm dialog) before sending this.
    p = await pressed(ack, body, client, respond, context)
    await _press(p, p.rt.credentials.delete, lambda done: "\n".join(
        [DELETED, *revoke_lines(done.info.platform)]))


async def handle_rotate(ack: AsyncAck, body: Body, client: AsyncWebClient, respond: AsyncRespond,
                        context: AsyncBoltContext) -> None:
    p = await pressed(ack, body, client, respond, context)
    # The trigger id expires 3 s after the click, so the ownership check is bounded.
    rt, actor = p.rt, p.actor
    found = await p.act(
        lambda: rt.workers.quick(rt.credentials.owned, p.value, actor), refusal,
        what="reminder button",
    )  # fmt: skip
    if found is None:
        return
    assert isinstance(found, Done)
    flow = catalog.get(found.info.platform)
    if flow is None:
        await p.tell(UNSUPPORTED)
        return
    # Cached (bot.services.admins), so the trigger id is still fresh.
    defaults = await workspace_defaults(rt, actor)
    days = rt.credentials.rotation_days_for(flow, defaults.rotation_days)
    await open_view(client, body, rotation_modal(found.info, days))


def register(app: AsyncApp, rt: Runtime) -> None:
    app.action(ids.REMINDER_ROTATE)(handle_rotate)
    app.action(ids.REMINDER_SNOOZE_DAY)(handle_snooze)
    app.action(ids.REMINDER_SNOOZE_WEEK)(handle_snooze)
    app.action(ids.REMINDER_STOP)(handle_stop)
    app.action(ids.REMINDER_DELETE)(handle_delete)
