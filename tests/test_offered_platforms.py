"""The platforms a workspace offers hold for asking someone else too: a key cannot be requested
for a platform the workspace's admins switched off, and a request made before the switch cannot
be answered after it. (Before issue 15 the request path never checked.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.slack.ui import ids
from bot.store.admin import Defaults
from bot.store.sharing_models import CredentialRequest
from tests.bot_fixtures import BOT_TOKEN, RunningBot, start_bot
from tests.platforms.wix import WixServer
from tests.slack_standin import SlackStandIn, check_everything_sent, find_element
from tests.slack_standin import visible_text as visible


@pytest.fixture
def bot(tmp_path) -> Iterator[RunningBot]:
    with SlackStandIn(bot_token=BOT_TOKEN) as standin, WixServer() as wix:
        running, stop = start_bot(tmp_path, standin, [wix])
        try:
            yield running
            check_everything_sent(standin)
        finally:
            stop()


def offer_only(bot: RunningBot, *platforms: str) -> None:
    team = bot.slack.team_id
    bot.runtime.store.set_workspace_defaults(
        team, None, Defaults(platforms=tuple(platforms)), actor="test"
    )
    bot.runtime.admins.forget(team)


def requests_in(bot: RunningBot) -> list[str]:
    with bot.runtime.store.engine.connect() as conn:
        return list(conn.scalars(sa.select(CredentialRequest.platform)))


def dms_to(bot: RunningBot, user_id: str) -> list[str]:
    channel = "D" + user_id[1:]
    return [visible(c.args.get("blocks") or c.args.get("text") or "")
            for c in bot.standin.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def test_a_key_cannot_be_asked_for_a_platform_the_workspace_switched_off(bot: RunningBot):
    offer_only(bot, "bigcommerce")
    said = bot.standin.reply_to(
        bot.person("U0REQUESTER").command("request <@U0PROVIDER|pat> wix for the migration"))
    assert "Wix is not offered in this workspace" in said.args["text"]
    assert requests_in(bot) == []
    assert dms_to(bot, "U0PROVIDER") == []  # nobody was asked

    # A platform it offers still works.
    bot.standin.reset()
    said = bot.standin.reply_to(
        bot.person("U0REQUESTER").command("request <@U0PROVIDER|pat> bigcommerce please"))
    assert "Asked <@U0PROVIDER>" in said.args["text"]
    assert requests_in(bot) == ["bigcommerce"]


def test_a_request_made_before_the_switch_cannot_be_answered_after_it(bot: RunningBot):
    bot.person("U0REQUESTER").command("request <@U0PROVIDER|pat> wix for the migration")
    (dm,) = bot.standin.wait_for(
        "chat.postMessage", where=lambda c: c.args.get("channel") == "D0PROVIDER"
    )
    offer_only(bot, "bigcommerce")
    bot.standin.reset()
    bot.person("U0PROVIDER").click(dm.args["blocks"], ids.OPEN_REQUEST_FORM)
    (told,) = bot.standin.wait_for(
        "chat.postMessage", where=lambda c: c.args.get("channel") == "D0PROVIDER"
    )
    assert "Wix is not offered in this workspace" in told.args["text"]
    assert bot.standin.calls_to("views.open") == []  # no form to fill in
    assert find_element(dm.args["blocks"], ids.OPEN_REQUEST_FORM)
