"""The reminder DM's buttons, pressed through signed requests to the running bot: the app is
served over HTTP, talks to the local Slack, and stores in a fresh database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.slack.ui import ids
from flows import catalog
from flows.base import VerifyResult
from tests import builders
from tests.platforms import wix
from tests.reminder_driver import Driver
from tests.slack_standin import Call, Reply, find_element

if TYPE_CHECKING:
    from tests.bot_fixtures import RunningBot

pytest_plugins = ("tests.bot_fixtures",)

STRANGER = "U0STRANGR"


def store_key(bot: RunningBot) -> Any:
    """A key that expires in 20 days, its confirmation already sent."""
    return builders.store_key(bot, expires_in=timedelta(days=20), told=True)


def sweep(bot: RunningBot, *, days: float) -> list[Any]:
    """A sweep as if `days` had passed; what it sent to this test's person. (The bot and its
    database are shared by the module's tests, each with its own person.)"""
    reminders = Driver(
        bot.runtime.store, bot.standin.api_url, bot.runtime.settings.secret("slack_bot_token"),
        bot.runtime.clock,
    )
    sent = reminders.sweep(datetime.now(UTC) + timedelta(days=days))
    return [s for s in sent if s.owner == bot.slack.user_id]


def reminder_dm(bot: RunningBot) -> list[dict[str, Any]]:
    """The reminder the owner received (the 14-day one), as Slack holds it."""
    sent = sweep(bot, days=6.01)
    assert [s.stage for s in sent] == ["expiry-14d"]
    mine = "D" + bot.slack.user_id[1:]
    dms = [c for c in bot.standin.calls_to("chat.postMessage") if c.args["channel"] == mine]
    return dms[-1].args["blocks"]


def response(bot: RunningBot, sent: Reply) -> Call:
    """The answer to the click `sent` (through its own response_url)."""
    return bot.standin.reply_to(sent)


def no_secret_anywhere(bot: RunningBot) -> None:
    for call in bot.standin.calls:
        assert wix.KEY.encode() not in call.raw, call.method


def test_snooze_one_day_delays_the_next_reminder(bot: RunningBot) -> None:
    info = store_key(bot)
    dm = reminder_dm(bot)
    sent = bot.slack.click(dm, ids.REMINDER_SNOOZE_DAY)
    assert sent.status == 200
    note = response(bot, sent)
    assert note.args["replace_original"] is True
    assert "Snoozed" in note.args["text"]
    after = bot.runtime.store.get(info.id)
    assert after.snoozed_until is not None
    left = after.snoozed_until - datetime.now(UTC)
    assert timedelta(hours=23) < left <= timedelta(days=1)
    # "Until when" is a Slack date token for the snooze's end, shown in the reader's zone.
    assert f"<!date^{int(after.snoozed_until.timestamp())}^" in json.dumps(note.args["blocks"])
    no_secret_anywhere(bot)


def test_snooze_one_week(bot: RunningBot) -> None:
    info = store_key(bot)
    response(bot, bot.slack.click(reminder_dm(bot), ids.REMINDER_SNOOZE_WEEK))
    left = bot.runtime.store.get(info.id).snoozed_until - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < left <= timedelta(weeks=1)
    # Nothing during the week, then the reminder comes back.
    assert sweep(bot, days=6.9) == []
    back = sweep(bot, days=7.01)
    assert len(back) == 1 and back[0].stage.startswith("expiry-")


def test_stop_reminding_silences_the_key(bot: RunningBot) -> None:
    info = store_key(bot)
    sent = bot.slack.click(reminder_dm(bot), ids.REMINDER_STOP)
    assert "Reminders stopped" in response(bot, sent).args["text"]
    assert bot.runtime.store.get(info.id).reminders_stopped
    assert sweep(bot, days=30) == []


def test_delete_asks_first_then_forgets_the_key(bot: RunningBot) -> None:
    info = store_key(bot)
    dm = reminder_dm(bot)
    _, button = find_element(dm, ids.REMINDER_DELETE)
    assert button["confirm"]["title"]["text"] == "Delete this key?"
    sent = bot.slack.click(dm, ids.REMINDER_DELETE)
    assert "Deleted" in response(bot, sent).args["text"]
    assert bot.runtime.store.get(info.id) is None
    assert sweep(bot, days=30) == []


def test_buttons_refuse_anyone_but_the_owner(bot: RunningBot) -> None:
    info = store_key(bot)
    dm = reminder_dm(bot)
    stranger = bot.person(STRANGER)
    pressed = (ids.REMINDER_SNOOZE_DAY, ids.REMINDER_SNOOZE_WEEK, ids.REMINDER_STOP,
               ids.REMINDER_DELETE, ids.REMINDER_ROTATE)
    for action in pressed:
        sent = stranger.click(dm, action)
        assert sent.status == 200
        refusal = response(bot, sent)
        assert refusal.args["response_type"] == "ephemeral"
        assert refusal.args["replace_original"] is False
        assert "Only the person who stored this key" in refusal.args["text"]
    after = bot.runtime.store.get(info.id)
    assert after is not None and not after.reminders_stopped and after.snoozed_until is None
    assert bot.standin.calls_to("views.open") == []


def test_rotate_now_opens_the_form_bound_to_the_key_and_restarts_the_schedule(
    bot: RunningBot,
) -> None:
    info = store_key(bot)
    sent = bot.slack.click(reminder_dm(bot), ids.REMINDER_ROTATE)
    opened = bot.standin.opened_by(sent)
    view = opened.args["view"]
    assert view["callback_id"] == ids.FORM_VIEW
    meta = json.loads(view["private_metadata"])
    assert meta["credential"] == info.id and meta["flow"] == "wix"
    # The store's non-secret identifier is filled in; the key field is empty.
    fields = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert fields[ids.field_block("account_id")]["initial_value"] == wix.ACCOUNT
    assert "initial_value" not in fields[ids.field_block("api_key")]
    view_id = next(k for k, v in bot.standin.views.items()
                   if v.get("private_metadata") == view["private_metadata"])
    bot.slack.submit(view_id, {ids.field_block("api_key"): wix.KEY,
                               ids.field_block("account_id"): wix.ACCOUNT})
    bot.standin.updated(view_id)
    after = bot.runtime.store.get(info.id)
    assert after.version == info.version + 1 and after.rotated_at is not None
    # The replaced key starts a new schedule: the old 14-day reminder does not come back.
    assert sweep(bot, days=6.5) == []
    no_secret_anywhere(bot)


def test_a_button_for_a_deleted_key_says_so(bot: RunningBot) -> None:
    info = store_key(bot)
    dm = reminder_dm(bot)
    bot.runtime.store.delete(info.id, actor="test")
    sent = bot.slack.click(dm, ids.REMINDER_SNOOZE_DAY)
    assert "no longer stored" in response(bot, sent).args["text"]


def test_rotating_with_a_key_for_another_store_keeps_the_old_one_and_says_so(
    bot: RunningBot,
) -> None:
    # The stored key belongs to another Wix account than the one the new key verifies for.
    other = "0a0a0a0a-1111-4222-8333-444455556666"
    old = bot.runtime.store.save(
        team_id=bot.slack.team_id, user_id=bot.slack.user_id, flow=catalog.get("wix"),
        values={**wix.good_values(), "account_id": other},
        result=VerifyResult(ok=True, store_name="Old Shop",
                            expires_at=datetime.now(UTC) + timedelta(days=20)),
    ).credential
    sent = bot.slack.click(reminder_dm(bot), ids.REMINDER_ROTATE)
    opened = bot.standin.opened_by(sent)
    meta = opened.args["view"]["private_metadata"]
    view_id = next(k for k, v in bot.standin.views.items() if v.get("private_metadata") == meta)
    bot.slack.submit(view_id, {ids.field_block("api_key"): wix.KEY,
                               ids.field_block("account_id"): wix.ACCOUNT})
    update = bot.standin.updated(view_id)
    text = json.dumps(update.args["view"])
    assert "different store" in text and "Old Shop" in text
    still = bot.runtime.store.get(old.id)
    assert still is not None and still.version == old.version
    no_secret_anywhere(bot)
