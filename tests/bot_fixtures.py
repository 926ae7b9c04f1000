"""Fixtures that run the real bot: the app served by waitress on a free port, talking to the
Slack stand-in (SLACK_API_URL) and to local platform servers (GETKEY_<ID>_API_URL), with a
fresh SQLite database. Test modules use them with `pytest_plugins = ("tests.bot_fixtures",)`.
Starting a bot costs about a second, so one runs per test module and each test gets a new
person and an empty call log.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import itertools
import re
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from bot.cli.serve import make_asgi
from bot.http.serving import make_server
from bot.runtime import Runtime
from bot.settings import load_settings
from bot.slack.app import build_app
from bot.store.admin import Defaults
from bot.store.crypto import generate_key
from bot.store.db import upgrade
from bot.store.models import Reminder
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
    loop: asyncio.AbstractEventLoop | None = None

    def person(self, user_id: str) -> SlackSender:
        return self.slack.as_user(user_id)

    def on_loop(self, coro: Any, timeout: float = 30.0) -> Any:
        """Run a coroutine (a sweep, a token lookup) on the bot's own event loop."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


def bot_environ(standin: SlackStandIn, db_path: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.api_url,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "GETKEY_ENCRYPTION_KEYS": generate_key(),
    }


def oauth_environ(standin: SlackStandIn, db_path: Path) -> dict[str, str]:
    """Installed by OAuth: client id and secret instead of a bot token."""
    environ = bot_environ(standin, db_path)
    del environ["SLACK_BOT_TOKEN"]
    return {**environ, "SLACK_CLIENT_ID": standin.client_id,
            "SLACK_CLIENT_SECRET": standin.client_secret}


def start_bot(
    tmp_path: Path,
    standin: SlackStandIn,
    platforms: list[PlatformServer],
    *,
    oauth: bool = False,
    extra_env: Mapping[str, str] | None = None,
    platform_timeout: float = 5.0,
) -> tuple[RunningBot, Callable[[], None]]:
    """The real app on uvicorn on a free port, its event loop in a thread; returns it and a
    function that stops it (the way SIGTERM would: in-flight work finishes first).
    `extra_env` overrides settings (GETKEY_LISTENER_THREADS, another DATABASE_URL or key)."""
    db_path = tmp_path / "getkey.db"
    environ = {**(oauth_environ if oauth else bot_environ)(standin, db_path), **(extra_env or {})}
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
        # The same routes as `getkey serve --http` (bot.cli.serve.make_asgi).
        asgi = make_asgi(runtime, build_app(runtime))
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
        loop=loop,
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

    deadline = time.monotonic() + 30  # roomy for a loaded CI machine; a started bot answers at once
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/healthz", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("the bot did not start")


def bot_server_fixture(standin_type: type[SlackStandIn] = SlackStandIn, *,
                       links: bool = False,
                       platform: Callable[[], PlatformServer] = WixServer) -> Any:
    """The `bot_server` fixture: one running bot per test module (starting one costs about a
    second) with a local `platform` (Wix unless told), talking to a `standin_type` (a stand-in
    that answers some calls its own way); with `links`, request links point at the bot itself."""

    @pytest.fixture(scope="module", name="bot_server")
    def bot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
        with standin_type(bot_token=BOT_TOKEN) as standin, platform() as server:
            running, stop = start_bot(tmp_path_factory.mktemp("bot"), standin, [server])
            if links:  # the public address is the bot's own, known once it listens
                running.runtime.links.public_url = running.url
            try:
                yield running
            finally:
                stop()

    return bot_server


def checked_bot_fixture(*, reset_defaults: bool = False) -> Any:
    """The `bot` fixture of a module that keeps its people across tests: the module's bot with
    an empty call log (Slack's and the platforms'). Afterwards, every view and message the bot
    sent during the test must be valid Block Kit; with `reset_defaults`, the workspace's
    defaults (which the module's tests set) are back to none."""

    @pytest.fixture(name="bot")
    def bot(bot_server: RunningBot) -> Iterator[RunningBot]:
        bot_server.standin.reset()
        for server in bot_server.platforms.values():
            server.requests.clear()
        yield bot_server
        if reset_defaults:
            set_defaults(bot_server, Defaults())
        check_everything_sent(bot_server.standin)

    return bot


def set_defaults(bot: RunningBot, defaults: Defaults) -> None:
    """The workspace's defaults, as an admin would save them (the cached ones forgotten)."""
    team = bot.slack.team_id
    bot.runtime.store.set_workspace_defaults(team, None, defaults, actor="test")
    bot.runtime.admins.forget(team)


def pending_stages(bot: RunningBot, credential_id: str) -> list[str]:
    """The stages of a credential's reminders still to send (rotation…, needed-until…)."""
    with bot.runtime.store.engine.connect() as c:
        return list(c.scalars(sa.select(Reminder.stage).where(
            Reminder.credential_id == credential_id, Reminder.sent_at.is_(None))))


bot_server = bot_server_fixture()


@pytest.fixture(scope="module")
def oauth_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    with SlackStandIn(bot_token="xoxb-not-used-in-oauth-mode") as standin, WixServer() as w:
        running, stop = start_bot(tmp_path_factory.mktemp("oauth"), standin, [w], oauth=True)
        try:
            yield running
        finally:
            stop()


def begin_install(base_url: str) -> tuple[str, str, str]:
    """Open the "Add to Slack" page: (authorize URL, state, state cookie)."""
    page = httpx.get(base_url + "/slack/install")
    assert page.status_code == 200, page.text
    link = html.unescape(re.search(r'<a href="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    state = parse_qs(urlsplit(link).query)["state"][0]
    cookie = page.headers["set-cookie"].split(";")[0]
    return link, state, cookie


def finish_install(base_url: str, code: str, state: str, cookie: str) -> httpx.Response:
    return httpx.get(base_url + "/slack/oauth_redirect", params={"code": code, "state": state},
                     headers={"Cookie": cookie})


def install(bot: RunningBot, team: str, **grant: Any) -> None:
    _, state, cookie = begin_install(bot.url)
    done = finish_install(bot.url, bot.standin.authorize(team, **grant), state, cookie)
    assert done.status_code == 200, done.text


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

