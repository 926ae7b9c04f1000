"""Asking someone else for a key, through the local Slack and a local Wix: request → the
provider's DM with the guide and a button → form → verified → stored for the requester (who
owns it and sees it listed), the provider recorded; refused across workspaces and past the
limit of open requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.slack.listeners.requests import OPEN_REQUEST_FORM, parse
from bot.slack.ui import ids
from bot.store.sharing_models import CredentialRequest
from tests.bot_fixtures import BOT_TOKEN, RunningBot, bot_server_fixture, checked_bot_fixture
from tests.platforms import wix as wix_platform
from tests.reminder_driver import Driver
from tests.slack_standin import SlackStandIn, find_element
from tests.slack_standin import visible_text as visible
from tests.test_slack_journey import good

STRANGER = "U0STRANGER"  # a member of another workspace
GUEST = "U0GUEST"  # a guest getkey cannot open a DM with


class TwoTeamStandIn(SlackStandIn):
    def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        answer = super()._api_users_info(args)
        if args.get("user") == STRANGER:
            answer["user"]["team_id"] = "T0ANOTHER"
        return answer

    def _api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if GUEST in str(args.get("users") or ""):
            return {"ok": False, "error": "cannot_dm_bot"}
        return super()._api_conversations_open(args)

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        # No DM with them exists; opening one is what Slack refuses (above).
        if args.get("channel") == "D" + GUEST[1:]:
            return {"ok": False, "error": "channel_not_found"}
        return super()._api_chat_postMessage(args)


bot_server = bot_server_fixture(TwoTeamStandIn)
bot = checked_bot_fixture()


def test_mentions_are_read_from_slack_escapes():
    assert parse("<@U0ANA|ana> wix for the migration") == ("U0ANA", "wix", "for the migration")
    assert parse("<@W0ANA> ecwid") == ("W0ANA", "ecwid", "")
    assert parse("@ana wix") is None and parse("<@U0ANA|ana>") is None


class Journal:
    """The Slack calls of a journey, in order, one line each (what the closing note quotes)."""

    def __init__(self, standin: SlackStandIn) -> None:
        self.standin = standin
        self.lines: list[str] = []

    def step(self, title: str) -> None:
        """Close the step that ran: keep its calls, start an empty log for the next."""
        self.lines.append(f"-- {title}")
        for call in list(self.standin.calls):
            self.lines.append("   " + describe(call))
        self.standin.reset()

    def text(self) -> str:
        return "\n".join(self.lines)


def describe(call: Any) -> str:
    args = call.args
    where = args.get("channel") or args.get("user_id") or args.get("users") or args.get("user")
    where = where or args.get("view_id") or ""
    said = args.get("text") or ""
    if not said and isinstance(args.get("view"), dict):
        view = args["view"]
        said = visible(view.get("title") or view.get("callback_id") or view["type"]) + ": "
        said += visible(view.get("blocks") or [])
    said = " ".join(str(said).split())
    return f"{call.method:<18} {where:<12} {said[:110]}"


def fresh_home(bot: RunningBot, person: Any) -> dict[str, Any]:
    """The Home tab published for `person` when they open it now (not an earlier one)."""

    def theirs(c: Any) -> bool:
        return c.args.get("user_id") == person.user_id

    count = len([c for c in bot.standin.calls_to("views.publish") if theirs(c)])
    person.app_home_opened()
    return bot.standin.wait_for("views.publish", count + 1, where=theirs)[count].args


def test_request_journey_the_key_ends_up_with_the_requester(bot):
    """request → DM → form → verified → requester told → listed for the requester → reminder
    to the requester → ask again → the provider withdraws."""
    requester = bot.person("U0REQUESTER")
    provider = bot.person("U0PROVIDER")
    store = bot.runtime.store
    journal = Journal(bot.standin)
    wrong = wix_platform.KEY[:-3] + "zzz"

    # The requester asks; the provider gets a DM with who asks, the note, the guide, a button.
    sent = requester.command("request <@U0PROVIDER|pat> wix for the store migration")
    said = bot.standin.reply_to(sent)
    assert "Asked <@U0PROVIDER> by direct message" in said.args["text"]
    assert find_element(said.args["blocks"], ids.REQUEST_CANCEL)  # cancel / re-send from Slack
    (dm,) = bot.standin.dms("U0PROVIDER")
    shown = visible(dm.args["blocks"])
    assert "<@U0REQUESTER> asks you for a *Wix* API key" in shown
    assert "for the store migration" in shown and "Wix: get an API key" in shown
    (request,) = store.requests_of(bot.slack.team_id, "U0REQUESTER")
    assert request.state == "open" and request.provider_id == "U0PROVIDER"
    journal.step("/getkey request <@U0PROVIDER> wix for the store migration")

    # Someone else cannot answer it.
    bot.person("U0NOSY").click(dm.args["blocks"], OPEN_REQUEST_FORM)
    (refusal,) = bot.standin.dms("U0NOSY")
    assert "not addressed to you" in refusal.args["text"]
    assert bot.standin.calls_to("views.open") == []
    journal.step("U0NOSY presses Paste the key")

    # The provider opens the form; the requester is told (through the outbox).
    sent = provider.click(dm.args["blocks"], OPEN_REQUEST_FORM)
    opened = bot.standin.opened_by(sent)
    view_id = opened.response["view"]["id"]
    (told,) = bot.standin.dms("U0REQUESTER")
    assert "<@U0PROVIDER> opened the form for the Wix key you asked for" in told.args["text"]
    assert store.get_request(request.id).state == "opened"
    journal.step("the provider presses Paste the key")

    # A wrong key: the requester hears it failed, in words, without the value.
    provider.submit(view_id, good(**{ids.field_block("api_key"): wrong}))
    bot.standin.updated(view_id)
    (failed,) = bot.standin.dms("U0REQUESTER")
    assert "failed" in failed.args["text"] and wrong not in failed.args["text"]
    assert store.get_request(request.id).state == "failed"
    journal.step("the provider submits a wrong key")

    # The right key: verified, stored for the requester (store name, permissions), provider
    # recorded; the requester and the provider are each told.
    provider.submit(view_id, good())
    result = bot.standin.updated(view_id)
    assert "Wix key verified" in visible(result.args["view"])
    (stored,) = store.list_for_user(bot.slack.team_id, "U0REQUESTER")
    assert stored.provided_by == "U0PROVIDER" and stored.store_name == "The Plant Shop"
    assert store.list_for_user(bot.slack.team_id, "U0PROVIDER") == []
    (confirmation,) = bot.standin.dms("U0REQUESTER")
    verified = visible(confirmation.args["blocks"])
    assert "The Plant Shop" in verified and "<@U0PROVIDER> provided it" in verified
    (provided,) = bot.standin.dms("U0PROVIDER")
    assert "You provided" in visible(provided.args["blocks"])
    assert find_element(provided.args["blocks"], ids.REQUEST_WITHDRAW)
    done = store.get_request(request.id)
    assert done.state == "fulfilled" and done.credential_id == stored.id
    audit = [e for e in store.audit_events(stored.id) if e.action == "stored"]
    assert audit and audit[0].actor == "U0PROVIDER"
    journal.step("the provider submits the right key")

    # Listed for the requester, with the provider's name; both Home tabs show their side.
    sent = requester.command("list")
    listing = bot.standin.reply_to(sent)
    listed = visible(listing.args["blocks"])
    assert "The Plant Shop" in listed and "provided by <@U0PROVIDER>" in listed
    home = {p.user_id: visible(fresh_home(bot, p)["view"]) for p in (requester, provider)}
    assert "The Plant Shop" in home["U0REQUESTER"] and "Ask for a new one" in home["U0REQUESTER"]
    assert "Keys you provided" in home["U0PROVIDER"] and "Withdraw it" in home["U0PROVIDER"]
    journal.step("/getkey list; both open their App Home")

    # The reminder goes to the requester, with "Ask for a new one".
    due = store.get(stored.id).next_reminder_at
    assert due is not None
    sent = Driver(store, bot.standin.api_url, BOT_TOKEN, bot.runtime.clock).sweep(
        due + timedelta(minutes=1)
    )
    assert [s.owner for s in sent] == ["U0REQUESTER"]
    (reminder,) = bot.standin.dms("U0REQUESTER")
    assert find_element(reminder.args["blocks"], ids.REQUEST_ASK_AGAIN)
    assert not [c for c in bot.standin.calls_to("chat.postMessage")
                if c.args["channel"] == "D0PROVIDER"]  # fmt: skip
    journal.step(f"reminder sweep at {sent[0].stage}")

    # Ask again: a new request to the same provider, same platform, same note.
    asked = requester.click(reminder.args["blocks"], ids.REQUEST_ASK_AGAIN)
    (again,) = bot.standin.dms("U0PROVIDER")
    assert "<@U0REQUESTER> asks you for a *Wix* API key" in visible(again.args["blocks"])
    assert "for the store migration" in visible(again.args["blocks"])
    answer = bot.standin.reply_to(asked)
    assert "Asked <@U0PROVIDER>" in answer.args["text"]
    newest = store.requests_of(bot.slack.team_id, "U0REQUESTER")[0]
    assert newest.id != request.id and newest.state == "open" and newest.platform == "wix"
    journal.step("the requester presses Ask for a new one")

    # The provider withdraws what they provided: deleted, the requester told.
    withdrew = provider.click(provided.args["blocks"], ids.REQUEST_WITHDRAW)
    (gone,) = bot.standin.dms("U0REQUESTER")
    assert "<@U0PROVIDER> withdrew the Wix key" in gone.args["text"]
    assert store.list_for_user(bot.slack.team_id, "U0REQUESTER") == []
    assert store.get_request(request.id).state == "withdrawn"
    note = bot.standin.reply_to(withdrew)
    assert "Withdrawn" in note.args["text"]
    journal.step("the provider presses Withdraw it")

    recorded = journal.text()
    print("\nRecorded Slack calls of the request journey:\n" + recorded)
    assert wix_platform.KEY not in recorded and wrong not in recorded
    for call in bot.standin.calls:
        assert wix_platform.KEY.encode() not in call.raw


def test_another_organisation_is_asked_as_slack_connect_and_the_limit_holds(bot):
    # Issue 22: a member of another organisation (a Slack Connect channel) is asked where
    # Slack allows it (here: by DM), and the requester is told (tests/test_link_slack.py has
    # the fallback to a link).
    asker = bot.person("U0ASKER")
    sent = asker.command(f"request <@{STRANGER}|stranger> wix")
    said = bot.standin.reply_to(sent)
    assert "another organisation (Slack Connect)" in said.args["text"]
    (dm,) = bot.standin.dms(STRANGER)
    assert dm.args["channel"] == "D" + STRANGER[1:]
    (asked,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0ASKER")
    assert asked.provider_id == STRANGER
    bot.runtime.store.request_moved(asked.id, "cancelled")  # not counted below

    limit = bot.runtime.settings.getkey_max_open_requests
    for n in range(limit):
        bot.standin.reset()
        sent = asker.command(f"request <@U0PEER{n:02d}> wix")
        bot.standin.reply_to(sent)
    bot.standin.reset()
    sent = asker.command("request <@U0ONEMORE> wix")
    said = bot.standin.reply_to(sent)
    assert f"already have {limit} open requests" in said.args["text"]
    mine = bot.runtime.store.requests_of(bot.slack.team_id, "U0ASKER")
    assert len([r for r in mine if r.is_open]) == limit
    assert not [c for c in bot.standin.calls_to("chat.postMessage")
                if c.args["channel"] == "D0ONEMORE"]  # fmt: skip


def time_passes(bot: RunningBot, request_id: str, *, nudge: bool, expire: bool) -> None:
    """As if days had gone by for this request: its nudge and/or expiry are now due."""
    past = datetime.now(UTC) - timedelta(minutes=1)
    values: dict[str, Any] = {}
    if nudge:
        values["nudge_at"] = past
    if expire:
        values["expires_at"] = past
    with bot.runtime.store.engine.begin() as conn:
        conn.execute(
            sa.update(CredentialRequest).where(CredentialRequest.id == request_id).values(**values)
        )


def test_an_unanswered_request_is_nudged_once_then_expires(bot):
    asker = bot.person("U0WAITER")
    store = bot.runtime.store
    sent = asker.command("request <@U0BUSY> wix the migration starts monday")
    bot.standin.reply_to(sent)
    (request,) = store.requests_of(bot.slack.team_id, "U0WAITER")
    drive = Driver(store, bot.standin.api_url, BOT_TOKEN, bot.runtime.clock)
    bot.standin.reset()

    # Not due yet: nothing happens.
    assert bot.runtime.requests.tick() == ([], [])
    # After the nudge delay the provider is reminded, once.
    time_passes(bot, request.id, nudge=True, expire=False)
    nudged, expired = bot.runtime.requests.tick()
    assert [r.id for r in nudged] == [request.id] and expired == []
    assert bot.runtime.requests.tick() == ([], [])
    drive.outbox()
    (nudge,) = bot.standin.dms("U0BUSY")
    shown = visible(nudge.args["blocks"])
    assert "Reminder: <@U0WAITER> is still waiting" in shown and "monday" in shown
    assert find_element(nudge.args["blocks"], OPEN_REQUEST_FORM)

    # After the expiry delay it expires: request.expired for the tools, the requester told.
    before = store.latest_change_id(bot.slack.team_id)
    time_passes(bot, request.id, nudge=True, expire=True)
    nudged, expired = bot.runtime.requests.tick()
    assert nudged == [] and [r.id for r in expired] == [request.id]
    changes = store.changes_since(bot.slack.team_id, before)
    assert [c.type for c in changes] == ["request.expired"]
    assert changes[0].data["request"]["id"] == request.id
    drive.outbox()
    (told,) = bot.standin.dms("U0WAITER")
    assert "Your request to <@U0BUSY> for a Wix key expired" in told.args["text"]

    # The requester sees the state; the provider's button no longer opens anything.
    bot.standin.reset()
    sent = asker.command("list")
    listing = bot.standin.reply_to(sent)
    assert "expired without an answer" in visible(listing.args["blocks"])
    bot.person("U0BUSY").click(nudge.args["blocks"], OPEN_REQUEST_FORM)
    (refusal,) = bot.standin.dms("U0BUSY")
    assert "This request is expired" in refusal.args["text"]
    assert bot.standin.calls_to("views.open") == []


def test_the_requester_can_send_again_and_cancel_from_slack(bot):
    asker = bot.person("U0ASKS")
    sent = asker.command("request <@U0SLOW> ecwid")
    said = bot.standin.reply_to(sent)
    bot.standin.dms("U0SLOW")
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0ASKS")

    # Someone else cannot use the requester's buttons.
    bot.standin.reset()
    sent = bot.person("U0OTHER").click(said.args["blocks"], ids.REQUEST_CANCEL)
    refused = bot.standin.reply_to(sent)
    assert "not one of your requests" in refused.args["text"]
    assert bot.runtime.store.get_request(request.id).state == "open"

    bot.standin.reset()
    resent = asker.click(said.args["blocks"], ids.REQUEST_RESEND)
    (again,) = bot.standin.dms("U0SLOW")
    assert "<@U0ASKS> asks you for a *Ecwid* API key" in visible(again.args["blocks"])
    answer = bot.standin.reply_to(resent)
    assert answer.args["text"].startswith("Sent again.")

    bot.standin.reset()
    sent = asker.click(said.args["blocks"], ids.REQUEST_CANCEL)
    done = bot.standin.reply_to(sent)
    assert "cancelled" in done.args["text"] and done.args.get("replace_original") is True
    (told,) = bot.standin.dms("U0SLOW")
    assert "<@U0ASKS> cancelled their request" in told.args["text"]
    assert bot.runtime.store.get_request(request.id).state == "cancelled"
    # The provider's button is dead now.
    bot.standin.reset()
    bot.person("U0SLOW").click(again.args["blocks"], OPEN_REQUEST_FORM)
    assert "cancelled" in bot.standin.dms("U0SLOW")[0].args["text"]
    assert bot.standin.calls_to("views.open") == []


def test_no_dm_possible_falls_back_to_an_ephemeral_message_in_the_channel(bot):
    asker = bot.person("U0CHANNEL")
    sent = asker.command(f"request <@{GUEST}|guest> wix")
    said = bot.standin.reply_to(sent)
    assert "in the channel (only they can see it)" in said.args["text"]
    (shown,) = bot.standin.wait_for(
        "chat.postEphemeral", where=lambda c: c.args.get("user") == GUEST
    )
    assert shown.args["channel"] == asker.channel_id
    assert "<@U0CHANNEL> asks you for a *Wix* API key" in visible(shown.args["blocks"])
    assert find_element(shown.args["blocks"], OPEN_REQUEST_FORM)
    # No DM reached them (the one try Slack refused).
    assert not [c for c in bot.standin.calls_to("chat.postMessage") if c.response.get("ok")]


def ask_submission(sender: Any, view_id: str, *, user: str | None, platform: str | None,
                   note: str = "") -> dict[str, Any]:
    """The "Ask for a key" modal submitted (users_select carries `selected_user`)."""
    payload = sender.view_payload(view_id, {ids.ASK_PLATFORM_BLOCK: platform,
                                            ids.ASK_NOTE_BLOCK: note})  # fmt: skip
    state = payload["view"]["state"]["values"]
    state[ids.ASK_USER_BLOCK] = {ids.FIELD_VALUE: {"type": "users_select", "selected_user": user}}
    return payload


def test_message_shortcut_and_home_button_open_the_ask_modal(bot):
    asker = bot.person("U0SHORTCUT")
    payload = {
        **asker._interaction_base("message_action"),
        "callback_id": ids.ASK_SHORTCUT,
        "channel": {"id": asker.channel_id, "name": "general"},
        "message": {"type": "message", "user": "U0AUTHOR", "ts": "1700000000.000200",
                    "text": "I own the shop"},
        "message_ts": "1700000000.000200",
        "response_url": bot.standin.response_url(),
    }  # fmt: skip
    sent = asker.post_payload(payload)
    opened = bot.standin.opened_by(sent)
    view = opened.args["view"]
    assert view["callback_id"] == ids.ASK_VIEW
    user_select = next(b for b in view["blocks"] if b.get("block_id") == ids.ASK_USER_BLOCK)
    assert user_select["element"]["initial_user"] == "U0AUTHOR"
    view_id = opened.response["view"]["id"]

    # Nothing chosen: an inline error, nothing asked.
    bot.standin.reset()
    reply = asker.post_payload(ask_submission(asker, view_id, user="U0AUTHOR", platform=None))
    assert reply.json()["response_action"] == "errors"
    assert ids.ASK_PLATFORM_BLOCK in reply.json()["errors"]

    asker.post_payload(ask_submission(asker, view_id, user="U0AUTHOR", platform="wix",
                                      note="for the import"))  # fmt: skip
    (dm,) = bot.standin.dms("U0AUTHOR")
    assert "for the import" in visible(dm.args["blocks"])
    (told,) = bot.standin.dms("U0SHORTCUT")
    assert "Asked <@U0AUTHOR>" in told.args["text"]
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0SHORTCUT")
    assert request.channel_id == asker.channel_id and request.note == "for the import"
    (home,) = bot.standin.wait_for(
        "views.publish", where=lambda c: c.args.get("user_id") == "U0SHORTCUT"
    )
    assert "Your requests" in visible(home.args["view"])
    assert "waiting for them to open it" in visible(home.args["view"])

    # The App Home's button opens the same modal, empty.
    bot.standin.reset()
    sent = asker.click(home.args["view"]["blocks"], ids.HOME_ASK)
    again = bot.standin.opened_by(sent)
    assert again.args["view"]["callback_id"] == ids.ASK_VIEW
    assert "initial_user" not in json.dumps(again.args["view"])
