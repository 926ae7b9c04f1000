"""A platform's `/getkey` journey end to end, through the local Slack and the flow's local
platform server: the pieces flow tests of typed-address platforms (Magento, PrestaShop) share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from bot.slack.ui import ids
from tests.bot_fixtures import BOT_TOKEN, RunningBot, start_bot
from tests.slack_standin import SlackStandIn, check_everything_sent, check_view, visible_text


def journey_bot_fixture() -> Any:
    """The module's `journey_bot` fixture: a running bot whose platform calls go to the
    module's `shared_server` (see tests.builders.platform_fixtures)."""

    @pytest.fixture(scope="module", name="journey_bot")
    def journey_bot(
        tmp_path_factory: pytest.TempPathFactory, shared_server: Any
    ) -> Iterator[RunningBot]:
        with SlackStandIn(bot_token=BOT_TOKEN) as standin:
            running, stop = start_bot(tmp_path_factory.mktemp("bot"), standin, [shared_server])
            try:
                yield running
            finally:
                stop()

    return journey_bot


def refuse_plain_http_then_verify(
    bot: RunningBot, server: Any, *, command: str, guide_says: str, url_field: str,
    form: dict[str, str], good_url: str,
) -> str:
    """`/getkey <command>`, the guide, its form: an http:// store address is refused on the
    field before anything is sent; then `form` with `good_url` verifies. Returns the text of
    the verified view."""
    guide = bot.slack.command(command).json()
    assert guide_says in visible_text(guide["blocks"])
    clicked = bot.slack.click(guide["blocks"], ids.OPEN_FORM)
    assert clicked.status == 200
    opened = bot.standin.opened_by(clicked)
    view_id = opened.response["view"]["id"]
    fields = {ids.field_block(k): v for k, v in form.items()}
    plain = {**fields, ids.field_block(url_field): "http://shop.example.com"}
    ack = bot.slack.submit(view_id, plain).json()
    assert ack["response_action"] == "errors"
    assert "HTTPS" in ack["errors"][ids.field_block(url_field)]
    assert server.requests == []  # a plain http:// address is refused before anything is sent
    good = {**fields, ids.field_block(url_field): good_url}
    assert bot.slack.submit(view_id, good).json()["response_action"] == "update"
    done = bot.standin.updated(view_id)
    return visible_text(check_view(done.args["view"]))


def assert_secrets_kept_out(bot: RunningBot, secrets: Iterable[str]) -> None:
    """No secret in clear in the database files or in anything sent to Slack, and every
    message sent to Slack well formed."""
    for secret in secrets:
        for path in bot.db_path.parent.glob(bot.db_path.name + "*"):
            assert secret.encode() not in path.read_bytes()
        assert all(secret.encode() not in call.raw for call in bot.standin.calls)
    check_everything_sent(bot.standin)
