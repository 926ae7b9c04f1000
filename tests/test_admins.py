"""Workspace admins and owners who leave, through the real app (signed requests, the Slack
stand-in, installed workspaces): admins see and manage every credential of their workspace and
none of another's; a user group can be the admins; workspace defaults are honoured; when an
owner is deactivated, or their DM fails as inactive, their reminders go to the admins with
Take over, and after it to the new owner."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.slack.ui import ids
from bot.store.info import CredentialInfo
from tests.bot_fixtures import RunningBot, install
from tests.builders import store_key, sweep
from tests.platforms import wix
from tests.slack_standin import (
    Reply,
    SlackSender,
    check_everything_sent,
    find_element,
    visible_text,
)

pytest_plugins = ("tests.bot_fixtures",)

_teams = itertools.count(1)


@pytest.fixture
def team(oauth_bot: RunningBot) -> Iterator[str]:
    """A freshly installed workspace of its own for each test (reminders and admins apart).
    Afterwards, every view and message the bot sent must be valid Block Kit."""
    name = f"T0ADM{next(_teams):04d}"
    install(oauth_bot, name)
    oauth_bot.standin.reset()
    yield name
    check_everything_sent(oauth_bot.standin)


def person(bot: RunningBot, team: str, user: str) -> SlackSender:
    return bot.slack.in_team(team).as_user(user)


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def home_click(
    sender: SlackSender, blocks: list[dict[str, Any]], action_id: str, **extra: Any
) -> Reply:
    """Press a button, or choose a person in a users_select, on the Home tab."""
    block_id, element = find_element(blocks, action_id)
    action = {"action_id": action_id, "block_id": block_id, "type": element["type"],
              "action_ts": f"{time.time():.6f}", **extra}
    if element["type"] == "button":
        action["value"] = element.get("value")
    payload = {
        **sender._interaction_base("block_actions"),
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home", "blocks": blocks},
        "actions": [action],
    }
    sent = sender.post_payload(payload)
    assert sent.status == 200
    return sent


def published(bot: RunningBot, user: str, count: int = 1) -> dict[str, Any]:
    calls = bot.standin.wait_for(
        "views.publish", count, where=lambda c: c.args.get("user_id") == user
    )
    return calls[-1].args["view"]


def admin_view(bot: RunningBot, admin: SlackSender) -> dict[str, Any]:
    """Open the Home tab, press "Workspace keys (admin)": the admin view."""
    bot.standin.reset()
    assert admin.app_home_opened().status == 200
    home = published(bot, admin.user_id)
    home_click(admin, home["blocks"], ids.ADMIN_OPEN)
    return published(bot, admin.user_id, 2)


def audit(bot: RunningBot, cred: CredentialInfo, action: str) -> Any:
    return [e for e in bot.runtime.store.audit_events(cred.id) if e.action == action]


def dms_to(bot: RunningBot, user: str, team: str) -> list[Any]:
    return [c for c in bot.standin.calls_to("chat.postMessage")
            if c.args.get("channel") == "D" + user[1:] and c.team_id == team
            and c.response.get("ok")]


# -- admins see the workspace ----------------------------------------------------------------------
def test_an_admin_sees_every_key_of_the_workspace_and_none_of_another(
    oauth_bot: RunningBot, team: str
) -> None:
    other = f"T0OTH{next(_teams):04d}"
    install(oauth_bot, other)
    oauth_bot.standin.admins.add((team, "U0ADMIN01"))
    mine = store_key(oauth_bot, team, "U0OWNER01", "First Shop")
    theirs = store_key(oauth_bot, team, "U0OWNER02", "Second Shop")
    foreign = store_key(oauth_bot, other, "U0OWNER01", "Foreign Shop")

    view = admin_view(oauth_bot, person(oauth_bot, team, "U0ADMIN01"))
    shown = visible_text(view["blocks"])
    assert "First Shop" in shown and "Second Shop" in shown
    assert "<@U0OWNER01>" in shown and "<@U0OWNER02>" in shown
    assert "next reminder" in shown and "verified" in shown.lower()
    assert "Foreign Shop" not in json.dumps(view) and foreign.id not in json.dumps(view)
    # Never the value, not even masked.
    assert mine.masked not in json.dumps(view) and theirs.masked not in json.dumps(view)
    assert wix.KEY[-12:] not in json.dumps(view)


def test_a_member_who_is_not_an_admin_sees_only_their_own_keys(
    oauth_bot: RunningBot, team: str
) -> None:
    store_key(oauth_bot, team, "U0OWNER01", "First Shop")
    store_key(oauth_bot, team, "U0OWNER02", "Second Shop")
    member = person(oauth_bot, team, "U0OWNER01")
    assert member.app_home_opened().status == 200
    home = published(oauth_bot, "U0OWNER01")
    assert ids.ADMIN_OPEN not in json.dumps(home)
    # A forged "Workspace keys" press shows their own Home again, nothing more.
    forged = [{"type": "actions", "block_id": "f", "elements": [{
        "type": "button", "action_id": ids.ADMIN_OPEN, "text": {"type": "plain_text",
                                                                "text": "x"}}]}]
    home_click(member, forged, ids.ADMIN_OPEN)
    again = published(oauth_bot, "U0OWNER01", 2)
    assert "First Shop" in json.dumps(again) and "Second Shop" not in json.dumps(again)


# -- reassign, delete, audited ---------------------------------------------------------------------
def test_an_admin_reassigns_and_deletes_and_both_are_audited(
    oauth_bot: RunningBot, team: str
) -> None:
    oauth_bot.standin.admins.add((team, "U0ADMIN01"))
    moving = store_key(oauth_bot, team, "U0OWNER01", "Moving Shop")
    going = store_key(oauth_bot, team, "U0OWNER02", "Closing Shop")
    admin = person(oauth_bot, team, "U0ADMIN01")
    view = admin_view(oauth_bot, admin)

    row = [b for b in view["blocks"] if b.get("block_id") == ids.admin_row_block(moving.id)]
    home_click(admin, row, ids.ADMIN_REASSIGN, selected_user="U0NEWOWN1")
    wait_until(lambda: oauth_bot.runtime.store.get(moving.id).user_id == "U0NEWOWN1")
    (event,) = audit(oauth_bot, moving, "reassigned")
    assert event.actor == f"slack:{team}:U0ADMIN01"
    assert "admin" in event.detail and "U0OWNER01" in event.detail and "U0NEWOWN1" in event.detail
    # The new owner now has it, with its reminders.
    assert [c.id for c in oauth_bot.runtime.store.list_for_user(team, "U0NEWOWN1")] == [moving.id]

    row = [b for b in view["blocks"] if b.get("block_id") == ids.admin_row_block(going.id)]
    home_click(admin, row, ids.ADMIN_DELETE)
    wait_until(lambda: oauth_bot.runtime.store.get(going.id) is None)
    (event,) = audit(oauth_bot, going, "deleted")
    assert event.actor == f"slack:{team}:U0ADMIN01" and "admin" in event.detail


def test_a_deactivated_account_cannot_be_made_owner(oauth_bot: RunningBot, team: str) -> None:
    oauth_bot.standin.admins.add((team, "U0ADMIN01"))
    oauth_bot.standin.deactivated.add((team, "U0GONE001"))
    key = store_key(oauth_bot, team, "U0OWNER01", "Kept Shop")
    admin = person(oauth_bot, team, "U0ADMIN01")
    view = admin_view(oauth_bot, admin)
    row = [b for b in view["blocks"] if b.get("block_id") == ids.admin_row_block(key.id)]
    pressed = home_click(admin, row, ids.ADMIN_REASSIGN, selected_user="U0GONE001")
    note = oauth_bot.standin.opened_by(pressed)
    assert "deactivated" in json.dumps(note.args["view"])
    assert oauth_bot.runtime.store.get(key.id).user_id == "U0OWNER01"
    assert audit(oauth_bot, key, "reassigned") == []


def test_non_admins_and_other_workspaces_admins_change_nothing(
    oauth_bot: RunningBot, team: str
) -> None:
    other = f"T0OTH{next(_teams):04d}"
    install(oauth_bot, other)
    oauth_bot.standin.admins.add((other, "U0ADMIN01"))  # admin there, with the same user id
    key = store_key(oauth_bot, team, "U0OWNER01", "Guarded Shop")
    row = [{"type": "actions", "block_id": ids.admin_row_block(key.id), "elements": [
        {"type": "users_select", "action_id": ids.ADMIN_REASSIGN},
        {"type": "button", "action_id": ids.ADMIN_DELETE, "value": key.id,
         "text": {"type": "plain_text", "text": "Delete"}}]}]
    for sender in (person(oauth_bot, team, "U0OWNER02"), person(oauth_bot, other, "U0ADMIN01"),
                   person(oauth_bot, team, "U0ADMIN01")):
        home_click(sender, row, ids.ADMIN_REASSIGN, selected_user=sender.user_id)
        home_click(sender, row, ids.ADMIN_DELETE)
    oauth_bot.standin.wait_for("views.open", 6)
    now = oauth_bot.runtime.store.get(key.id)
    assert now is not None and now.user_id == "U0OWNER01"
    assert audit(oauth_bot, key, "reassigned") == [] and audit(oauth_bot, key, "deleted") == []


# -- settings: a user group as admins, workspace defaults -----------------------------------------
def save_settings(
    bot: RunningBot, admin: SlackSender, *, group: str | None = None, rotation: str | None = None,
    platforms: list[str] | None = None,
) -> dict[str, Any]:
    view = admin_view(bot, admin)
    opened = bot.standin.opened_by(home_click(admin, view["blocks"], ids.ADMIN_SETTINGS))
    view_id = opened.response["view"]["id"]
    payload = admin.view_payload(view_id, {
        ids.ADMIN_GROUP_BLOCK: group or ids.SLACK_ADMINS,
        ids.ADMIN_ROTATION_BLOCK: rotation or ids.ROTATION_DEFAULT,
    })
    modal = bot.standin.views[view_id]
    options = next(b for b in modal["blocks"] if b["block_id"] == ids.ADMIN_PLATFORMS_BLOCK)
    chosen = [o for o in options["element"]["options"] if o["value"] in (platforms or [])]
    payload["view"]["state"]["values"][ids.ADMIN_PLATFORMS_BLOCK] = {ids.FIELD_VALUE: {
        "type": "multi_static_select", "selected_options": chosen}}
    reply = admin.deliver_submission(payload)
    assert reply.status == 200
    return reply.json() if reply.body else {}


def test_a_user_group_can_be_the_admins(oauth_bot: RunningBot, team: str) -> None:
    standin = oauth_bot.standin
    standin.admins.update({(team, "U0ADMIN01"), (team, "U0ADMIN02")})
    group = f"S0{team[2:]}"
    standin.usergroups[group] = ["U0ADMIN01", "U0GROUPM1"]
    key = store_key(oauth_bot, team, "U0OWNER01", "Group Shop")
    admin = person(oauth_bot, team, "U0ADMIN01")

    # A group without the admin in it would lock them out: refused, nothing saved.
    standin.usergroups["S0OTHERS1"] = ["U0GROUPM1"]
    refused = save_settings(oauth_bot, admin, group="S0OTHERS1")
    assert refused["response_action"] == "errors" and "not a member" in json.dumps(refused)
    assert oauth_bot.runtime.store.workspace_defaults(team).admin_group is None

    assert save_settings(oauth_bot, admin, group=group) == {}
    assert oauth_bot.runtime.store.workspace_defaults(team).admin_group == group
    events = [e for e in oauth_bot.runtime.store.audit_events()
              if e.action == "workspace_defaults" and team in e.detail]
    assert events and events[-1].actor == f"slack:{team}:U0ADMIN01"
    assert "admin" in events[-1].detail and group in events[-1].detail

    # A group member who is no Slack admin now sees the workspace's keys…
    view = admin_view(oauth_bot, person(oauth_bot, team, "U0GROUPM1"))
    assert "Group Shop" in visible_text(view["blocks"]) and key.id in json.dumps(view)
    # …and a Slack admin outside the group no longer does.
    outsider = person(oauth_bot, team, "U0ADMIN02")
    standin.reset()
    outsider.app_home_opened()
    assert ids.ADMIN_OPEN not in json.dumps(published(oauth_bot, "U0ADMIN02"))


def test_workspace_defaults_are_honoured(oauth_bot: RunningBot, team: str) -> None:
    oauth_bot.standin.admins.add((team, "U0ADMIN01"))
    admin = person(oauth_bot, team, "U0ADMIN01")
    assert save_settings(oauth_bot, admin, rotation="60", platforms=["wix"]) == {}
    member = person(oauth_bot, team, "U0MEMBER1")

    # Only Wix is offered: not BigCommerce, in the help's list or by name.
    help_ack = member.command("help").json()
    (select,) = [b["accessory"] for b in help_ack["blocks"] if b.get("accessory")]
    assert [o["value"] for o in select["options"]] == ["wix"]
    refused = member.command("bigcommerce").json()
    assert "not offered in this workspace" in refused["text"]
    # Another workspace still gets every platform.
    other = f"T0OTH{next(_teams):04d}"
    install(oauth_bot, other)
    elsewhere = person(oauth_bot, other, "U0MEMBER1")
    assert "not offered" not in json.dumps(elsewhere.command("bigcommerce").json())

    # The form offers the workspace's period by default, and a key stored with it keeps it.
    guide = member.command("wix").json()
    oauth_bot.standin.reset()
    sent = member.click(guide["blocks"], ids.OPEN_FORM)
    opened = oauth_bot.standin.opened_by(sent)
    view_id = opened.response["view"]["id"]
    form = oauth_bot.standin.views[view_id]
    rotation = next(b for b in form["blocks"] if b.get("block_id") == ids.ROTATION_BLOCK)
    assert rotation["element"]["initial_option"]["text"]["text"] == "Default: every 60 days"
    member.submit(view_id, {ids.field_block("api_key"): wix.KEY,
                            ids.field_block("account_id"): wix.ACCOUNT,
                            ids.field_block("site_id"): ""})
    oauth_bot.standin.updated(view_id)
    (stored,) = oauth_bot.runtime.store.list_for_user(team, "U0MEMBER1")
    assert stored.rotation_days == 60


# -- owners who leave ------------------------------------------------------------------------------
def take_over_and_follow(bot: RunningBot, team: str, key: CredentialInfo, owner: str) -> None:
    """The admins got the reminder with Take over: an admin presses it, becomes the owner, and
    the next reminder goes to them (with the owner's own buttons)."""
    (to_admin,) = dms_to(bot, "U0ADMIN01", team)
    assert key.id in json.dumps(to_admin.args["blocks"])
    assert f"<@{owner}>" in visible_text(to_admin.args["blocks"])
    find_element(to_admin.args["blocks"], ids.TAKE_OVER)
    assert dms_to(bot, owner, team) == []

    admin = person(bot, team, "U0ADMIN01")
    bot.standin.reset()
    sent = admin.click(to_admin.args["blocks"], ids.TAKE_OVER)
    assert sent.status == 200
    answer = bot.standin.reply_to(sent)
    assert "took this key over" in answer.args["text"]
    now = bot.runtime.store.get(key.id)
    assert now.user_id == "U0ADMIN01" and now.owner_gone_at is None
    (event,) = audit(bot, key, "taken_over")
    assert event.actor == f"slack:{team}:U0ADMIN01" and "admin" in event.detail

    bot.standin.reset()
    sweep(bot, timedelta(days=2, minutes=1))  # the day it expires
    (later,) = dms_to(bot, "U0ADMIN01", team)
    assert ids.TAKE_OVER not in json.dumps(later.args["blocks"])
    find_element(later.args["blocks"], ids.REMINDER_ROTATE)  # the owner's own buttons
    assert dms_to(bot, owner, team) == []


def test_owner_deactivated_reminders_go_to_the_admins_until_one_takes_over(
    oauth_bot: RunningBot, team: str
) -> None:
    oauth_bot.standin.admins.add((team, "U0ADMIN01"))
    key = store_key(oauth_bot, team, "U0LEAVER1", "Orphan Shop", expires_in=timedelta(days=2))
    leaver = person(oauth_bot, team, "U0LEAVER1")
    assert leaver.event({"type": "user_change", "event_ts": f"{time.time():.6f}", "user": {
        "id": "U0LEAVER1", "team_id": team, "deleted": True, "is_admin": False}}).status == 200
    wait_until(lambda: oauth_bot.runtime.store.get(key.id).owner_gone_at is not None)
    (event,) = audit(oauth_bot, key, "owner_gone")
    assert "deactivated" in event.detail
    oauth_bot.standin.deactivated.add((team, "U0LEAVER1"))

    oauth_bot.standin.reset()
    sweep(oauth_bot, timedelta(days=1, minutes=1))  # "expires tomorrow"
    take_over_and_follow(oauth_bot, team, key, "U0LEAVER1")


def test_a_reminder_failing_as_account_inactive_goes_to_the_admins(
    oauth_bot: RunningBot, team: str
) -> None:
    oauth_bot.standin.admins.add((team, "U0ADMIN01"))
    key = store_key(oauth_bot, team, "U0SILENT1", "Quiet Shop", expires_in=timedelta(days=2))
    # Nobody told getkey: the DM itself says so.
    oauth_bot.standin.deactivated.add((team, "U0SILENT1"))
    oauth_bot.standin.reset()
    sweep(oauth_bot, timedelta(days=1, minutes=1))
    failed = [c for c in oauth_bot.standin.calls_to("chat.postMessage")
              if c.args.get("channel") == "D0SILENT1" and c.team_id == team]
    assert failed and failed[0].response["error"] == "account_inactive"
    now = oauth_bot.runtime.store.get(key.id)
    assert now.owner_gone_at is not None
    (event,) = audit(oauth_bot, key, "owner_gone")
    assert "account_inactive" in event.detail
    take_over_and_follow(oauth_bot, team, key, "U0SILENT1")


def test_a_second_admin_cannot_take_over_what_the_first_took(
    oauth_bot: RunningBot, team: str
) -> None:
    oauth_bot.standin.admins.update({(team, "U0ADMIN01"), (team, "U0ADMIN02")})
    key = store_key(oauth_bot, team, "U0LEAVER2", "Contested Shop", expires_in=timedelta(days=2))
    oauth_bot.runtime.store.mark_owner_gone(team, "U0LEAVER2", actor="test", reason="test")
    oauth_bot.standin.deactivated.add((team, "U0LEAVER2"))
    sweep(oauth_bot, timedelta(days=1, minutes=1))
    (first,) = dms_to(oauth_bot, "U0ADMIN01", team)
    (second,) = dms_to(oauth_bot, "U0ADMIN02", team)
    took = person(oauth_bot, team, "U0ADMIN01").click(first.args["blocks"], ids.TAKE_OVER)
    wait_until(lambda: oauth_bot.runtime.store.get(key.id).user_id == "U0ADMIN01")
    # The first admin's copy is replaced after the store write; the second admin's note is
    # read from the second click's own response_url, never the first's (which may trail).
    oauth_bot.standin.reply_to(took)
    sent = person(oauth_bot, team, "U0ADMIN02").click(second.args["blocks"], ids.TAKE_OVER)
    note = oauth_bot.standin.reply_to(sent)
    assert "owns this key now" in note.args["text"]
    assert oauth_bot.runtime.store.get(key.id).user_id == "U0ADMIN01"
    assert len(audit(oauth_bot, key, "taken_over")) == 1


def test_a_notice_that_fails_as_account_inactive_goes_to_the_admins(
    oauth_bot: RunningBot, team: str
) -> None:
    """The outbox too: "no longer works" for an inactive owner reaches the admins; the mere
    "stored" confirmation of their key is not worth an admin's DM."""
    oauth_bot.standin.admins.add((team, "U0ADMIN01"))
    key = store_key(oauth_bot, team, "U0QUIET02", "Broken Shop")  # owes a "stored" DM
    oauth_bot.runtime.store.enqueue_message(
        "failing", team_id=team, user_id="U0QUIET02", credential_id=key.id
    )
    oauth_bot.standin.deactivated.add((team, "U0QUIET02"))
    oauth_bot.standin.reset()
    oauth_bot.on_loop(oauth_bot.runtime.outbox.drain())
    assert oauth_bot.runtime.store.get(key.id).owner_gone_at is not None
    (to_admin,) = dms_to(oauth_bot, "U0ADMIN01", team)
    assert "no longer works" in visible_text(to_admin.args["blocks"])
    find_element(to_admin.args["blocks"], ids.TAKE_OVER)
