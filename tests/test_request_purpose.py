"""A request fixes what the key is for and until when (issue 19), through the local Slack and a
local BigCommerce: the requester chooses (the Ask modal, or `for:`/`until:` before the note of
`/getkey request`, else the workspace's default purpose); the person asked sees both, cannot
change them, and their key is verified for that purpose and stored with that end date. A past
date is refused before anything is asked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.services.outcomes import Actor, Intent
from bot.services.requests import Draft
from bot.slack.ui import ids
from bot.slack.ui.intent import intent_from_words
from bot.store.admin import Defaults
from bot.store.sharing_models import CredentialRequest
from flows.purpose import Purpose
from tests.bot_fixtures import (
    RunningBot,
    bot_server_fixture,
    checked_bot_fixture,
    pending_stages,
    set_defaults,
)
from tests.platforms import bigcommerce as bc
from tests.slack_standin import visible_text as visible
from tests.test_requests import ask_submission

FIELDS = {ids.field_block("store_hash"): bc.HASH, ids.field_block("credentials_file"): ""}
PROVIDER = "U0HASSTORE"

bot_server = bot_server_fixture(platform=bc.BigCommerceServer)
bot = checked_bot_fixture(reset_defaults=True)


def day(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


def open_form(bot: RunningBot) -> tuple[str, dict[str, Any], Any]:
    """The provider's DM, then the form its button opens: (view id, view, the DM)."""
    (dm,) = bot.standin.dms(PROVIDER)
    sent = bot.person(PROVIDER).click(dm.args["blocks"], ids.OPEN_REQUEST_FORM)
    opened = bot.standin.opened_by(sent)
    return opened.response["view"]["id"], opened.args["view"], dm


def test_a_request_for_read_and_write_refuses_a_read_only_key_naming_the_scopes(bot):
    requester = bot.person("U0ASKWRITE")
    sent = requester.command(f"request <@{PROVIDER}|pat> bigcommerce for:write for the import")
    said = bot.standin.reply_to(sent)
    assert "for read and write (import" in said.args["text"]
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0ASKWRITE")
    # The words fixed the purpose and left the note as it was written.
    assert request.purpose == "write" and request.needed_until is None
    assert request.note == "for the import"
    listed = bot.standin.reply_to(requester.command("list"))
    assert f"asked of <@{PROVIDER}> for read and write" in visible(listed.args["blocks"])

    view_id, view, dm = open_form(bot)
    assert "*For:* read and write (import, sync in, integration)" in visible(dm.args["blocks"])
    # Shown, not choosable: no purpose or end-date input in the provider's form.
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert ids.PURPOSE_BLOCK not in blocks and ids.NEEDED_UNTIL_BLOCK not in blocks
    assert "read and write" in visible(blocks[ids.PURPOSE_FIXED_BLOCK])

    provider = bot.person(PROVIDER)
    provider.submit(view_id, {**FIELDS, ids.field_block("access_token"): bc.READ_ONLY_TOKEN})
    refused = visible(bot.standin.updated(view_id).args["view"])
    assert "Content: Modify" in refused and "Products: Modify" in refused
    # The form shown again still carries the request's purpose, not a choice.
    assert "read and write" in refused
    assert bot.runtime.store.list_for_user(bot.slack.team_id, "U0ASKWRITE") == []
    assert bot.runtime.store.get_request(request.id).state == "failed"

    provider.submit(view_id, {**FIELDS, ids.field_block("access_token"): bc.TOKEN})
    assert "key verified" in visible(bot.standin.updated(view_id, 2).args["view"])
    (stored,) = bot.runtime.store.list_for_user(bot.slack.team_id, "U0ASKWRITE")
    assert stored.purpose == "write" and stored.provided_by == PROVIDER
    assert bot.runtime.store.list_for_user(bot.slack.team_id, PROVIDER) == []
    # "Ask for a new one" asks for the same job.
    again = bot.runtime.requests.ask_again(stored.id, Actor(bot.slack.team_id, "U0ASKWRITE"))
    assert isinstance(again, Draft) and again.intent == Intent(Purpose.WRITE, None)
    for call in bot.standin.calls:
        assert bc.TOKEN.encode() not in call.raw and bc.READ_ONLY_TOKEN.encode() not in call.raw


def test_the_ask_modal_fixes_purpose_and_end_date_and_the_key_gets_no_rotation_reminder(bot):
    set_defaults(bot, Defaults(purpose="write"))  # the modal starts on the workspace's default
    requester = bot.person("U0ASKMODAL")
    sent = requester.click([{"type": "actions", "elements": [
        {"type": "button", "action_id": ids.HOME_ASK, "text": {"type": "plain_text",
                                                              "text": "Ask"}}]}], ids.HOME_ASK)
    opened = bot.standin.opened_by(sent)
    modal, view_id = opened.args["view"], opened.response["view"]["id"]
    purpose = next(b for b in modal["blocks"] if b.get("block_id") == ids.PURPOSE_BLOCK)
    assert purpose["element"]["initial_option"]["value"] == "write"

    until = day(200)
    payload = ask_submission(requester, view_id, user=PROVIDER, platform="bigcommerce",
                             note="the migration")
    state = payload["view"]["state"]["values"]
    state[ids.PURPOSE_BLOCK][ids.FIELD_VALUE]["selected_option"] = {"value": "read"}
    state[ids.NEEDED_UNTIL_BLOCK][ids.FIELD_VALUE]["selected_date"] = until
    requester.post_payload(payload)
    (told,) = bot.standin.dms("U0ASKMODAL")
    assert "needed until" in told.args["text"]
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0ASKMODAL")
    assert request.purpose == "read" and request.needed_until.date().isoformat() == until

    view_id, view, _ = open_form(bot)
    assert "read (export, audit, sync out), needed until" in json.dumps(view)
    # A read-only account is enough for reading.
    bot.person(PROVIDER).submit(view_id, {**FIELDS,
                                          ids.field_block("access_token"): bc.READ_ONLY_TOKEN})
    assert "key verified" in visible(bot.standin.updated(view_id).args["view"])
    (stored,) = bot.runtime.store.list_for_user(bot.slack.team_id, "U0ASKMODAL")
    assert stored.purpose == "read" and stored.needed_until.date().isoformat() == until
    # No rotation reminder (BigCommerce's period is 180 days, the end is 200 days away):
    # "still needed?" three days before the end, then the end itself.
    stages = pending_stages(bot, stored.id)
    assert stages and not any(s.startswith("rotation") for s in stages)
    assert "end-ask" in stages


def test_without_words_the_request_carries_the_workspace_default_and_no_end(bot):
    set_defaults(bot, Defaults(purpose="write"))
    bot.standin.reset()
    sent = bot.person("U0ASKPLAIN").command(f"request <@{PROVIDER}|pat> bigcommerce until the 5th")
    bot.standin.reply_to(sent)
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0ASKPLAIN")
    assert request.purpose == "write" and request.needed_until is None
    assert request.note == "until the 5th"  # an ordinary note stays a note
    view_id, _, _ = open_form(bot)
    bot.person(PROVIDER).submit(view_id, {**FIELDS, ids.field_block("access_token"): bc.TOKEN})
    bot.standin.updated(view_id)
    (stored,) = bot.runtime.store.list_for_user(bot.slack.team_id, "U0ASKPLAIN")
    # Without an end date the key has its rotation reminders, as always.
    assert stored.needed_until is None
    assert any(s.startswith("rotation") for s in pending_stages(bot, stored.id))


def test_a_past_date_is_refused_before_anything_is_asked(bot):
    requester = bot.person("U0ASKPAST")
    sent = requester.command(f"request <@{PROVIDER}|pat> bigcommerce until:{day(-2)} import")
    said = bot.standin.reply_to(sent)
    assert "That date has passed" in said.args["text"] and "Nothing was asked" in said.args["text"]
    sent = requester.command(f"request link bigcommerce for:write until:{day(-1)}")
    said = bot.standin.reply_to(sent)
    assert "That date has passed" in said.args["text"] and "No link was made" in said.args["text"]

    sent = requester.click([{"type": "actions", "elements": [
        {"type": "button", "action_id": ids.HOME_ASK, "text": {"type": "plain_text",
                                                              "text": "Ask"}}]}], ids.HOME_ASK)
    opened = bot.standin.opened_by(sent)
    payload = ask_submission(requester, opened.response["view"]["id"], user=PROVIDER,
                             platform="bigcommerce")
    payload["view"]["state"]["values"][ids.NEEDED_UNTIL_BLOCK][ids.FIELD_VALUE][
        "selected_date"] = day(-3)
    reply = requester.post_payload(payload)
    assert reply.json()["response_action"] == "errors"
    assert "passed" in reply.json()["errors"][ids.NEEDED_UNTIL_BLOCK]
    assert bot.runtime.store.requests_of(bot.slack.team_id, "U0ASKPAST") == []
    assert not [c for c in bot.standin.calls_to("chat.postMessage")
                if c.args.get("channel") == "D" + PROVIDER[1:]]


def test_the_getkey_form_starts_on_the_workspace_default_purpose(bot):
    for default, expected in ((None, "read"), ("write", "write")):
        set_defaults(bot, Defaults(purpose=default))
        bot.standin.reset()
        owner = bot.person("U0OWNSKEY")
        guide = owner.command("bigcommerce").json()
        opened = bot.standin.opened_by(owner.click(guide["blocks"], ids.OPEN_FORM))
        purpose = next(b for b in opened.args["view"]["blocks"]
                       if b.get("block_id") == ids.PURPOSE_BLOCK)
        assert purpose["element"]["initial_option"]["value"] == expected


def test_leading_words_fix_the_job_and_any_other_note_is_kept_whole():
    today = datetime(2026, 12, 3, tzinfo=UTC).date()
    intent, note = intent_from_words("for:import until:2027-1-31 the migration", today, None)
    assert (str(intent.purpose), intent.needed_until.date().isoformat(), note) == (
        "write", "2027-01-31", "the migration")
    for plain in ("for the migration", "for: the shop", "until Friday", "for:lunch money",
                  "the import, for:write later"):
        intent, note = intent_from_words(plain, today, "write")
        assert note == plain and str(intent.purpose) == "write" and intent.needed_until is None
    assert "passed" in intent_from_words("until:2026-12-02", today, None)
    assert "three years" in intent_from_words("until:2031-01-01", today, None)


def test_once_the_end_date_has_passed_the_form_does_not_open(bot):
    asker = bot.person("U0ASKLATE")
    today = datetime.now(UTC).date().isoformat()
    sent = asker.command(f"request <@{PROVIDER}|pat> bigcommerce until:{today} a quick export")
    assert "needed until" in bot.standin.reply_to(sent).args["text"]
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0ASKLATE")
    with bot.runtime.store.engine.begin() as c:  # a day later, nobody has answered
        c.execute(sa.update(CredentialRequest).where(CredentialRequest.id == request.id)
                  .values(needed_until=datetime.now(UTC) - timedelta(days=1)))
    (dm,) = bot.standin.dms(PROVIDER)
    bot.standin.reset()
    bot.person(PROVIDER).click(dm.args["blocks"], ids.OPEN_REQUEST_FORM)
    (told,) = bot.standin.dms(PROVIDER)
    assert "which has passed: nothing was stored" in told.args["text"]
    assert bot.standin.calls_to("views.open") == []
    assert bot.runtime.store.list_for_user(bot.slack.team_id, "U0ASKLATE") == []


def test_a_request_from_before_purposes_lets_the_person_asked_choose(bot):
    # Requests stored before purposes existed carry none: the person asked chooses, starting
    # on the workspace's default, and the key is verified for what they chose.
    set_defaults(bot, Defaults(purpose="write"))
    sent = bot.person("U0ASKOLD").command(f"request <@{PROVIDER}|pat> bigcommerce the move")
    bot.standin.reply_to(sent)
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0ASKOLD")
    with bot.runtime.store.engine.begin() as conn:
        conn.execute(sa.update(CredentialRequest).where(CredentialRequest.id == request.id)
                     .values(purpose=None, needed_until=None))
    view_id, view, _ = open_form(bot)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert ids.PURPOSE_FIXED_BLOCK not in blocks
    assert blocks[ids.PURPOSE_BLOCK]["element"]["initial_option"]["value"] == "write"

    provider = bot.person(PROVIDER)
    read_only = {**FIELDS, ids.field_block("access_token"): bc.READ_ONLY_TOKEN}
    provider.submit(view_id, {**read_only, ids.PURPOSE_BLOCK: "write"})
    refused = visible(bot.standin.updated(view_id).args["view"])
    assert "Products: Modify" in refused
    assert bot.runtime.store.list_for_user(bot.slack.team_id, "U0ASKOLD") == []

    provider.submit(view_id, {**read_only, ids.PURPOSE_BLOCK: "read"})
    assert "key verified" in visible(bot.standin.updated(view_id, 2).args["view"])
    (stored,) = bot.runtime.store.list_for_user(bot.slack.team_id, "U0ASKOLD")
    assert stored.purpose == "read" and stored.provided_by == PROVIDER
