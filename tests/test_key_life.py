"""One key's whole life through the real app and the local Slack (issue 19): asked for an
import into BigCommerce, refused with a read-only account (naming the scopes to set to Modify),
accepted with a Modify account, "still needed?" three days before its end date, Done, the
revocation steps, deleted. The recorded Slack messages are printed (-s) for the record."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.slack.ui import ids
from tests.bot_fixtures import BOT_TOKEN, start_bot
from tests.platforms import bigcommerce as bc
from tests.reminder_driver import Driver
from tests.slack_standin import SlackStandIn

FIELDS = {"field.store_hash": bc.HASH, "field.credentials_file": ""}


def _said(call) -> str:
    return call.args.get("text", "") + " " + json.dumps(
        call.args.get("blocks") or (call.args.get("view") or {}).get("blocks"), ensure_ascii=False)


def _submit(bot, view_id: str, token: str, until: str) -> None:
    payload = bot.slack.view_payload(view_id, {**FIELDS, "field.access_token": token,
                                               ids.PURPOSE_BLOCK: "write"})
    state = payload["view"]["state"]["values"]
    state[ids.NEEDED_UNTIL_BLOCK] = {ids.FIELD_VALUE: {"type": "datepicker",
                                                       "selected_date": until}}
    bot.slack.deliver_submission(payload)


def test_a_keys_whole_life(tmp_path) -> None:
    with SlackStandIn(bot_token=BOT_TOKEN) as standin, bc.BigCommerceServer() as server:
        bot, stop = start_bot(tmp_path, standin, [server])
        try:
            life(bot)
        finally:
            stop()


def life(bot) -> None:
    record: list[str] = []
    guide = bot.slack.command("bigcommerce").json()
    record.append("guide: " + guide.get("text", ""))
    opened = bot.standin.opened_by(bot.slack.click(guide["blocks"], ids.OPEN_FORM))
    view_id = opened.response["view"]["id"]
    until = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()

    _submit(bot, view_id, bc.READ_ONLY_TOKEN, until)
    refused = bot.standin.updated(view_id)
    said = _said(refused)
    assert "Content: Modify" in said and "Products: Modify" in said and "*Modify*" in said
    record.append("refused: " + said)
    assert bot.runtime.store.list_for_user(bot.slack.team_id, bot.slack.user_id) == []

    _submit(bot, view_id, bc.TOKEN, until)
    record.append("accepted: " + _said(bot.standin.updated(view_id, 2)))
    (info,) = bot.runtime.store.list_for_user(bot.slack.team_id, bot.slack.user_id)
    assert info.purpose == "write" and info.needed_until is not None
    assert bot.platforms["bigcommerce"].writes == []

    driver = Driver(bot.runtime.store, bot.standin.api_url,
                    bot.runtime.settings.secret("slack_bot_token"), bot.runtime.clock)
    sent = driver.sweep(datetime.now(UTC) + timedelta(days=8, hours=1))
    assert [s.stage for s in sent] == ["end-ask"]
    (ask,) = [c for c in bot.standin.calls_to("chat.postMessage")
              if "Still needed" in c.args.get("text", "")]
    record.append("still needed: " + _said(ask))

    done = bot.standin.reply_to(bot.slack.click(ask.args["blocks"], ids.END_DONE))
    said = _said(done)
    assert "Store-level API accounts" in said and "deleted its copy" in said
    record.append("done, revocation steps, deleted: " + said)
    assert bot.runtime.store.get(info.id) is None
    assert bot.runtime.store.changes_since(bot.slack.team_id)[-1].type == "credential.deleted"
    for call in bot.standin.calls:
        assert bc.TOKEN.encode() not in call.raw and bc.READ_ONLY_TOKEN.encode() not in call.raw
    print("\n\n".join(record))
