"""The App Home tab, through signed Events API and interactivity requests to the running bot."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.slack.ui import ids
from bot.slack.ui.reminders import credential_buttons
from tests.builders import store_key
from tests.platforms import wix
from tests.slack_standin import APP_ID, Reply, find_element

if TYPE_CHECKING:
    from tests.bot_fixtures import RunningBot

pytest_plugins = ("tests.bot_fixtures",)


def open_home(bot: RunningBot, count: int = 1) -> dict[str, Any]:
    assert bot.slack.app_home_opened().status == 200
    published = bot.standin.wait_for(
        "views.publish", count, where=lambda c: c.args.get("user_id") == bot.slack.user_id
    )
    assert wix.KEY.encode() not in published[-1].raw
    return published[-1].args["view"]


def texts(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_home_lists_the_persons_keys_with_status_and_buttons(bot: RunningBot) -> None:
    mine = store_key(bot, expires_in=timedelta(days=40))
    other_account = "0b9a8c7d-1e2f-4a3b-9c8d-7e6f5a4b3c2d"
    store_key(bot, None, None, "Second Shop", account=other_account, expires_in=timedelta(days=5))
    store_key(bot, None, "U0SOMEONE", "Not Mine Shop", expires_in=timedelta(days=40))
    view = open_home(bot)
    assert view["type"] == "home"
    shown = texts(view)
    assert "The Plant Shop" in shown and "Second Shop" in shown
    assert "Not Mine Shop" not in shown
    assert mine.masked in shown and wix.KEY[-4:] in shown
    assert "verified" in shown and "expiring soon" in shown
    _, rotate = find_element(view["blocks"], ids.REMINDER_ROTATE)
    assert rotate["text"]["text"] == "Rotate now"
    values = {e["value"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert mine.id in values and len(values) == 2
    actions = [e["action_id"] for b in view["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert actions.count(ids.REMINDER_SNOOZE_WEEK) == 2 and actions.count(ids.REMINDER_DELETE) == 2


def test_home_for_someone_with_no_keys_explains_how_to_start(bot: RunningBot) -> None:
    view = open_home(bot)
    assert "no keys stored" in texts(view) and "/getkey" in texts(view)


def test_messages_tab_does_not_publish(bot: RunningBot) -> None:
    body = {"type": "app_home_opened", "user": bot.slack.user_id, "tab": "messages",
            "channel": "D" + bot.slack.user_id[1:], "event_ts": f"{time.time():.6f}"}
    assert bot.slack.event(body).status == 200
    # The home tab afterwards is the only publish this person gets.
    open_home(bot)
    published = [c for c in bot.standin.calls_to("views.publish")
                 if c.args.get("user_id") == bot.slack.user_id]
    assert len(published) == 1


def press_on_home(bot: RunningBot, view: dict[str, Any], action_id: str, value: str) -> int:
    """A button press on the Home tab; its HTTP status."""
    return home_press(bot, view, action_id, value).status


def home_press(bot: RunningBot, view: dict[str, Any], action_id: str, value: str) -> Reply:
    """A button press on the Home tab: the payload carries the view, not a message."""
    block_id = next(b["block_id"] for b in view["blocks"] if b["type"] == "actions"
                    and any(e["value"] == value and e["action_id"] == action_id
                            for e in b["elements"]))
    payload = {
        "type": "block_actions",
        "user": {"id": bot.slack.user_id, "team_id": bot.slack.team_id},
        "team": {"id": bot.slack.team_id},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": bot.standin.issue_trigger(),
        "container": {"type": "view", "view_id": "V0HOME"},
        "view": {**view, "id": "V0HOME", "type": "home"},
        "actions": [{"action_id": action_id, "block_id": block_id, "type": "button",
                     "value": value, "action_ts": f"{time.time():.6f}"}],
    }
    return bot.slack.post_payload(payload)


def test_a_snooze_pressed_on_home_refreshes_the_tab(bot: RunningBot) -> None:
    info = store_key(bot, expires_in=timedelta(days=40))
    view = open_home(bot)
    assert press_on_home(bot, view, ids.REMINDER_SNOOZE_WEEK, info.id) == 200
    published = bot.standin.wait_for(
        "views.publish", 2, where=lambda c: c.args.get("user_id") == bot.slack.user_id
    )
    assert "snoozed until" in texts(published[-1].args["view"])
    assert bot.runtime.store.get(info.id).snoozed_until is not None


def test_a_strangers_press_on_a_copied_home_view_is_refused(bot: RunningBot) -> None:
    info = store_key(bot, None, "U0OWNER99", expires_in=timedelta(days=40))
    view = open_home(bot)  # the stranger's own (empty) home...
    # ...with the owner's buttons forged into it.
    view["blocks"] = view["blocks"] + [credential_buttons(info, block_id="forged").to_dict()]
    pressed = home_press(bot, view, ids.REMINDER_DELETE, info.id)
    assert pressed.status == 200
    note = bot.standin.opened_by(pressed)
    assert "Only the person who stored this key" in json.dumps(note.args["view"])
    assert bot.runtime.store.get(info.id) is not None
