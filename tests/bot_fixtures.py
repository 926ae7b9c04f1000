"""Fixtures that run the real bot: the app served by waitress on a free port, talking to the
Slack stand-in (SLACK_API_URL) and to local platform servers (GETKEY_<ID>_API_URL), with a
fresh SQLite database. Test modules use them with `pytest_plugins = ("tests.bot_fixtures",)`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from waitress.server import create_server

from bot.app import build_app
from bot.blocks import validate_blocks, validate_view
from bot.server import make_wsgi_app
from bot.services import Services
from bot.settings import load_settings
from bot.store.crypto import generate_key
from bot.store.db import upgrade
from flows.http import PlatformHttp
from tests.platforms.server import PlatformServer
from tests.platforms.wix import WixServer
from tests.slack_standin import SlackSender, SlackStandIn

SIGNING_SECRET = "5ecre7e1gningSe1ectfortest5only"
BOT_TOKEN = "xoxb-1111-2222-standinbottoken"


@dataclass
class RunningBot:
    url: str
    standin: SlackStandIn
    slack: SlackSender  # signed requests as the default test person
    services: Services
    db_path: Path
    environ: dict[str, str]

    def person(self, user_id: str) -> SlackSender:
        return self.slack.as_user(user_id)


def bot_environ(standin: SlackStandIn, db_path: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.api_url,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "GETKEY_ENCRYPTION_KEYS": generate_key(),
        "GETKEY_LISTENER_THREADS": "8",
    }


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(bot_token=BOT_TOKEN) as s:
        yield s


@pytest.fixture
def wix_server() -> Iterator[WixServer]:
    with WixServer() as s:
        yield s


def start_bot(
    tmp_path: Path, standin: SlackStandIn, platforms: list[PlatformServer]
) -> tuple[RunningBot, Any, threading.Thread]:
    db_path = tmp_path / "getkey.db"
    environ = bot_environ(standin, db_path)
    settings = load_settings(environ)
    upgrade(settings.database_url)
    http = PlatformHttp(
        environ={p.env_name(): p.url for p in platforms}, total_timeout=5.0, connect_timeout=5.0
    )
    services = Services.from_settings(settings, http=http)
    app = build_app(services)
    server = create_server(make_wsgi_app(app, services), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}"
    running = RunningBot(
        url=url,
        standin=standin,
        slack=SlackSender(url, SIGNING_SECRET, standin),
        services=services,
        db_path=db_path,
        environ=environ,
    )
    return running, server, thread


@pytest.fixture
def bot(tmp_path: Path, standin: SlackStandIn, wix_server: WixServer) -> Iterator[RunningBot]:
    running, server, thread = start_bot(tmp_path, standin, [wix_server])
    try:
        yield running
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(timeout=5)
        running.services.close()


# -- what the person sees, validated ------------------------------------------------------
VIEW_METHODS = ("views.open", "views.update", "views.publish")
MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "response_url")


def check_message(body: dict[str, Any]) -> dict[str, Any]:
    """A message body (ack, response_url, chat.*) must parse with slack_sdk and fit the limits."""
    from slack_sdk.models.blocks import Block

    assert body.get("text") or body.get("blocks"), "a message needs text or blocks"
    blocks = body.get("blocks") or []
    assert all(Block.parse(b) is not None for b in blocks)
    validate_blocks(blocks, surface="message")
    return body


def check_view(view: dict[str, Any]) -> dict[str, Any]:
    from slack_sdk.models.views import View

    View(**{k: v for k, v in view.items() if k not in ("id", "hash")}).to_dict()
    return validate_view({k: v for k, v in view.items() if k not in ("id", "hash")})


def check_everything_sent(standin: SlackStandIn) -> int:
    """Validate every view and message the bot sent through the stand-in; returns the count."""
    count = 0
    for call in list(standin.calls):
        if call.method in VIEW_METHODS:
            check_view(call.args["view"])
            count += 1
        elif call.method in MESSAGE_METHODS:
            check_message(call.args)
            count += 1
    return count
