"""The local console (no Slack settings at all): `getkey serve` prints a one-time login address
for 127.0.0.1, keeps a generated encryption key beside the SQLite database (mode 0600), refuses
a wrong token and a foreign Host header; in a real browser, a platform's guide, a refused key,
a verified and stored key listed with its next reminder, and its deletion."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.http.console import LOCAL, make_console
from bot.http.edge import routes_app
from bot.http.serving import make_server
from bot.keyfile import create_key, key_file_for
from bot.runtime import Runtime
from bot.settings import load_settings, use_key_file
from bot.store.db import upgrade
from flows.http import PlatformHttp
from tests.browser import DESKTOP, PHONE, browser, screenshot  # noqa: F401 - a fixture
from tests.platforms import wix as wix_platform
from tests.platforms.wix import WixServer

LOGIN = re.compile(r"http://127\.0\.0\.1:(\d+)/console/login\?token=([A-Za-z0-9_-]{43})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_run_with_nothing_set_prints_the_console_address(tmp_path: Path):
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": str(port),
           "HOME": str(tmp_path)}
    getkey = Path(sys.executable).with_name("getkey")
    proc = subprocess.Popen([str(getkey), "serve"], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        found = None
        deadline = time.monotonic() + 90
        while found is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, proc.stderr.read()
            found = LOGIN.search(line)
        assert found and int(found.group(1)) == port
        token = found.group(2)
        key_file = tmp_path / "getkey.db.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        url = f"http://127.0.0.1:{port}/console/login"
        _wait_listening(port)
        assert httpx.get(url, params={"token": "x" * 43}).status_code == 403
        rebinding = httpx.get(url, params={"token": token},
                              headers={"Host": f"evil.example:{port}"})
        assert rebinding.status_code == 403  # and the token is still good:
        ok = httpx.get(url, params={"token": token})
        assert ok.status_code == 303 and ok.headers["location"] == "/console"
        cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert httpx.get(url, params={"token": token}).status_code == 403  # one time only
        home = httpx.get(f"http://127.0.0.1:{port}/console",
                         headers={"Cookie": cookie.split(";")[0]})
        assert home.status_code == 200 and str(key_file) in home.text
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert token not in err and "evil.example" not in err
    assert key_file.read_text().strip() not in err


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)


def test_the_key_file_is_made_once_and_read_by_every_mode(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'getkey.db'}"
    path = key_file_for(url)
    assert path == tmp_path / "getkey.db.key"
    first = create_key(path)
    assert create_key(path) == first  # never overwritten
    # Slack mode with the variable unset reads the same key.
    settings = load_settings({"DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
                              "SLACK_SIGNING_SECRET": "abcdefghij0123456789"})
    assert settings.secret("getkey_encryption_keys") == first and settings.key_file == str(path)
    # The variable always wins over the file.
    other = load_settings({"DATABASE_URL": url, "GETKEY_ENCRYPTION_KEYS": "k" * 43},
                          require_slack=False, require_encryption=False)
    assert other.secret("getkey_encryption_keys") == "k" * 43 and other.key_file is None
    assert key_file_for("postgresql+psycopg://u@h/db") is None


def test_some_slack_settings_but_not_all_still_stop_start_up(tmp_path: Path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "SLACK_SIGNING_SECRET": "abcdefghij0123456789"}
    getkey = Path(sys.executable).with_name("getkey")
    done = subprocess.run([str(getkey), "serve"], cwd=tmp_path, env=env, text=True,
                          capture_output=True, timeout=60)
    assert done.returncode != 0 and "SLACK_BOT_TOKEN is not set" in done.stderr
    assert "console" not in done.stdout


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, Any]]:
    tmp = tmp_path_factory.mktemp("console")
    with WixServer() as wix:
        settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp / 'getkey.db'}"},
                                 require_slack=False, require_encryption=False)
        use_key_file(settings, create=True)
        upgrade(settings.database_url)
        rt = Runtime.from_settings(settings, http=PlatformHttp(environ={wix.env_name(): wix.url}))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        made = make_console(rt, port)
        loop = asyncio.new_event_loop()
        holder: dict[str, Any] = {}

        async def main() -> None:
            holder["server"] = make_server(routes_app(made.routes()), "127.0.0.1", port)
            await holder["server"].serve(sockets=[sock])

        thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
        thread.start()
        _wait_listening(port)
        try:
            yield f"http://127.0.0.1:{port}", made, rt
        finally:
            loop.call_soon_threadsafe(setattr, holder["server"], "should_exit", True)
            thread.join(30)
            rt.close()


def test_console_journey_in_a_browser(console, browser):  # noqa: F811 - the fixture
    base, made, rt = console
    page = browser.new_page(viewport=PHONE)
    assert page.goto(base + "/console").status == 401
    assert page.goto(base + "/console/login?token=wrong").status == 403
    assert page.inner_text("h1") == "Login refused"
    page.goto(made.login_url)
    assert page.url == base + "/console" and page.inner_text("h1") == "getkey console"
    assert "No key stored yet" in page.inner_text("main")
    page.click("text=Wix")
    assert "Wix: get an API key" in page.inner_text("section.guide")
    page.fill("#f-api_key", wix_platform.KEY[:-3] + "zzz")
    page.fill("#f-account_id", wix_platform.ACCOUNT)
    page.click("button[type=submit]")
    page.wait_for_selector("#problem")
    assert "Wix did not accept this key" in page.inner_text("#problem")
    page.fill("#f-api_key", wix_platform.KEY)
    page.fill("#f-account_id", wix_platform.ACCOUNT)
    page.click("button[type=submit]")
    page.wait_for_selector(".success")
    assert "The Plant Shop" in page.inner_text(".success")
    assert "Next reminder" in page.inner_text(".success")
    assert wix_platform.KEY not in page.content()
    page.click("text=Back to the console")
    row = page.inner_text("table")
    (stored,) = rt.credentials.mine(LOCAL)
    assert "The Plant Shop" in row and stored.masked in row
    assert stored.next_reminder_at.strftime("%d %b %Y") in row
    screenshot(page, "console-phone", only="#keys")
    page.click("button.danger")
    page.wait_for_selector("text=No key stored yet")
    assert rt.credentials.mine(LOCAL) == []
    page.close()


def test_a_console_form_without_csrf_or_from_another_host_is_refused(console):
    base, made, rt = console
    cookie = next(iter(made.sessions), None)
    if cookie is None:
        made.sessions.add("s" * 43)
        cookie = "s" * 43
    jar = {"Cookie": f"getkey_console={cookie}"}
    form = {"api_key": wix_platform.KEY, "account_id": wix_platform.ACCOUNT}
    assert httpx.post(base + "/console/p/wix", data=form, headers=jar).status_code == 403
    foreign = httpx.get(base + "/console", headers={**jar, "Host": "rebound.example"})
    assert foreign.status_code == 403 and "wrong address" in foreign.text
    assert rt.credentials.mine(LOCAL) == []
