"""`/getkey request @pat wix` as real Slack sends it. The manifest turns on escaping for
/getkey, so Slack sends the mention as `<@U…|pat>`; a pasted `<@U…>` works too. The Slack
stand-in follows the manifest: with escaping off it sends `@pat` as typed, which no command
can turn into a person (the reason escaping is on)."""

from __future__ import annotations

import json

from tests.slack_standin import MANIFEST, command_escapes, unescaped

pytest_plugins = ("tests.bot_fixtures",)


def test_the_manifest_escapes_getkey_so_mentions_arrive_as_ids() -> None:
    manifest = json.loads(MANIFEST.read_text())
    (getkey,) = [c for c in manifest["features"]["slash_commands"] if c["command"] == "/getkey"]
    assert getkey["should_escape"] is True and command_escapes("/getkey") is True


def test_the_standin_sends_what_slack_would_for_each_setting() -> None:
    typed = "request <@U0PAT|pat> wix in <#C0GEN|general>"
    assert unescaped(typed) == "request @pat wix in #general"
    assert unescaped("request <@U0PAT> wix") == "request @U0PAT wix"


def test_an_escaped_mention_and_a_pasted_one_both_open_a_request(bot) -> None:
    asker = bot.person("U0MENTIONS")
    sent = asker.command("request <@U0PATESC|pat> wix for the migration")
    said = bot.standin.reply_to(sent)
    assert "Asked <@U0PATESC>" in said.args["text"]
    sent = asker.command("request <@U0PASTED> ecwid")
    assert "Asked <@U0PASTED>" in bot.standin.reply_to(sent).args["text"]
    asked = {r.provider_id for r in bot.runtime.store.requests_of(bot.slack.team_id, "U0MENTIONS")}
    assert asked == {"U0PATESC", "U0PASTED"}


def test_with_escaping_off_slack_sends_the_name_as_typed_and_nothing_is_asked(bot) -> None:
    asker = bot.person("U0NOESCAPE")
    sent = asker.command("request <@U0PATRAW|pat> wix", escape=False)  # arrives as "@pat"
    said = bot.standin.reply_to(sent)
    assert "Usage: `/getkey request @person" in said.args["text"]
    assert bot.runtime.store.requests_of(bot.slack.team_id, "U0NOESCAPE") == []
