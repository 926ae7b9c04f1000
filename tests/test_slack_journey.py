"""Issue 4's journey through the local Slack and a local Wix: guide → button → modal → format
error inline → wrong key (failure, nothing stored) → good key (verified, stored, DM) →
/getkey list shows it masked → delete. Then the raw secret is searched for everywhere."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import timedelta

import pytest

from bot.slack.ui import ids
from tests.platforms import wix as wix_platform
from tests.slack_standin import check_everything_sent, check_message, check_view, find_element
from tests.slack_standin import visible_text as visible

pytest_plugins = ("tests.bot_fixtures",)

SECRET = wix_platform.KEY
FIELD_KEY = ids.field_block("api_key")
FIELD_ACCOUNT = ids.field_block("account_id")
FIELD_SITE = ids.field_block("site_id")




def open_wix_form(bot) -> str:
    """/getkey wix, press the guide's button; returns the opened modal's view id."""
    guide = bot.slack.command("wix").json()
    reply = bot.slack.click(guide["blocks"], ids.OPEN_FORM)
    assert reply.status == 200
    opened = bot.standin.opened_by(reply)
    assert opened.response["ok"], opened.response  # the trigger was still valid
    return opened.response["view"]["id"]


def good(**overrides: str) -> dict[str, str]:
    values = {FIELD_KEY: SECRET, FIELD_ACCOUNT: wix_platform.ACCOUNT, FIELD_SITE: ""}
    values.update(overrides)
    return values


def updates_of(bot, view_id: str) -> list:
    return [c for c in bot.standin.calls_to("views.update") if c.args["view_id"] == view_id]


def test_full_journey_and_the_secret_never_leaks(bot, caplog):
    caplog.set_level(logging.DEBUG)
    store = bot.runtime.store
    team, user = bot.slack.team_id, bot.slack.user_id

    # Guide → button → modal with the flow's fields; no secret ever pre-filled.
    view_id = open_wix_form(bot)
    form = bot.standin.views[view_id]
    inputs = {b["block_id"]: b for b in form["blocks"] if b["type"] == "input"}
    assert set(inputs) == {FIELD_KEY, FIELD_ACCOUNT, FIELD_SITE, ids.ROTATION_BLOCK,
                           ids.PURPOSE_BLOCK, ids.NEEDED_UNTIL_BLOCK}
    # The rotation period offers Wix's default first.
    rotation = inputs[ids.ROTATION_BLOCK]["element"]
    assert rotation["initial_option"]["text"]["text"] == "Default: every 180 days"
    assert inputs[FIELD_KEY]["element"]["type"] == "plain_text_input"
    assert "initial_value" not in inputs[FIELD_KEY]["element"]
    assert inputs[FIELD_SITE].get("optional") is True
    meta = json.loads(form["private_metadata"])
    assert meta == {"flow": "wix", "credential": None, "channel": bot.slack.channel_id}

    # A format mistake comes back inline on the field, at once; nothing is verified.
    reply = bot.slack.submit(view_id, good(**{FIELD_KEY: "IST.only-one-part"}))
    ack = reply.json()
    assert ack["response_action"] == "errors"
    assert set(ack["errors"]) == {FIELD_KEY}
    assert "IST." in ack["errors"][FIELD_KEY]
    assert bot.platforms["wix"].requests == []

    # Swapped fields: the account ID box holds the key.
    ack = bot.slack.submit(view_id, good(**{FIELD_ACCOUNT: SECRET})).json()
    assert ack["response_action"] == "errors" and FIELD_ACCOUNT in ack["errors"]
    assert SECRET not in json.dumps(ack)

    # Well-formed but wrong key: "Verifying…" at once, then the form again with the cause.
    wrong = SECRET[:-3] + "zzz"
    ack = bot.slack.submit(view_id, good(**{FIELD_KEY: wrong, ids.ROTATION_BLOCK: "30"})).json()
    assert ack["response_action"] == "update"
    assert "Checking the key with Wix" in visible(check_view(ack["view"]))
    failed = bot.standin.updated(view_id)
    failure_view = check_view(failed.args["view"])
    assert failed.args["view_id"] == view_id
    shown = visible(failure_view)
    assert "Wix did not accept this key" in shown and "Generate a new key" in shown
    assert "Nothing was stored" in shown
    again = {b["block_id"]: b for b in failure_view["blocks"] if b["type"] == "input"}
    assert "initial_value" not in again[FIELD_KEY]["element"]  # the secret is not put back
    assert again[FIELD_ACCOUNT]["element"]["initial_value"] == wix_platform.ACCOUNT
    # The period chosen survives the failure.
    assert again[ids.ROTATION_BLOCK]["element"]["initial_option"]["value"] == "30"
    assert store.list_for_user(team, user) == []
    assert bot.standin.calls_to("chat.postMessage") == []

    # The good key: verified, stored, result view, DM.
    bot.standin.reset()
    ack = bot.slack.submit(view_id, good(**{ids.ROTATION_BLOCK: "30"})).json()
    assert ack["response_action"] == "update", ack
    done = bot.standin.updated(view_id)
    result = visible(check_view(done.args["view"]))
    assert "Wix key verified" in result
    assert "The Plant Shop" in result
    assert "site list" in result  # permissions found
    assert "••••••" + SECRET[-4:] in result
    assert "Next reminder" in result and "<!date^" in result
    (stored,) = store.list_for_user(team, user)
    assert stored.platform == "wix" and stored.store_name == "The Plant Shop"
    assert stored.status == "verified" and stored.next_reminder_at is not None
    # The rotation period the person chose, not Wix's 180 days.
    assert stored.rotation_days == 30
    assert stored.rotation_due_at - stored.verified_at == timedelta(days=30)
    # The DM that tells the person, in one call: posted to their user id, which Slack
    # delivers to the app's conversation with them.
    (dm,) = bot.standin.wait_for(
        "chat.postMessage", where=lambda c: c.args.get("channel") == "D" + user[1:]
    )
    assert dm.sent_channel == user
    assert not bot.standin.calls_to("conversations.open")
    assert "verified" in dm.args["text"] and "The Plant Shop" in visible(dm.args["blocks"])

    # /getkey list shows it masked, with status and dates.
    listing_ack = bot.slack.command("list")
    assert listing_ack.status == 200
    listing = bot.standin.reply_to(listing_ack)
    check_message(listing.args)
    assert listing.args["response_type"] == "ephemeral"
    rows = visible(listing.args["blocks"])
    assert "Wix" in rows and "The Plant Shop" in rows and stored.masked in rows
    assert "verified" in rows and "next reminder" in rows
    find_element(listing.blocks, ids.LIST_DELETE)
    check_everything_sent(bot.standin)

    # The raw secret is nowhere: not in the database file (and its WAL), not in any call
    # the bot made to Slack, not in the logs.
    fragment = SECRET[20:52]
    for path in bot.db_path.parent.glob(bot.db_path.name + "*"):
        data = path.read_bytes()
        assert SECRET.encode() not in data and fragment.encode() not in data, path
    for call in bot.standin.calls:
        assert fragment.encode() not in call.raw, call.method
    for record in caplog.records:
        assert fragment not in record.getMessage()
        assert fragment not in json.dumps(record.__dict__, default=str)
    assert fragment not in caplog.text
    assert "verified" in caplog.text  # the logs do describe what happened


def test_nothing_is_stored_when_verification_fails_with_any_failure(bot):
    wix = bot.platforms["wix"]
    view_id = open_wix_form(bot)
    wix.fault = "server_error"
    # A key no earlier test submitted: identical submissions are answered from the last
    # check for a while, and this one must reach the failing server.
    bot.slack.submit(view_id, good(**{FIELD_KEY: SECRET[:-3] + "srv"}))
    failed = bot.standin.updated(view_id)
    shown = visible(check_view(failed.args["view"]))
    assert "Could not reach Wix" in shown and "try again" in shown.lower()
    assert bot.runtime.store.list_for_user(bot.slack.team_id, bot.slack.user_id) == []


def wait_for_log(caplog, message: str, count: int, timeout: float = 15.0, where=None) -> list:
    deadline = time.monotonic() + timeout
    while True:
        found = [
            r for r in caplog.records
            if r.getMessage() == message and (where is None or where(r))
        ]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_a_retried_submission_stores_once(bot, caplog):
    caplog.set_level(logging.INFO, logger="bot.slack.listeners.views")
    store = bot.runtime.store
    view_id = open_wix_form(bot)
    payload = bot.slack.view_payload(view_id, good())
    # Slack retries a submission it thinks was not acknowledged: same view, same hash.
    threads = [
        threading.Thread(target=bot.slack.deliver_submission, args=(payload,)) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Only this test's submissions (both store): the previous test's failed one may log late.
    finished = wait_for_log(
        caplog, "submission finished", count=2, where=lambda r: getattr(r, "stored", False)
    )
    assert sorted(r.duplicate for r in finished) == [False, True]
    (only,) = store.list_for_user(bot.slack.team_id, bot.slack.user_id)
    stored = [e for e in store.audit_events(only.id) if e.action in ("stored", "replaced")]
    assert len(stored) == 1
    # The DM is sent by the outbox after the log line: wait for it, then for any second one.
    bot.standin.dms(bot.slack.user_id)
    time.sleep(0.5)
    assert len(bot.standin.dms(bot.slack.user_id)) == 1
    assert only.version == 1


def test_submitting_again_replaces_the_key(bot):
    store = bot.runtime.store
    for _ in range(2):
        bot.standin.reset()
        view_id = open_wix_form(bot)
        bot.slack.submit(view_id, good())
        bot.standin.dms(bot.slack.user_id)
    (only,) = store.list_for_user(bot.slack.team_id, bot.slack.user_id)
    assert only.version == 2
    (dm,) = bot.standin.dms(bot.slack.user_id)
    assert "replaced" in visible(dm.args["blocks"])


def _store_one(bot) -> None:
    view_id = open_wix_form(bot)
    bot.slack.submit(view_id, good())
    bot.standin.dms(bot.slack.user_id)
    bot.standin.reset()


def test_delete_from_the_list_after_confirmation(bot):
    _store_one(bot)
    store = bot.runtime.store
    sent = bot.slack.command("list")
    listing = bot.standin.reply_to(sent)
    sent = bot.slack.click(listing.blocks, ids.LIST_DELETE)
    opened = bot.standin.opened_by(sent)
    assert opened.response["ok"]
    confirm = check_view(opened.args["view"])
    assert "Delete" in visible(confirm) and "The Plant Shop" in visible(confirm)
    assert store.list_for_user(bot.slack.team_id, bot.slack.user_id)  # not before confirming
    ack = bot.slack.submit(opened.response["view"]["id"], {}).json()
    assert ack["response_action"] == "update"
    assert "Deleted" in visible(check_view(ack["view"]))
    assert store.list_for_user(bot.slack.team_id, bot.slack.user_id) == []


def test_delete_by_number(bot):
    _store_one(bot)
    sent = bot.slack.command("delete 1")
    opened = bot.standin.opened_by(sent)
    bot.slack.submit(opened.response["view"]["id"], {})
    assert bot.runtime.store.list_for_user(bot.slack.team_id, bot.slack.user_id) == []


def test_delete_with_a_bad_number_explains(bot):
    _store_one(bot)
    sent = bot.slack.command("delete 7")
    said = bot.standin.reply_to(sent)
    assert "no key number 7" in said.args["text"] and "you have 1" in said.args["text"]
    assert bot.standin.calls_to("views.open") == []


def test_someone_else_cannot_delete_my_key(bot):
    _store_one(bot)
    sent = bot.slack.command("delete 1")
    opened = bot.standin.opened_by(sent)
    intruder = bot.person("U999INTRUDER")
    ack = intruder.submit(opened.response["view"]["id"], {}).json()
    assert "no longer stored" in visible(ack["view"])
    assert len(bot.runtime.store.list_for_user(bot.slack.team_id, bot.slack.user_id)) == 1


@pytest.mark.parametrize("text", ["list", "delete"])
def test_list_and_delete_with_nothing_stored(bot, text):
    sent = bot.slack.command(text)
    said = bot.standin.reply_to(sent)
    assert "no stored keys" in (said.args.get("text") or "") + visible(said.args.get("blocks"))
