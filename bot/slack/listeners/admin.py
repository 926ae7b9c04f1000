"""Workspace admins on the Home tab (every credential of the workspace, reassign, delete,
workspace defaults), the Take over button of a departed owner's reminder, and `user_change`
(an owner deactivated: their credentials' reminders go to the admins).

Every handler acks first; bot.services.admins checks the presser is an admin before anything
changes.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.services.admins import (
    AdminOutcome,
    AlreadyHas,
    DirectoryError,
    NotAdmin,
    Refused,
    parse_defaults,
)
from bot.services.credentials import Actor, Done, Gone
from bot.services.search import clean_query
from bot.slack.listeners import actor_of
from bot.slack.listeners.home import publish_home, refresh_home
from bot.slack.listeners.replies import (
    Body,
    Press,
    open_view,
    pressed,
    runtime_of,
    slack_call,
    tell,
)
from bot.slack.ui import ids, paging
from bot.slack.ui.admin import (
    admin_home_view,
    read_purpose,
    read_settings,
    settings_modal,
    taken_over_message,
)
from bot.slack.ui.contact import KIND_BLOCKS, read_contact
from bot.slack.ui.text import escape, flow_name, store_of

log = logging.getLogger(__name__)

NOT_ADMIN = (
    "Only this workspace's getkey admins can do that (Slack's owners and admins, or the user "
    "group they chose)."
)
GONE = "This key is no longer stored with getkey."
FAILED = "getkey could not do that just now. Nothing was changed; please try again in a minute."
# The settings modal is answered inside its ack.
ACK_BUDGET = 2.0


def _explain(outcome: AdminOutcome) -> str | None:
    """The note for the presser, or None when it worked."""
    if isinstance(outcome, NotAdmin):
        return NOT_ADMIN
    if isinstance(outcome, Gone):
        return GONE
    if isinstance(outcome, Refused):
        return outcome.reason
    if isinstance(outcome, AlreadyHas):
        return (
            f"<@{outcome.info.user_id}> already has this {flow_name(outcome.info.platform)} key "
            f"for {escape(store_of(outcome.info))} stored. Delete one of the two first."
        )
    return None


async def publish_admin_home(
    rt: Runtime, client: AsyncWebClient, actor: Actor, query: str = "", offset: int = 0
) -> None:
    query = clean_query(query)
    found = await rt.admins.workspace_page(actor, query, offset, paging.ADMIN_PAGE)
    if isinstance(found, NotAdmin):
        await publish_home(rt, client, actor)
        return
    defaults = await rt.admins.defaults(actor.team_id, actor.enterprise_id)
    view = admin_home_view(found, defaults, query)
    await client.views_publish(user_id=actor.user_id, view=view)


async def refresh_admin_home(
    rt: Runtime, client: AsyncWebClient, actor: Actor, query: str = "", offset: int = 0
) -> None:
    await slack_call("views.publish", publish_admin_home(rt, client, actor, query, offset))


async def handle_page(ack: AsyncAck, body: Body, action: dict[str, Any], context: AsyncBoltContext,
                      client: AsyncWebClient) -> None:
    """Previous/Next/Show all in the admin view."""
    await ack()
    query, offset = paging.read_state(action.get("value"))
    await refresh_admin_home(runtime_of(context), client, actor_of(body), query, offset)


async def handle_search(ack: AsyncAck, body: Body, action: dict[str, Any],
                        context: AsyncBoltContext, client: AsyncWebClient) -> None:
    """The admin view's search field (Enter): the first page of the matching keys."""
    await ack()
    query = str(action.get("value") or "")
    await refresh_admin_home(runtime_of(context), client, actor_of(body), query)


async def _answer(p: Press, what: str, work: Callable[[], Awaitable[AdminOutcome]]) -> None:
    """A Home-tab admin button: the admins service acts (or refuses, and the presser is told
    why), then the admin view shows the new state. After a failure the presser is told and the
    view is left as it was."""
    outcome = await p.act(work, lambda _o: None, what=what, failed=FAILED)
    if outcome is None:
        return
    note = _explain(outcome)
    if note is not None:
        await p.tell(note)
    query, offset = paging.read_state((p.body.get("view") or {}).get("private_metadata"))
    await refresh_admin_home(p.rt, p.client, p.actor, query, offset)


async def handle_open_admin(ack: AsyncAck, body: Body, client: AsyncWebClient,
                            context: AsyncBoltContext) -> None:
    await ack()
    await refresh_admin_home(runtime_of(context), client, actor_of(body))


async def handle_back(ack: AsyncAck, body: Body, client: AsyncWebClient,
                      context: AsyncBoltContext) -> None:
    await ack()
    await refresh_home(runtime_of(context), client, actor_of(body))


async def handle_reassign(ack: AsyncAck, body: Body, action: dict[str, Any], client: AsyncWebClient,
                          respond: AsyncRespond, context: AsyncBoltContext) -> None:
    p = await pressed(ack, body, client, respond, context)
    credential_id = str(action.get("block_id") or "").removeprefix("admin:")
    new_owner = str(action.get("selected_user") or "")
    work = p.rt.admins.reassign
    await _answer(p, "reassign", lambda: work(p.actor, credential_id, new_owner))


async def handle_delete(ack: AsyncAck, body: Body, action: dict[str, Any], client: AsyncWebClient,
                        respond: AsyncRespond, context: AsyncBoltContext) -> None:
    # Slack asked "Delete this key?" (the button's confirm dialog) before sending this.
    p = await pressed(ack, body, client, respond, context)
    credential_id = str(action.get("value") or "")
    await _answer(p, "admin delete", lambda: p.rt.admins.delete(p.actor, credential_id))


async def handle_open_settings(ack: AsyncAck, body: Body, client: AsyncWebClient,
                               respond: AsyncRespond, context: AsyncBoltContext) -> None:
    await ack()
    admins, actor = runtime_of(context).admins, actor_of(body)
    # The trigger id lasts 3 s: the admin check is cached from the Home tab just shown.
    if isinstance(await admins.check(actor), NotAdmin):
        await tell(body, client, respond, NOT_ADMIN)
        return
    try:
        groups = await asyncio.wait_for(admins.directory.groups(actor.team_id), 1.5)
    except (DirectoryError, TimeoutError) as exc:
        log.info("user groups unlisted", extra={"error": str(exc)})
        groups = []
    defaults = await admins.defaults(actor.team_id, actor.enterprise_id)
    await open_view(client, body, settings_modal(defaults, groups))


async def handle_save_settings(ack: AsyncAck, body: Body, view: dict[str, Any],
                               client: AsyncWebClient, context: AsyncBoltContext) -> None:
    rt, actor = runtime_of(context), actor_of(body)
    state = (view.get("state") or {}).get("values") or {}
    group, period, platforms = read_settings(state)
    contact = read_contact(state)
    defaults = parse_defaults(group, period, platforms, purpose=read_purpose(state),
                              contact=contact)
    if isinstance(defaults, Refused):
        block = {
            "contact": KIND_BLOCKS.get(contact.kind, ids.ADMIN_CONTACT_KIND_BLOCK),
            "purpose": ids.ADMIN_PURPOSE_BLOCK, "rotation": ids.ADMIN_ROTATION_BLOCK,
        }.get(defaults.field or "", ids.ADMIN_PLATFORMS_BLOCK)
        await ack(response_action="errors", errors={block: defaults.reason})
        return
    try:
        outcome = await asyncio.wait_for(rt.admins.set_defaults(actor, defaults), ACK_BUDGET)
    except Exception as exc:
        log.error("workspace defaults not saved", extra={"error": type(exc).__name__})
        await ack(response_action="errors", errors={ids.ADMIN_GROUP_BLOCK: FAILED})
        return
    if isinstance(outcome, (NotAdmin, Refused)):
        reason = NOT_ADMIN if isinstance(outcome, NotAdmin) else outcome.reason
        await ack(response_action="errors", errors={ids.ADMIN_GROUP_BLOCK: reason})
        return
    await ack()
    await refresh_admin_home(rt, client, actor)


async def handle_take_over(ack: AsyncAck, body: Body, action: dict[str, Any],
                           client: AsyncWebClient, respond: AsyncRespond,
                           context: AsyncBoltContext) -> None:
    p = await pressed(ack, body, client, respond, context)
    credential_id, actor = str(action.get("value") or ""), p.actor
    work = p.rt.admins.take_over
    outcome = await p.act(lambda: work(actor, credential_id), _explain, what="take over",
                          failed=FAILED)  # fmt: skip
    if outcome is None:
        return
    assert isinstance(outcome, Done)
    # Only this admin's copy changes; another admin pressing theirs later is told who owns it.
    await p.replace(**taken_over_message(outcome.info, actor.user_id))


async def handle_user_change(body: Body, event: dict[str, Any], context: AsyncBoltContext) -> None:
    admins = runtime_of(context).admins
    user = event.get("user") if isinstance(event.get("user"), dict) else {}
    team_id = str(body.get("team_id") or user.get("team_id") or "")
    user_id = str(user.get("id") or "")
    if not team_id or not user_id:
        return
    # An admin promoted or demoted, or a group's member leaving: ask Slack again.
    admins.forget(team_id)
    if not user.get("deleted"):
        return
    enterprise = body.get("enterprise_id")
    await admins.owner_gone(
        team_id, user_id, enterprise if isinstance(enterprise, str) and enterprise else None,
        reason="deactivated (user_change)",
    )  # fmt: skip


def register(app: AsyncApp, rt: Runtime) -> None:
    app.action(ids.ADMIN_OPEN)(handle_open_admin)
    app.action(ids.ADMIN_BACK)(handle_back)
    app.action(ids.ADMIN_REASSIGN)(handle_reassign)
    app.action(ids.ADMIN_DELETE)(handle_delete)
    app.action(ids.ADMIN_SETTINGS)(handle_open_settings)
    app.view(ids.ADMIN_SETTINGS_VIEW)(handle_save_settings)
    app.action(ids.TAKE_OVER)(handle_take_over)
    app.action(re.compile(re.escape(ids.ADMIN_PAGE) + r"\.\w+"))(handle_page)
    app.action(ids.ADMIN_SEARCH)(handle_search)
    app.event("user_change")(handle_user_change)
