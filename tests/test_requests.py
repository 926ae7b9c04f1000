"""Asking someone else for a key, through the local Slack and a local Wix: request → the
provider's DM with the guide and a button → form → verified → stored for the requester (who
owns it and sees it listed), the provider recorded; refused across workspaces and past the
limit of open requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.listeners.requests import OPEN_REQUEST_FORM, parse
from bot.ui import ids
from tests.bot_fixtures import BOT_TOKEN, RunningBot, start_bot
from tests.platforms import wix as wix_platform
from tests.platforms.wix import WixServer
from tests.slack_standin import SlackStandIn, check_everything_sent
from tests.slack_standin import visible_text as visible
from tests.test_slack_journey import good

STRANGER = "U0STRANGER"  # a member of another workspace


class TwoTeamStandIn(SlackStandIn):
    def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        answer = super()._api_users_info(args)
        if args.get("user") == STRANGER:
            answer["user"]["team_id"] = "T0ANOTHER"
        return answer


@pytest.fixture(scope="module")
def bot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    with TwoTeamStandIn(bot_token=BOT_TOKEN) as standin, WixServer() as wix:
        running, stop = start_bot(tmp_path_factory.mktemp("bot"), standin, [wix])
        try:
            yield running
        finally:
            stop()


@pytest.fixture
def bot(bot_server: RunningBot) -> Iterator[RunningBot]:
    bot_server.standin.reset()
    yield bot_server
    check_everything_sent(bot_server.standin)


def test_mentions_are_read_from_slack_escapes():
    assert parse("<@U0ANA|ana> wix for the migration") == ("U0ANA", "wix", "for the migration")
    assert parse("<@W0ANA> ecwid") == ("W0ANA", "ecwid", "")
    assert parse("@ana wix") is None and parse("<@U0ANA|ana>") is None


def test_request_journey_the_key_ends_up_with_the_requester(bot):
    requester = bot.person("U0REQUESTER")
    provider = bot.person("U0PROVIDER")
    store = bot.runtime.store

    # The requester asks; the provider gets a DM with who asks, the note, the guide, a button.
    requester.command("request <@U0PROVIDER|pat> wix for the store migration")
    (said,) = bot.standin.wait_for("response_url")
    assert "Asked <@U0PROVIDER>" in said.args["text"]
    (dm_open,) = bot.standin.wait_for("conversations.open")
    assert dm_open.args["users"] == "U0PROVIDER"
    (dm,) = bot.standin.wait_for("chat.postMessage")
    shown = visible(dm.args["blocks"])
    assert "<@U0REQUESTER> asks you for a *Wix* API key" in shown
    assert "for the store migration" in shown and "Wix: get an API key" in shown
    (request,) = store.requests_of(bot.slack.team_id, "U0REQUESTER")
    assert request.state == "open" and request.provider_id == "U0PROVIDER"

    # Someone else cannot answer it.
    bot.standin.reset()
    bot.person("U0NOSY").click(dm.args["blocks"], OPEN_REQUEST_FORM)
    (refusal,) = bot.standin.wait_for("chat.postMessage")
    assert "not addressed to you" in refusal.args["text"]
    assert bot.standin.calls_to("views.open") == []

    # The provider opens the form; the requester is told.
    bot.standin.reset()
    provider.click(dm.args["blocks"], OPEN_REQUEST_FORM)
    (opened,) = bot.standin.wait_for("views.open")
    assert opened.response["ok"]
    view_id = opened.response["view"]["id"]
    (told,) = bot.standin.wait_for("chat.postMessage")
    assert "opened the form" in told.args["text"]
    assert "U0REQUESTER" in bot.standin.calls_to("conversations.open")[-1].args["users"]
    assert store.get_request(request.id).state == "opened"

    # A wrong key: the requester hears it failed, in words, without the value.
    bot.standin.reset()
    wrong = wix_platform.KEY[:-3] + "zzz"
    provider.submit(view_id, good(**{ids.field_block("api_key"): wrong}))
    bot.standin.wait_for("views.update")
    (failed,) = bot.standin.wait_for("chat.postMessage")
    assert "failed" in failed.args["text"] and wrong not in failed.args["text"]
    assert store.get_request(request.id).state == "failed"

    # The right key: verified, stored for the requester, provider recorded, requester told.
    bot.standin.reset()
    provider.submit(view_id, good())
    (result,) = bot.standin.wait_for("views.update")
    assert "Wix key verified" in visible(result.args["view"])
    (stored,) = store.list_for_user(bot.slack.team_id, "U0REQUESTER")
    assert stored.provided_by == "U0PROVIDER" and stored.store_name == "The Plant Shop"
    assert store.list_for_user(bot.slack.team_id, "U0PROVIDER") == []
    (confirmation,) = bot.standin.wait_for("chat.postMessage")
    assert confirmation.args["channel"] == "D0REQUESTER"
    assert "The Plant Shop" in visible(confirmation.args["blocks"])
    done = store.get_request(request.id)
    assert done.state == "fulfilled" and done.credential_id == stored.id
    audit = [e for e in store.audit_events(stored.id) if e.action == "stored"]
    assert audit and audit[0].actor == "U0PROVIDER"

    # Listed for the requester.
    bot.standin.reset()
    requester.command("list")
    (listing,) = bot.standin.wait_for("response_url")
    assert "The Plant Shop" in visible(listing.args["blocks"])


def test_refused_across_workspaces_and_past_the_limit(bot):
    asker = bot.person("U0ASKER")
    asker.command(f"request <@{STRANGER}|stranger> wix")
    (said,) = bot.standin.wait_for("response_url")
    assert "own workspace" in said.args["text"]
    assert bot.standin.calls_to("chat.postMessage") == []
    assert bot.runtime.store.requests_of(bot.slack.team_id, "U0ASKER") == []

    limit = bot.runtime.settings.getkey_max_open_requests
    for n in range(limit):
        bot.standin.reset()
        asker.command(f"request <@U0PEER{n:02d}> wix")
        bot.standin.wait_for("response_url")
    bot.standin.reset()
    asker.command("request <@U0ONEMORE> wix")
    (said,) = bot.standin.wait_for("response_url")
    assert f"already have {limit} open requests" in said.args["text"]
    assert len(bot.runtime.store.requests_of(bot.slack.team_id, "U0ASKER")) == limit
    assert not [c for c in bot.standin.calls_to("conversations.open")
                if c.args["users"] == "U0ONEMORE"]  # fmt: skip
