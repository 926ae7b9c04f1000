"""Two installed workspaces, one person id present in both (the worst case): whatever ids a
payload carries, a user of one workspace never lists, reads, rotates, snoozes, stops or deletes
a credential of the other. Every request is signed and goes through the real app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.slack.ui import ids
from bot.slack.ui.reminders import credential_buttons
from flows import catalog
from flows.base import VerifyResult
from tests.bot_fixtures import RunningBot, install
from tests.platforms import wix
from tests.slack_standin import SlackSender

pytest_plugins = ("tests.bot_fixtures",)

HOME_TEAM, OTHER_TEAM = "T0HOMEWS1", "T0OTHERWS"
SAME_USER = "U0SAMEID1"  # the same id in both workspaces


@pytest.fixture(scope="module")
def two(oauth_bot: RunningBot) -> RunningBot:
    install(oauth_bot, HOME_TEAM)
    install(oauth_bot, OTHER_TEAM)
    return oauth_bot


@pytest.fixture
def victim(two: RunningBot) -> Iterator[Any]:
    """A credential of the other workspace, owned by a person with the attacker's user id."""
    values = {**wix.good_values(), "account_id": wix.ACCOUNT}
    info = two.runtime.store.save(
        team_id=OTHER_TEAM, user_id=SAME_USER, flow=catalog.get("wix"), values=values,
        result=VerifyResult(ok=True, store_name="Other Workspace Shop",
                            expires_at=datetime.now(UTC) + timedelta(days=5)),
    ).credential
    two.standin.reset()
    yield info
    two.runtime.store.delete(info.id, actor="test")


def attacker(bot: RunningBot) -> SlackSender:
    return bot.slack.in_team(HOME_TEAM).as_user(SAME_USER)


def unchanged(bot: RunningBot, before: Any) -> None:
    now = bot.runtime.store.get(before.id)
    assert now is not None, "deleted by a stranger"
    assert (now.snoozed_until, now.reminders_stopped, now.version) == (
        before.snoozed_until, before.reminders_stopped, before.version
    )


def texts(bot: RunningBot) -> str:
    return json.dumps([c.args for c in bot.standin.calls], ensure_ascii=False)


def test_list_and_home_show_nothing_of_the_other_workspace(two: RunningBot, victim: Any) -> None:
    me = attacker(two)
    sent = me.command("list")
    assert sent.status == 200
    listed = two.standin.reply_to(sent)
    assert me.app_home_opened().status == 200
    (home,) = two.standin.wait_for(
        "views.publish", where=lambda c: c.args.get("user_id") == me.user_id
    )
    shown = texts(two) + json.dumps(listed.args, ensure_ascii=False)  # in the ack or after
    assert "Other Workspace Shop" not in shown and victim.id not in shown
    assert victim.masked not in shown
    assert home.team_id == HOME_TEAM and listed is not None


@pytest.mark.parametrize("action_id", [
    ids.REMINDER_DELETE, ids.REMINDER_SNOOZE_DAY, ids.REMINDER_SNOOZE_WEEK, ids.REMINDER_STOP,
    ids.REMINDER_ROTATE,
])
def test_forged_reminder_buttons_are_refused(
    two: RunningBot, victim: Any, action_id: str
) -> None:
    forged = [credential_buttons(victim, block_id="forged").to_dict()]
    sent = attacker(two).click(forged, action_id)
    assert sent.status == 200
    note = two.standin.reply_to(sent)
    assert "Only the person who stored this key" in note.args["text"]
    unchanged(two, victim)
    # No rotation form about someone else's key, no mention of it anywhere.
    assert not two.standin.calls_to("views.open")
    assert "Other Workspace Shop" not in texts(two)


def test_a_forged_list_delete_and_its_confirmation_are_refused(
    two: RunningBot, victim: Any
) -> None:
    me = attacker(two)
    button = {"type": "actions", "block_id": "forged", "elements": [{
        "type": "button", "action_id": ids.LIST_DELETE, "text": {"type": "plain_text",
                                                                   "text": "Delete"},
        "value": json.dumps({"id": victim.id, "label": "forged"})}]}
    sent = me.click([button], ids.LIST_DELETE)
    assert sent.status == 200
    opened = two.standin.opened_by(sent)
    view_id = opened.response["view"]["id"]
    reply = me.submit(view_id, {})
    assert reply.status == 200
    # Someone else's key looks exactly like a missing one.
    assert "no longer stored" in json.dumps(reply.json())
    unchanged(two, victim)


def test_the_owner_in_the_right_workspace_still_can(two: RunningBot, victim: Any) -> None:
    """The refusals above are about the workspace, not a broken button."""
    owner = two.slack.in_team(OTHER_TEAM).as_user(SAME_USER)
    forged = [credential_buttons(victim, block_id="b").to_dict()]
    sent = owner.click(forged, ids.REMINDER_SNOOZE_WEEK)
    assert sent.status == 200
    two.standin.reply_to(sent)
    assert two.runtime.store.get(victim.id).snoozed_until is not None


def test_a_forged_enterprise_does_not_reach_a_grid_workspaces_credential(
    two: RunningBot, victim: Any
) -> None:
    """Same team and user ids, another (claimed) Grid org: still not the owner."""
    values = {**wix.good_values(), "account_id": wix.ACCOUNT}
    grid = two.runtime.store.save(
        team_id=HOME_TEAM, user_id="U0GRIDOWN", enterprise_id="E0REALORG", flow=catalog.get("wix"),
        values=values, result=VerifyResult(ok=True, store_name="Grid Shop"),
    ).credential
    try:
        stranger = two.slack.in_team(HOME_TEAM).as_user("U0GRIDOWN")  # no enterprise
        sent = stranger.click([credential_buttons(grid, block_id="g").to_dict()],
                              ids.REMINDER_DELETE)
        assert sent.status == 200
        two.standin.reply_to(sent)
        assert two.runtime.store.get(grid.id) is not None
    finally:
        two.runtime.store.delete(grid.id, actor="test")
