""""Still needed?" answered from Slack (issue 19): Done forgets the key and shows the
platform's revocation steps in place. The real app over real sockets, the local Slack."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.slack.ui import ids
from flows import catalog
from flows.base import VerifyResult
from tests.platforms import wix
from tests.reminder_driver import Driver

pytest_plugins = ("tests.bot_fixtures",)
WIX = catalog.get("wix")


def test_done_on_still_needed_deletes_and_shows_the_revocation_steps(bot) -> None:
    now = datetime.now(UTC)
    info = bot.runtime.store.save(
        team_id=bot.slack.team_id, user_id=bot.slack.user_id, flow=WIX,
        values={"api_key": wix.KEY, "account_id": wix.ACCOUNT, "site_id": ""},
        result=VerifyResult(ok=True, store_name="The Plant Shop"),
        purpose="write", needed_until=now + timedelta(days=10),
    ).credential  # fmt: skip
    driver = Driver(bot.runtime.store, bot.standin.api_url,
                    bot.runtime.settings.secret("slack_bot_token"), bot.runtime.clock)
    sent = [s for s in driver.sweep(now + timedelta(days=7, hours=1))
            if s.owner == bot.slack.user_id]
    assert [s.stage for s in sent] == ["end-ask"]
    mine = "D" + bot.slack.user_id[1:]
    (dm,) = [c for c in bot.standin.calls_to("chat.postMessage") if c.args["channel"] == mine
             and "Still needed" in c.args.get("text", "")]
    reply = bot.standin.reply_to(bot.slack.click(dm.args["blocks"], ids.END_DONE))
    shown = json.dumps(reply.args.get("blocks"), ensure_ascii=False)
    assert "Account Settings › API Keys" in shown and "*Delete*" in shown
    assert "deleted its copy" in shown
    assert bot.runtime.store.get(info.id) is None
    assert bot.runtime.store.changes_since(bot.slack.team_id)[-1].type == "credential.deleted"
    for call in bot.standin.calls:
        assert wix.KEY.encode() not in call.raw


def test_deleting_any_key_shows_that_platforms_revocation_steps() -> None:
    from bot.slack.ui.modals import deleted_view
    from bot.store.info import CredentialInfo

    for flow in catalog.all_flows():
        info = CredentialInfo(id="c1", team_id="T1", user_id="U1", platform=flow.id,
                              identity="shop", masked="••••••abcd",
                              created_at=datetime.now(UTC))
        shown = json.dumps(deleted_view(info), ensure_ascii=False)
        assert all(json.dumps(step.title, ensure_ascii=False)[1:-1] in shown
                   for step in flow.revoke_steps), flow.id
