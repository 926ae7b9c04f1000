"""The reminder buttons (in reminder DMs and on the App Home tab): Rotate now, Snooze 1 day /
1 week, Stop reminding, Delete.

Every button carries only a credential id. Each handler acks at once and asks the credential
service, which acts only for the owner; whatever happens, the presser is told.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.credentials import ActionOutcome, Done, Gone, NotYours
from bot.slack.listeners import actor_of
from bot.slack.listeners.home import publish_home
from bot.slack.ui import ids
from bot.slack.ui.form import rotation_modal
from bot.slack.ui.modals import done_view
from bot.slack.ui.reminders import acted_message, snoozed_note
from flows import catalog

log = logging.getLogger(__name__)

NOT_YOURS = (
    "Only the person who stored this key can act on it. If it is yours to handle, ask them to "
    "press the button, or store your own key with `/getkey`."
)
GONE = "This key is no longer stored with getkey, so there is nothing left to do."
FAILED = (
    "getkey could not do that just now (its database did not answer). Nothing was changed; "
    "please press the button again in a minute."
)


def _credential_id(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("container") or {}).get("type") == "view" and (
        (body.get("view") or {}).get("type") == "home"
    )


async def tell(
    body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, text: str
) -> None:
    """A short note only the presser sees: ephemeral in the conversation, or a small modal
    when the button was on the Home tab (which has no conversation)."""
    if body.get("response_url"):
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    trigger = body.get("trigger_id")
    if not trigger:
        return
    try:
        await client.views_open(trigger_id=trigger, view=done_view("getkey", text, close="OK"))
    except SlackApiError as exc:
        log.info("could not show a note", extra={"error": exc.response.get("error")})


class ReminderButtons:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def _act(
        self,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
        work: Any,
        note: Any,
    ) -> None:
        try:
            outcome: ActionOutcome = await self.rt.workers.quick(work)
        except Exception as exc:
            log.error("reminder button failed", extra={"error": type(exc).__name__})
            await tell(body, client, respond, FAILED)
            return
        if isinstance(outcome, Gone):
            await tell(body, client, respond, GONE)
            return
        if isinstance(outcome, NotYours):
            await tell(body, client, respond, NOT_YOURS)
            return
        assert isinstance(outcome, Done)
        # Show what happened where the button was: replace the reminder message (so its
        # buttons cannot be pressed twice), or refresh the Home tab.
        if _from_home(body):
            try:
                await publish_home(self.rt, client, actor_of(body))
            except SlackApiError as exc:
                log.warning("views.publish failed", extra={"error": exc.response.get("error")})
            return
        if body.get("response_url"):
            await respond(replace_original=True, **acted_message(outcome.info, note(outcome)))

    async def snooze(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        action_id = (body.get("actions") or [{}])[0].get("action_id")
        span = ids.SNOOZES[action_id]
        svc, actor, cid = self.rt.credentials, actor_of(body), _credential_id(body)
        await self._act(
            body,
            client,
            respond,
            lambda: svc.snooze(cid, actor, span),
            lambda done: snoozed_note(done.info.snoozed_until),
        )

    async def stop(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        svc, actor, cid = self.rt.credentials, actor_of(body), _credential_id(body)
        await self._act(
            body,
            client,
            respond,
            lambda: svc.stop(cid, actor),
            lambda _done: (
                "Reminders stopped for this key. It stays stored, and getkey still checks it "
                "daily and tells you if it stops working. Rotate it to start a new schedule."
            ),
        )

    async def delete(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        # Slack asked "Delete this key?" (the button's confirm dialog) before sending this.
        await ack()
        svc, actor, cid = self.rt.credentials, actor_of(body), _credential_id(body)
        await self._act(
            body,
            client,
            respond,
            lambda: svc.delete(cid, actor),
            lambda _done: (
                "Deleted: getkey no longer stores this key and will not remind you about it. "
                "The key itself still works on the platform until you revoke it there."
            ),
        )

    async def rotate(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        # The trigger id expires 3 s after the click, so the ownership check is bounded.
        svc, actor, cid = self.rt.credentials, actor_of(body), _credential_id(body)
        try:
            found = await self.rt.workers.quick(svc.owned, cid, actor)
        except Exception as exc:
            log.error("reminder button failed", extra={"error": type(exc).__name__})
            await tell(body, client, respond, FAILED)
            return
        if isinstance(found, Gone):
            await tell(body, client, respond, GONE)
            return
        if isinstance(found, NotYours):
            await tell(body, client, respond, NOT_YOURS)
            return
        flow = catalog.get(found.info.platform)
        try:
            if flow is None:
                raise LookupError(found.info.platform)
            # Cached (bot.services.admins), so the trigger id is still fresh.
            defaults = await self.rt.admins.defaults(actor.team_id, actor.enterprise_id)
            view = rotation_modal(found.info, svc.rotation_days_for(flow, defaults.rotation_days))
        except LookupError:
            await tell(body, client, respond, "getkey no longer supports this platform, so it "
                       "cannot be rotated here. Delete it, or ask your admin.")
            return
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as exc:
            log.warning("views.open failed", extra={"error": exc.response.get("error")})


def register(app: AsyncApp, rt: Runtime) -> None:
    buttons = ReminderButtons(rt)
    app.action(ids.REMINDER_ROTATE)(buttons.rotate)
    app.action(ids.REMINDER_SNOOZE_DAY)(buttons.snooze)
    app.action(ids.REMINDER_SNOOZE_WEEK)(buttons.snooze)
    app.action(ids.REMINDER_STOP)(buttons.stop)
    app.action(ids.REMINDER_DELETE)(buttons.delete)
