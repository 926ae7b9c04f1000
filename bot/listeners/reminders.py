"""The reminder buttons (in reminder DMs and on the App Home tab): Rotate now, Snooze 1 day /
1 week, Stop reminding, Delete.

Every button carries only a credential id. Each handler acks at once, loads the credential and
acts only for its owner; anyone else gets a polite refusal. Rotate now opens the platform's form
bound to the credential (its id in private_metadata, never a secret): storing the new key for
the same store replaces the old one and restarts its reminder schedule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.listeners import user_and_team
from bot.listeners.home import publish_home
from bot.ui import ids
from bot.ui.form import rotation_modal
from bot.ui.modals import done_view
from bot.ui.reminders import acted_message, snoozed_note
from flows import catalog

log = logging.getLogger(__name__)

NOT_YOURS = (
    "Only the person who stored this key can act on it. If it is yours to handle, ask them to "
    "press the button, or store your own key with `/getkey`."
)
GONE = "This key is no longer stored with getkey, so there is nothing left to do."


def _credential_id(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def _who(body: dict[str, Any]) -> tuple[str, str]:
    return user_and_team(body)


def _actor(body: dict[str, Any]) -> str:
    # The same actor format as the other Slack surfaces, for one readable audit trail.
    team_id, user_id = _who(body)
    return f"slack:{team_id}:{user_id}"


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("container") or {}).get("type") == "view" and (
        (body.get("view") or {}).get("type") == "home"
    )


def _tell(
    body: dict[str, Any], client: WebClient, respond: Callable[..., Any], text: str
) -> None:
    """A short note only the presser sees: ephemeral in the conversation, or a small modal
    when the button was on the Home tab (which has no conversation)."""
    if body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)
        return
    trigger = body.get("trigger_id")
    if not trigger:
        return
    try:
        client.views_open(trigger_id=trigger, view=done_view("getkey", text, close="OK"))
    except SlackApiError as exc:
        log.info("could not show a note", extra={"error": exc.response.get("error")})


class ReminderActions:
    def __init__(self, services: Any) -> None:
        self.services = services

    @property
    def store(self) -> Any:
        return self.services.store

    def now(self) -> datetime:
        clock = getattr(self.services, "clock", None)
        now = clock() if clock else datetime.now(UTC)
        return now if now.tzinfo else now.replace(tzinfo=UTC)

    def owned(
        self, body: dict[str, Any], client: WebClient, respond: Callable[..., Any]
    ) -> Any | None:
        """The credential the button is about, if the presser owns it; else say why not."""
        team_id, user_id = _who(body)
        info = self.store.get(_credential_id(body)) if _credential_id(body) else None
        if info is None:
            _tell(body, client, respond, GONE)
            return None
        if info.user_id != user_id or info.team_id != team_id:
            log.info("reminder button refused: not the owner", extra={"credential": info.id})
            _tell(body, client, respond, NOT_YOURS)
            return None
        return info

    def done(
        self,
        body: dict[str, Any],
        client: WebClient,
        respond: Callable[..., Any],
        info: Any,
        note: str,
    ) -> None:
        """Show what happened where the button was: replace the reminder message (so its
        buttons cannot be pressed twice), or refresh the Home tab."""
        team_id, user_id = _who(body)
        if _from_home(body):
            try:
                publish_home(client, self.store, team_id, user_id)
            except SlackApiError as exc:
                log.warning("views.publish failed", extra={"error": exc.response.get("error")})
            return
        if body.get("response_url"):
            respond(replace_original=True, **acted_message(info, note))

    # -- handlers ------------------------------------------------------------------------------
    def snooze(self, ack: Callable[..., Any], body: dict[str, Any], client: WebClient,
               respond: Callable[..., Any]) -> None:
        ack()
        info = self.owned(body, client, respond)
        if info is None:
            return
        action_id = (body.get("actions") or [{}])[0].get("action_id")
        until = self.now() + ids.SNOOZES[action_id]
        self.store.snooze(info.id, until, actor=_actor(body))
        note = snoozed_note(until)
        self.done(body, client, respond, self.store.get(info.id) or info, note)

    def stop(self, ack: Callable[..., Any], body: dict[str, Any], client: WebClient,
             respond: Callable[..., Any]) -> None:
        ack()
        info = self.owned(body, client, respond)
        if info is None:
            return
        self.store.stop_reminders(info.id, actor=_actor(body))
        note = (
            "Reminders stopped for this key. It stays stored, and getkey still checks it "
            "daily and tells you if it stops working. Rotate it to start a new schedule."
        )
        self.done(body, client, respond, self.store.get(info.id) or info, note)

    def delete(self, ack: Callable[..., Any], body: dict[str, Any], client: WebClient,
               respond: Callable[..., Any]) -> None:
        # Slack asked "Delete this key?" (the button's confirm dialog) before sending this.
        ack()
        info = self.owned(body, client, respond)
        if info is None:
            return
        self.store.delete(info.id, actor=_actor(body))
        note = (
            "Deleted: getkey no longer stores this key and will not remind you about it. "
            "The key itself still works on the platform until you revoke it there."
        )
        self.done(body, client, respond, info, note)

    def rotate(self, ack: Callable[..., Any], body: dict[str, Any], client: WebClient,
               respond: Callable[..., Any]) -> None:
        ack()
        info = self.owned(body, client, respond)
        if info is None:
            return
        try:
            flow = catalog.get(info.platform)
            view = rotation_modal(
                info, self.services.store.rotation_days_for(flow) if flow else None
            )
        except LookupError:
            _tell(body, client, respond, "getkey no longer supports this platform, so it "
                  "cannot be rotated here. Delete it, or ask your admin.")
            return
        # The trigger id expires 3 s after the click: open the modal before anything else slow.
        try:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as exc:
            log.warning("views.open failed", extra={"error": exc.response.get("error")})


def register(app: Any, services: Any) -> None:
    actions = ReminderActions(services)
    app.action(ids.REMINDER_ROTATE)(actions.rotate)
    app.action(ids.REMINDER_SNOOZE_DAY)(actions.snooze)
    app.action(ids.REMINDER_SNOOZE_WEEK)(actions.snooze)
    app.action(ids.REMINDER_STOP)(actions.stop)
    app.action(ids.REMINDER_DELETE)(actions.delete)
