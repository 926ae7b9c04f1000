"""Issue 9, identity: who acts is read only from the field Slack documents for each payload type.

Slack documents `user.id` / `team.id` for interactions (block_actions, view_submission),
`user_id` / `team_id` for slash commands, and `event.user` for events. Every request here is
correctly signed (the edge lets it through), but carries a forged top-level `user_id` naming the
owner of a stored key while the documented field names a stranger. The old code
(bot.slack.listeners.user_and_team) read `body["user_id"]` first for every payload type, so such a
payload acted as the owner.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import TYPE_CHECKING, Any

from bot.slack.ui import ids
from bot.slack.ui.reminders import reminder_message
from flows import catalog
from flows.base import VerifyResult
from tests.platforms import wix as wix_platform
from tests.resilience_support import assert_secret_nowhere, capturing, fields, open_form
from tests.slack_standin import APP_ID, TEAM_ID, SlackSender, find_element
from tests.slack_standin import visible_text as visible

if TYPE_CHECKING:
    from tests.bot_fixtures import RunningBot

pytest_plugins = ("tests.bot_fixtures",)

_strangers = itertools.count(1)


def new_stranger() -> str:
    """A user id nobody in the module's shared bot has used."""
    return f"U{next(_strangers):03d}STRNGR"
NOT_YOURS = "Only the person who stored this key can act on it"


def store_key(bot: RunningBot) -> Any:
    """The test's person (the owner) has a verified Wix key, and was told so."""
    result = VerifyResult(ok=True, store_name="The Plant Shop")
    store = bot.runtime.store
    info = store.save(
        team_id=bot.slack.team_id, user_id=bot.slack.user_id, flow=catalog.get("wix"),
        values=wix_platform.good_values(), result=result,
    ).credential  # fmt: skip
    for item in store.outbox_pending(info.id):
        store.outbox_sent(item.id)  # as if the "stored" DM went out then
    return info


def forged(sender: SlackSender, payload: dict[str, Any], owner: str) -> dict[str, Any]:
    """The payload as `sender` (a stranger) would send it, plus top-level fields naming the
    owner: fields Slack does not send for this payload type."""
    return {**payload, "user_id": owner, "team_id": TEAM_ID}


def click_payload(sender: SlackSender, blocks: list[dict[str, Any]], action_id: str) -> dict:
    block_id, element = find_element(blocks, action_id)
    return {
        **sender._interaction_base("block_actions"),
        "container": {"type": "message", "message_ts": "1700000000.000100",
                      "channel_id": "D" + sender.user_id[1:], "is_ephemeral": False},
        "channel": {"id": "D" + sender.user_id[1:], "name": "directmessage"},
        "response_url": sender.standin.response_url(),
        "actions": [{"action_id": action_id, "block_id": block_id, "type": "button",
                     "value": element.get("value"), "action_ts": f"{time.time():.6f}"}],
        "state": {"values": {}},
    }


def test_a_forged_user_id_on_a_reminder_button_does_not_act_for_the_owner(bot) -> None:
    """A stranger presses Delete on a copy of the owner's reminder DM, with `user_id` set to the
    owner: refused with "only the person who stored this key", and the key stays.
    The old code deleted the owner's key."""
    info = store_key(bot)
    blocks = reminder_message(info, "rotation-due", bot.runtime.clock())["blocks"]
    who = new_stranger()
    stranger = bot.person(who)
    payload = forged(stranger, click_payload(stranger, blocks, ids.REMINDER_DELETE),
                     bot.slack.user_id)
    sent = stranger.post_payload(payload)
    assert sent.status == 200
    told = bot.standin.reply_to(sent)
    assert NOT_YOURS in told.args["text"]
    assert bot.runtime.store.get(info.id) is not None
    assert [c.id for c in bot.runtime.store.list_for_user(TEAM_ID, bot.slack.user_id)] == [info.id]
    assert_secret_nowhere(wix_platform.KEY, logs="", standin=bot.standin)


def test_a_forged_user_id_on_the_delete_confirmation_does_not_delete(bot) -> None:
    """A stranger submits the "Delete this key?" modal for the owner's key id with `user_id`
    set to the owner: the modal says there is nothing to delete, and the key stays.
    The old code deleted it (the ownership check compared the forged owner with the owner)."""
    info = store_key(bot)
    who = new_stranger()
    stranger = bot.person(who)
    view_id = bot.standin.next_id("V")
    payload = {
        **stranger._interaction_base("view_submission"),
        "view": {
            "id": view_id, "hash": bot.standin.next_id("h"), "type": "modal",
            "callback_id": ids.CONFIRM_DELETE_VIEW, "team_id": TEAM_ID, "app_id": APP_ID,
            "private_metadata": json.dumps({"credential": info.id, "channel": None}),
            "blocks": [], "state": {"values": {}}, "root_view_id": view_id,
        },
        "response_urls": [],
    }  # fmt: skip
    reply = stranger.post_payload(forged(stranger, payload, bot.slack.user_id))
    assert reply.status == 200
    ack = reply.json()
    assert ack["response_action"] == "update"
    assert "Nothing to delete" in visible(ack["view"])
    assert bot.runtime.store.get(info.id) is not None


def test_a_forged_user_id_on_a_form_submission_stores_for_the_sender_only(bot) -> None:
    """A stranger submits a Wix key through their own form with `user_id` set to the owner:
    the key is stored as the stranger's, and the owner's keys are untouched (no key appears
    in, or replaces one in, the owner's list; no DM to the owner).
    The old code stored it as the owner's, replacing the owner's key for that store."""
    mine = store_key(bot)
    who = new_stranger()
    stranger = bot.person(who)
    view_id = open_form(stranger, "wix")
    payload = stranger.view_payload(view_id, fields(wix_platform.good_values()))

    def to_stranger(c: Any) -> bool:
        return c.args.get("channel") == "D" + who[1:]

    with capturing() as logs:
        reply = stranger.deliver_submission(forged(stranger, payload, bot.slack.user_id))
        bot.standin.wait_for("chat.postMessage", where=to_stranger)
    assert reply.json()["response_action"] == "update"
    (done,) = bot.standin.wait_for("views.update", where=lambda c: c.args["view_id"] == view_id)
    assert "Wix key verified" in visible(done.args["view"])
    store = bot.runtime.store
    assert [c.id for c in store.list_for_user(TEAM_ID, bot.slack.user_id)] == [mine.id]
    (theirs,) = store.list_for_user(TEAM_ID, who)
    assert theirs.id != mine.id
    assert store.get(mine.id).status == mine.status  # the owner's key is as it was
    bot.standin.wait_for("chat.postMessage", where=to_stranger)
    time.sleep(0.3)
    owner_dm = "D" + bot.slack.user_id[1:]
    assert all(c.args["channel"] != owner_dm for c in bot.standin.calls_to("chat.postMessage"))
    assert_secret_nowhere(wix_platform.KEY, logs=logs.text, standin=bot.standin,
                          db_path=bot.db_path)


def test_a_slash_command_is_read_from_user_id_and_team_id(bot) -> None:
    """`/getkey list` answers for the command's `user_id` in its `team_id`: the owner sees their
    key; the same user id sent from another workspace sees nothing, and a stray `user` field
    naming a stranger changes nothing. (Slash commands carry only these flat fields; this
    guards that reading interactions from `user.id` did not break commands.)"""
    info = store_key(bot)
    fields_ = bot.slack.command_fields("list")
    sent = bot.slack.post_form({**fields_, "user": new_stranger()})
    assert sent.status == 200
    listed = bot.standin.reply_to(sent)
    assert info.store_name in visible(listed.args) and "1 stored key" in listed.args["text"]

    other_team = {**bot.slack.command_fields("list"), "team_id": "T0OTHERWS"}
    sent = bot.slack.post_form(other_team)
    assert sent.status == 200
    elsewhere = bot.standin.reply_to(sent)
    assert "no stored keys" in elsewhere.args["text"]


def test_the_home_tab_is_built_for_the_event_user(bot) -> None:
    """app_home_opened is read from `event.user`: a forged top-level `user_id` naming the owner
    publishes the stranger's (empty) Home tab, never the owner's keys to the stranger."""
    store_key(bot)
    who = new_stranger()
    stranger = bot.person(who)
    event = {"type": "app_home_opened", "user": who, "channel": "D" + who[1:],
             "tab": "home", "event_ts": f"{time.time():.6f}"}
    body = {
        "token": "legacy-verification-token", "team_id": TEAM_ID, "api_app_id": APP_ID,
        "event": event, "type": "event_callback", "event_id": bot.standin.next_id("Ev"),
        "event_time": int(time.time()), "user_id": bot.slack.user_id,
    }  # fmt: skip
    assert stranger.post(json.dumps(body), "application/json").status == 200
    (published,) = bot.standin.wait_for(
        "views.publish", where=lambda c: c.args.get("user_id") == who
    )
    assert "The Plant Shop" not in visible(published.args["view"])
    owner = bot.slack.user_id
    assert not [c for c in bot.standin.calls_to("views.publish") if c.args["user_id"] == owner]
