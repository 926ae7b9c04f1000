"""Requests by link on Slack's side, and Slack Connect: "Send a link instead" in the Ask modal
and the App Home; a member of another organisation asked from a shared channel gets the button
where Slack allows it, else the requester gets a link and is told why; a verified link key
reaches the change feed; /k/ is rate limited per client address."""

from __future__ import annotations

import re
from typing import Any

import httpx

from bot.http.edge import Request
from bot.http.pages import link_routes
from bot.slack.listeners.requests import OPEN_REQUEST_FORM
from bot.slack.ui import ids
from bot.store import changes
from tests.bot_fixtures import bot_server_fixture, checked_bot_fixture
from tests.platforms import wix as wix_platform
from tests.slack_standin import SlackStandIn, find_element
from tests.slack_standin import visible_text as visible
from tests.test_slack_journey import good

PARTNER = "U0PARTNER"  # Slack Connect member of T0PARTNER: getkey may DM them
WALLED = "U0WALLED"  # Slack Connect member whose organisation allows neither DM nor ephemeral
LINK = re.compile(r"http://127\.0\.0\.1:\d+/k/[A-Za-z0-9_-]{43}")


class ConnectStandIn(SlackStandIn):
    def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        answer = super()._api_users_info(args)
        home = {PARTNER: "T0PARTNER", WALLED: "T0WALLED"}.get(str(args.get("user")))
        if home:
            answer["user"]["team_id"] = home
        return answer

    def _api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if WALLED in str(args.get("users") or ""):
            return {"ok": False, "error": "cannot_dm_bot"}
        return super()._api_conversations_open(args)

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        # No DM with them exists; opening one is what Slack refuses (above).
        if args.get("channel") == "D" + WALLED[1:]:
            return {"ok": False, "error": "channel_not_found"}
        return super()._api_chat_postMessage(args)

    def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("user") == WALLED:
            return {"ok": False, "error": "user_not_in_channel"}
        return super()._api_chat_postEphemeral(args)


bot_server = bot_server_fixture(ConnectStandIn, links=True)
bot = checked_bot_fixture()


def published_to(user_id: str) -> Any:
    return lambda c: c.args.get("user_id") == user_id


def ask_payload(sender: Any, view_id: str, *, link: bool, user: str | None = None) -> Any:
    payload = sender.view_payload(view_id, {ids.ASK_PLATFORM_BLOCK: "wix",
                                            ids.ASK_NOTE_BLOCK: "for the audit"})  # fmt: skip
    state = payload["view"]["state"]["values"]
    state[ids.ASK_USER_BLOCK] = {ids.FIELD_VALUE: {"type": "users_select", "selected_user": user}}
    chosen = [{"value": ids.LINK_CHOICE}] if link else []
    state[ids.ASK_LINK_BLOCK] = {ids.FIELD_VALUE: {"type": "checkboxes",
                                                   "selected_options": chosen}}
    return payload


def test_send_a_link_instead_from_the_app_home(bot):
    asker = bot.person("U0HOMELINK")
    asker.app_home_opened()
    (home,) = bot.standin.wait_for("views.publish", where=published_to("U0HOMELINK"))
    bot.standin.reset()
    opened = bot.standin.opened_by(asker.click(home.args["view"]["blocks"], ids.HOME_ASK_LINK))
    view = opened.args["view"]
    ticked = next(b for b in view["blocks"] if b.get("block_id") == ids.ASK_LINK_BLOCK)
    assert ticked["element"]["initial_options"][0]["value"] == ids.LINK_CHOICE
    view_id = opened.response["view"]["id"]

    # Neither a person nor a link: the error says what to choose.
    reply = asker.post_payload(ask_payload(asker, view_id, link=False))
    assert "Send a link instead" in reply.json()["errors"][ids.ASK_USER_BLOCK]
    bot.standin.reset()
    asker.post_payload(ask_payload(asker, view_id, link=True))
    (told,) = bot.standin.dms("U0HOMELINK")
    assert LINK.search(visible(told.args["blocks"]))
    assert find_element(told.args["blocks"], ids.LINK_CANCEL)
    (request,) = bot.runtime.store.requests_of(bot.slack.team_id, "U0HOMELINK")
    assert request.by_link and request.note == "for the audit"
    (refreshed,) = bot.standin.wait_for("views.publish", where=published_to("U0HOMELINK"))
    assert "asked by link" in visible(refreshed.args["view"])


def test_a_slack_connect_member_gets_the_button_and_answers(bot):
    asker = bot.person("U0CONNECT")
    sent = asker.command(f"request <@{PARTNER}|partner> wix for the audit")
    said = bot.standin.reply_to(sent)
    assert "Asked <@U0PARTNER> by direct message" in said.args["text"]
    assert "another organisation (Slack Connect)" in said.args["text"]
    (dm,) = bot.standin.dms(PARTNER)
    partner = bot.person(PARTNER).in_team("T0PARTNER")
    bot.standin.reset()
    opened = bot.standin.opened_by(partner.click(dm.args["blocks"], OPEN_REQUEST_FORM))
    partner.submit(opened.response["view"]["id"], good())
    bot.standin.updated(opened.response["view"]["id"])
    (stored,) = bot.runtime.store.list_for_user(bot.slack.team_id, "U0CONNECT")
    assert stored.provided_by == PARTNER and stored.store_name == "The Plant Shop"


def test_when_slack_cannot_reach_them_the_requester_gets_a_link(bot):
    asker = bot.person("U0WALLASK")
    sent = asker.command(f"request <@{WALLED}|walled> wix")
    said = bot.standin.reply_to(sent)
    assert "another organisation" in said.args["text"]
    assert LINK.search(visible(said.args["blocks"]))
    states = {r.state for r in bot.runtime.store.requests_of(bot.slack.team_id, "U0WALLASK")}
    assert states == {"unreached", "open"}  # the Slack request closed, the link open
    # Nothing reached them (the one try Slack refused).
    assert not [c for c in bot.standin.calls_to("chat.postMessage")
                if c.args.get("channel") == "D" + WALLED[1:] and c.response.get("ok")]  # fmt: skip


def test_a_key_verified_through_a_link_reaches_the_change_feed(bot):
    asker = bot.person("U0FEED")
    sent = asker.command("request link wix")
    said = bot.standin.reply_to(sent)
    url = LINK.search(visible(said.args["blocks"])).group(0)
    page = httpx.get(url)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    done = httpx.post(url, data={"csrf": csrf, "api_key": wix_platform.KEY,
                                 "account_id": wix_platform.ACCOUNT}, timeout=30)
    assert done.status_code == 200 and "Verified" in done.text
    (stored,) = bot.runtime.store.list_for_user(bot.slack.team_id, "U0FEED")
    feed = bot.runtime.store.changes_since(bot.slack.team_id, 0, limit=500)
    verified = [c.data["credential"] for c in feed if c.type == changes.VERIFIED]
    assert [c["provided_by"] for c in verified if c["id"] == stored.id] == ["link"]
    assert wix_platform.KEY not in str([c.as_json() for c in feed])


def test_link_pages_are_rate_limited_per_client_address(bot):
    (route, _) = link_routes(bot.runtime, rate_per_minute=3)

    def request(client: str) -> Request:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        return Request("GET", "/k/" + "x" * 43, "", {}, 0, receive, client=client)

    statuses = [bot.on_loop(route.handler(request("10.0.0.1"))).status for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    assert bot.on_loop(route.handler(request("10.0.0.2"))).status == 404  # another address
