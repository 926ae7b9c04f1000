"""Fixtures that run the real bot: the app served by waitress on a free port, talking to the
Slack stand-in (SLACK_API_URL) and to local platform servers (GETKEY_<ID>_API_URL), with a
fresh SQLite database. Test modules use them with `pytest_plugins = ("tests.bot_fixtures",)`.
Starting a bot costs about a second, so one runs per test module and each test gets a new
person and an empty call log.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import build_app
from bot.runtime import Runtime
from bot.settings import load_settings
from bot.store.crypto import generate_key
from bot.store.db import upgrade
from bot.web import make_asgi_app, make_server
from flows.http import PlatformHttp
from tests.platforms.server import PlatformServer
from tests.platforms.wix import WixServer
from tests.slack_standin import SlackSender, SlackStandIn, check_everything_sent

SIGNING_SECRET = "5ecre7e1gningSe1ectfortest5only"
BOT_TOKEN = "xoxb-1111-2222-standinbottoken"


@dataclass
class RunningBot:
    url: str
    standin: SlackStandIn
    slack: SlackSender  # signed requests as the default test person
    runtime: Runtime
    db_path: Path
    environ: dict[str, str]
    platforms: dict[str, PlatformServer]

    def person(self, user_id: str) -> SlackSender:
        return self.slack.as_user(user_id)


def bot_environ(standin: SlackStandIn, db_path: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.api_url,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "GETKEY_ENCRYPTION_KEYS": generate_key(),
    }


def start_bot(
    tmp_path: Path,
    standin: SlackStandIn,
    platforms: list[PlatformServer],
    *,
    extra_env: Mapping[str, str] | None = None,
    platform_timeout: float = 5.0,
) -> tuple[RunningBot, Callable[[], None]]:
    """The real app on uvicorn on a free port, its event loop in a thread; returns it and a
    function that stops it (the way SIGTERM would: in-flight work finishes first).
    `extra_env` overrides settings (GETKEY_LISTENER_THREADS, another DATABASE_URL or key)."""
    db_path = tmp_path / "getkey.db"
    environ = {**bot_environ(standin, db_path), **(extra_env or {})}
    settings = load_settings(environ)
    upgrade(settings.database_url)
    http = PlatformHttp(
        environ={p.env_name(): p.url for p in platforms},
        total_timeout=platform_timeout,
        connect_timeout=platform_timeout,
    )
    runtime = Runtime.from_settings(settings, http=http, user_gap=0.0)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def main() -> None:
        app = build_app(runtime)
        asgi = make_asgi_app(
            bolt_app=app, signing_secret=SIGNING_SECRET, health=runtime.health
        )
        # No scheduler: tests run sweeps themselves, at the moments they choose.
        server = make_server(asgi, "127.0.0.1", port, on_shutdown=runtime.shutdown)
        holder["server"] = server
        ready.set()
        await server.serve(sockets=[sock])

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(10)
    url = f"http://127.0.0.1:{port}"
    _wait_until_serving(url)
    running = RunningBot(
        url=url,
        standin=standin,
        slack=SlackSender(url, SIGNING_SECRET, standin),
        runtime=runtime,
        db_path=db_path,
        environ=environ,
        platforms={p.flow_id: p for p in platforms},
    )

    def stop() -> None:
        server = holder["server"]
        loop.call_soon_threadsafe(setattr, server, "should_exit", True)
        thread.join(30)
        runtime.close()

    return running, stop


def _wait_until_serving(url: str) -> None:
    import time

    import httpx

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/healthz", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("the bot did not start")


@pytest.fixture(scope="module")
def bot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """One running bot per test module (starting one costs about a second)."""
    with SlackStandIn(bot_token=BOT_TOKEN) as standin, WixServer() as wix:
        running, stop = start_bot(tmp_path_factory.mktemp("bot"), standin, [wix])
        try:
            yield running
        finally:
            stop()


_people = itertools.count(1)


@pytest.fixture
def bot(bot_server: RunningBot) -> Iterator[RunningBot]:
    """The module's bot, seen by a person who has never used it, with an empty call log.
    Afterwards, every view and message the bot sent during the test must be valid Block Kit."""
    bot_server.standin.reset()
    for server in bot_server.platforms.values():
        server.requests.clear()
        server.fault = None
    person = f"U{next(_people):03d}PERSON"
    yield dataclasses.replace(bot_server, slack=bot_server.slack.as_user(person))
    check_everything_sent(bot_server.standin)

