"""How a listener reaches its runtime and answers the person: the runtime from Bolt's context,
Slack calls whose failure is logged rather than raised (views.open, views.publish), a short note
only the presser sees, and the button shape every surface shares (ack → service → outcome).

No `register` here: bot.slack.app registers nothing from this module.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.credentials import Actor
from bot.slack.listeners import actor_of
from bot.slack.ui.modals import done_view
from bot.store.admin import Defaults

log = logging.getLogger(__name__)

# The key under which bot.slack.app's middleware puts the process's Runtime into Bolt's
# context; handlers take `context` and read it with runtime_of.
RUNTIME = "getkey_runtime"
FAILED = (
    "getkey could not do that just now (its database did not answer). Nothing was changed; "
    "please press the button again in a minute."
)

T = TypeVar("T")


def runtime_of(context: dict[str, Any]) -> Runtime:
    return context[RUNTIME]


async def slack_call(what: str, call: Awaitable[Any], *, level: int = logging.WARNING) -> bool:
    """Await a Slack call whose failure only costs the person a refreshed view (a closed
    modal, an expired trigger id): log Slack's error code, never raise. True if it went."""
    try:
        await call
        return True
    except SlackApiError as exc:
        log.log(level, f"{what} failed", extra={"error": exc.response.get("error")})
        return False


async def open_view(client: AsyncWebClient, body: dict[str, Any], view: Any) -> bool:
    """views.open on this request's trigger id (single-use, valid 3 s after the click)."""
    opening = client.views_open(trigger_id=body["trigger_id"], view=view)
    return await slack_call("views.open", opening)


def button_value(body: dict[str, Any]) -> str:
    return str(((body.get("actions") or [{}])[0]).get("value") or "")


def from_home(body: dict[str, Any]) -> bool:
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
    await slack_call(
        "note",
        client.views_open(trigger_id=trigger, view=done_view("getkey", text, close="OK")),
        level=logging.INFO,
    )


Body = dict[str, Any]


@dataclass(frozen=True)
class Press:
    """A button press, acked: what every button handler works with."""

    body: Body
    client: AsyncWebClient
    respond: AsyncRespond
    rt: Runtime

    @property
    def actor(self) -> Actor:
        return actor_of(self.body)

    @property
    def value(self) -> str:
        return button_value(self.body)

    async def tell(self, text: str) -> None:
        await tell(self.body, self.client, self.respond, text)

    async def replace(self, **message: Any) -> None:
        """Replace the message that carried the button (none on the Home tab)."""
        if self.body.get("response_url"):
            await self.respond(replace_original=True, **message)

    async def act(
        self,
        work: Callable[[], Awaitable[T]],
        explain: Callable[[T], str | None],
        *,
        what: str,
        failed: str = FAILED,
    ) -> T | None:
        """The button shape: ask the service, and when it refused or failed tell the presser
        why. Returns the outcome when it worked (explain said None), else None."""
        try:
            outcome = await work()
        except Exception as exc:
            log.error(f"{what} failed", extra={"error": type(exc).__name__})
            await self.tell(failed)
            return None
        note = explain(outcome)
        if note is not None:
            await self.tell(note)
            return None
        return outcome


async def pressed(
    ack: AsyncAck,
    body: Body,
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: dict[str, Any],
) -> Press:
    """Ack a button at once, then hand its handler the Press."""
    await ack()
    return Press(body, client, respond, runtime_of(context))


async def workspace_defaults(rt: Runtime, actor: Actor) -> Defaults:
    """The sender's workspace defaults, bounded (bot.services.admins.Admins.defaults_within)."""
    return await rt.admins.defaults_within(actor.team_id, actor.enterprise_id)
