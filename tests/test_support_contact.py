"""A workspace's support contact and default purpose (issue 19), through the real app: an admin
sets them in Workspace settings (a non-admin cannot; a contact that is neither a person, a
channel, an https:// address nor an email is refused on its field and nothing changes); the
contact then shows in the platform guides and under a refused key, as a mention, a channel or
a link, and the key form starts on the default purpose. With no contact, today's wording stays.
The link pages (in a browser) are in tests/test_link_contact.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.services.admins import Refused, parse_defaults
from bot.services.contact import ADDRESS, CHANNEL, NO_CONTACT, PERSON, ContactChoice
from bot.slack.ui import ids
from bot.slack.ui.contact import contact_words, help_line
from bot.slack.ui.modals import save_failed_view
from bot.store.admin import Defaults
from flows import catalog
from tests.bot_fixtures import RunningBot
from tests.platforms import wix
from tests.slack_standin import SlackSender, visible_text
from tests.test_admins import (  # noqa: F401 - team is a fixture
    admin_view,
    home_click,
    person,
    published,
    team,
)
from tests.test_requests import time_passes

pytest_plugins = ("tests.bot_fixtures",)

WRONG = wix.KEY[:-3] + "zzz"  # the right shape, refused by Wix


def save_settings(
    bot: RunningBot, admin: SlackSender, *, purpose: str = "read", kind: str = NO_CONTACT,
    user: str | None = None, channel: str | None = None, text: str | None = None,
) -> dict[str, Any]:
    """Open Workspace settings from the admin view, choose, Save: the ack's body."""
    view = admin_view(bot, admin)
    opened = bot.standin.opened_by(home_click(admin, view["blocks"], ids.ADMIN_SETTINGS))
    view_id = opened.response["view"]["id"]
    payload = admin.view_payload(view_id, {
        ids.ADMIN_GROUP_BLOCK: ids.SLACK_ADMINS, ids.ADMIN_ROTATION_BLOCK: ids.ROTATION_DEFAULT,
        ids.ADMIN_PURPOSE_BLOCK: purpose,
    })  # fmt: skip
    modal = bot.standin.views[view_id]
    radio = next(b for b in modal["blocks"] if b["block_id"] == ids.ADMIN_CONTACT_KIND_BLOCK)
    picked = next(o for o in radio["element"]["options"] if o["value"] == kind)
    state = payload["view"]["state"]["values"]
    state[ids.ADMIN_PLATFORMS_BLOCK] = {ids.FIELD_VALUE: {
        "type": "multi_static_select", "selected_options": []}}
    state[ids.ADMIN_CONTACT_KIND_BLOCK] = {ids.FIELD_VALUE: {
        "type": "radio_buttons", "selected_option": picked}}
    state[ids.ADMIN_CONTACT_USER_BLOCK] = {ids.FIELD_VALUE: {
        "type": "users_select", "selected_user": user}}
    state[ids.ADMIN_CONTACT_CHANNEL_BLOCK] = {ids.FIELD_VALUE: {
        "type": "channels_select", "selected_channel": channel}}
    state[ids.ADMIN_CONTACT_TEXT_BLOCK] = {ids.FIELD_VALUE: {
        "type": "plain_text_input", "value": text}}
    reply = admin.deliver_submission(payload)
    assert reply.status == 200
    answer = reply.json() if reply.body else {}
    if not answer:  # saved: the admin view is published again (wait, or it lands later)
        published(bot, admin.user_id, 3)
    return answer  # type: ignore[no-any-return]


def guide_of(member: SlackSender) -> dict[str, Any]:
    return member.command("wix").json()  # type: ignore[no-any-return]


def refused_form(bot: RunningBot, member: SlackSender) -> tuple[dict[str, Any], dict[str, Any]]:
    """Open the Wix form from the guide, submit a key Wix refuses: (the blank form, the
    re-rendered one)."""
    bot.standin.reset()
    sent = member.click(guide_of(member)["blocks"], ids.OPEN_FORM)
    opened = bot.standin.opened_by(sent)
    view_id = opened.response["view"]["id"]
    member.submit(view_id, {ids.field_block("api_key"): WRONG,
                            ids.field_block("account_id"): wix.ACCOUNT,
                            ids.field_block("site_id"): ""})
    return opened.args["view"], bot.standin.updated(view_id).args["view"]


def test_an_admin_names_a_person_and_guides_and_refused_keys_mention_them(
    oauth_bot: RunningBot, team: str  # noqa: F811 - the fixture
) -> None:
    oauth_bot.standin.admins.add((team, "U0ADMIN01"))
    admin = person(oauth_bot, team, "U0ADMIN01")
    member = person(oauth_bot, team, "U0MEMBER1")
    # Unset: the guide names nobody, a refused key says nothing about whom to ask.
    assert "Need help" not in visible_text(guide_of(member)["blocks"])
    blank, refused = refused_form(oauth_bot, member)
    assert "Wix did not accept this key" in visible_text(refused["blocks"])
    assert "Need help" not in visible_text(refused["blocks"])
    assert "Need help" not in visible_text(blank["blocks"])

    assert save_settings(oauth_bot, admin, purpose="write", kind=PERSON, user="U0HELPER1") == {}
    saved = oauth_bot.runtime.store.workspace_defaults(team)
    assert saved.support_contact == "user:U0HELPER1" and saved.purpose == "write"
    (event,) = [e for e in oauth_bot.runtime.store.audit_events()
                if e.action == "workspace_defaults" and team in e.detail]
    assert event.actor == f"slack:{team}:U0ADMIN01" and "user:U0HELPER1" in event.detail
    shown = visible_text(admin_view(oauth_bot, admin)["blocks"])
    assert "<@U0HELPER1>" in shown and "read and write" in shown

    guide = visible_text(guide_of(member)["blocks"])
    assert "Need help with this? Ask <@U0HELPER1>." in guide
    blank, refused = refused_form(oauth_bot, member)
    text = visible_text(refused["blocks"])
    assert "Wix did not accept this key" in text and "Ask <@U0HELPER1>" in text
    # The form starts on the workspace's purpose.
    purpose = next(b for b in blank["blocks"] if b.get("block_id") == ids.PURPOSE_BLOCK)
    assert purpose["element"]["initial_option"]["value"] == "write"

    # The settings show what is saved; "Nobody" clears it and today's wording is back.
    settings = home_click(admin, admin_view(oauth_bot, admin)["blocks"], ids.ADMIN_SETTINGS)
    opened = oauth_bot.standin.opened_by(settings)
    modal = {b["block_id"]: b for b in opened.args["view"]["blocks"]}
    assert modal[ids.ADMIN_CONTACT_USER_BLOCK]["element"]["initial_user"] == "U0HELPER1"
    assert modal[ids.ADMIN_CONTACT_KIND_BLOCK]["element"]["initial_option"]["value"] == PERSON
    assert modal[ids.ADMIN_PURPOSE_BLOCK]["element"]["initial_option"]["value"] == "write"
    assert save_settings(oauth_bot, admin, kind=NO_CONTACT, user="U0HELPER1") == {}
    assert oauth_bot.runtime.store.workspace_defaults(team).support_contact is None
    assert "Need help" not in visible_text(guide_of(member)["blocks"])


@pytest.mark.parametrize(("kind", "given", "shown"), [
    (CHANNEL, {"channel": "C0HELPDSK"}, "<#C0HELPDSK>"),
    (ADDRESS, {"text": "https://help.example.com/getkey"},
     "<https://help.example.com/getkey|https://help.example.com/getkey>"),
    (ADDRESS, {"text": "help@example.com"}, "<mailto:help@example.com|help@example.com>"),
])
def test_a_channel_a_page_or_an_email_show_as_links(
    oauth_bot: RunningBot, team: str, kind: str, given: dict[str, str], shown: str,  # noqa: F811
) -> None:
    oauth_bot.standin.admins.add((team, "U0ADMIN01"))
    admin = person(oauth_bot, team, "U0ADMIN01")
    assert save_settings(oauth_bot, admin, kind=kind, **given) == {}
    guide = visible_text(guide_of(person(oauth_bot, team, "U0MEMBER1"))["blocks"])
    assert f"Need help with this? Ask {shown}." in guide


@pytest.mark.parametrize(("kind", "given", "block", "words"), [
    (ADDRESS, {"text": "javascript:alert(1)"}, ids.ADMIN_CONTACT_TEXT_BLOCK, "https://"),
    (ADDRESS, {"text": "http://help.example.com"}, ids.ADMIN_CONTACT_TEXT_BLOCK, "https://"),
    (ADDRESS, {"text": "<!channel> help@example.com"}, ids.ADMIN_CONTACT_TEXT_BLOCK, "email"),
    (ADDRESS, {}, ids.ADMIN_CONTACT_TEXT_BLOCK, "Type"),
    (PERSON, {}, ids.ADMIN_CONTACT_USER_BLOCK, "person"),
    (CHANNEL, {"text": "help@example.com"}, ids.ADMIN_CONTACT_CHANNEL_BLOCK, "channel"),
])
def test_a_bad_contact_is_refused_on_its_field_and_nothing_changes(
    oauth_bot: RunningBot, team: str, kind: str, given: dict[str, str],  # noqa: F811
    block: str, words: str,
) -> None:
    oauth_bot.standin.admins.add((team, "U0ADMIN01"))
    admin = person(oauth_bot, team, "U0ADMIN01")
    assert save_settings(oauth_bot, admin, kind=PERSON, user="U0HELPER1") == {}
    refused = save_settings(oauth_bot, admin, purpose="write", kind=kind, **given)
    assert refused["response_action"] == "errors"
    assert list(refused["errors"]) == [block] and words in refused["errors"][block]
    kept = oauth_bot.runtime.store.workspace_defaults(team)
    assert kept.support_contact == "user:U0HELPER1" and kept.purpose == "read"


def test_someone_who_is_not_an_admin_cannot_set_the_contact(
    oauth_bot: RunningBot, team: str  # noqa: F811 - the fixture
) -> None:
    oauth_bot.standin.admins.add((team, "U0ADMIN01"))
    admin = person(oauth_bot, team, "U0ADMIN01")
    # The admin's modal, submitted by a member (a forged or stale submission).
    settings = home_click(admin, admin_view(oauth_bot, admin)["blocks"], ids.ADMIN_SETTINGS)
    opened = oauth_bot.standin.opened_by(settings)
    view_id = opened.response["view"]["id"]
    member = person(oauth_bot, team, "U0MEMBER1")
    payload = member.view_payload(view_id, {
        ids.ADMIN_GROUP_BLOCK: ids.SLACK_ADMINS, ids.ADMIN_ROTATION_BLOCK: ids.ROTATION_DEFAULT,
        ids.ADMIN_PURPOSE_BLOCK: "write", ids.ADMIN_CONTACT_TEXT_BLOCK: "https://evil.example",
    })  # fmt: skip
    radio = next(o for o in opened.args["view"]["blocks"]
                 if o["block_id"] == ids.ADMIN_CONTACT_KIND_BLOCK)["element"]["options"]
    payload["view"]["state"]["values"][ids.ADMIN_CONTACT_KIND_BLOCK] = {ids.FIELD_VALUE: {
        "type": "radio_buttons", "selected_option": next(o for o in radio
                                                         if o["value"] == ADDRESS)}}
    refused = member.deliver_submission(payload).json()
    assert refused["response_action"] == "errors"
    assert "Only this workspace's getkey admins" in json.dumps(refused)
    assert oauth_bot.runtime.store.workspace_defaults(team) == Defaults()
    # Nor can they open the settings: they are told why instead.
    oauth_bot.standin.reset()
    forged = [{"type": "actions", "block_id": "b", "elements": [{
        "type": "button", "action_id": ids.ADMIN_SETTINGS,
        "text": {"type": "plain_text", "text": "Workspace settings"}}]}]
    told = oauth_bot.standin.opened_by(home_click(member, forged, ids.ADMIN_SETTINGS))
    assert told.args["view"].get("callback_id") != ids.ADMIN_SETTINGS_VIEW
    assert "Only this workspace's getkey admins" in visible_text(told.args["view"]["blocks"])


def test_someone_asked_for_a_key_is_told_whom_to_ask(
    oauth_bot: RunningBot, team: str  # noqa: F811 - the fixture
) -> None:
    oauth_bot.standin.admins.add((team, "U0ADMIN01"))
    admin = person(oauth_bot, team, "U0ADMIN01")
    assert save_settings(oauth_bot, admin, kind=CHANNEL, channel="C0HELPDSK") == {}
    oauth_bot.standin.reset()
    person(oauth_bot, team, "U0ASKER01").command("request <@U0PROVID1|pat> wix for the move")
    (dm,) = oauth_bot.standin.wait_for(
        "chat.postMessage", 1, where=lambda c: c.args.get("channel") == "D0PROVID1")
    shown = visible_text(dm.args["blocks"])
    assert "asks you for a *Wix* API key" in shown
    assert shown.rstrip().endswith("Need help with this? Ask <#C0HELPDSK>.")

    # Days later, unanswered: the one reminder names the contact too.
    (request,) = oauth_bot.runtime.store.requests_of(team, "U0ASKER01")
    time_passes(oauth_bot, request.id, nudge=True, expire=False)
    nudged, _ = oauth_bot.runtime.requests.tick()
    assert [r.id for r in nudged] == [request.id]
    oauth_bot.on_loop(oauth_bot.runtime.outbox.drain())
    (_, nudge) = oauth_bot.standin.wait_for(
        "chat.postMessage", 2, where=lambda c: c.args.get("channel") == "D0PROVID1")
    shown = visible_text(nudge.args["blocks"])
    assert "Reminder: <@U0ASKER01> is still waiting" in shown
    assert shown.rstrip().endswith("Need help with this? Ask <#C0HELPDSK>.")


# -- rendering, unit by unit ----------------------------------------------------------------------
def test_a_typed_contact_cannot_become_a_mention_or_markup() -> None:
    # What passes parsing may still hold mrkdwn's special characters: they stay text.
    words = contact_words("email:a&b*x*@example.com")
    assert words == "<mailto:a&b*x*@example.com|a&amp;b*x*@example.com>"
    url = contact_words("url:https://example.com/?a=1&b=2")
    assert url is not None and url.endswith("|https://example.com/?a=1&amp;b=2>")
    for hostile in ("<!channel>", "<@U0BOSS>", "a|b <https://evil.example|x>", "https://a b"):
        refused = parse_defaults(None, None, None, contact=ContactChoice(ADDRESS, text=hostile))
        assert isinstance(refused, Refused) and refused.field == "contact"
    assert help_line(None) is None and help_line("bogus") is None


def test_saving_fails_says_whom_to_tell() -> None:
    flow = catalog.get("wix")
    assert "tell whoever runs getkey" in visible_text(save_failed_view(flow)["blocks"])
    told = visible_text(save_failed_view(flow, "channel:C0HELPDSK")["blocks"])
    assert "tell <#C0HELPDSK>" in told and "whoever runs getkey" not in told
