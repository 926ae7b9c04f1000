"""`getkey serve` in Socket Mode, end to end: the real command as a subprocess, with
SLACK_APP_TOKEN set and no signing secret, connecting through apps.connections.open (Slack
stand-in) to a local Socket Mode endpoint (tests.socket_standin) over a real WebSocket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.ui import ids
from bot.store.crypto import generate_key
from tests.slack_standin import (
    APP_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    TEAM_ID,
    Call,
    SlackStandIn,
    check_everything_sent,
    check_message,
    find_element,
    visible_text,
)
from tests.socket_standin import SocketStandIn

REPO = Path(__file__).resolve().parents[1]
BOT_TOKEN = "xoxb-7777-6666-socketmodebottoken"
APP_TOKEN = "xapp-1-A0GETKEY1-4242-socketmodeapptoken0123456789"
USER_ID = "U0SOCKET1"
WAIT = 60.0  # bounded, so a broken client fails instead of hanging CI; roomy, as four test
# workers on two cores can make a cold start take tens of seconds (an exit still fails at once)


def getkey_command() -> list[str]:
    script = Path(sys.executable).parent / "getkey"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


@dataclass
class SocketBot:
    proc: subprocess.Popen[bytes]
    standin: SlackStandIn
    socket: SocketStandIn
    tmp_path: Path
    opened: list[Call]  # apps.connections.open calls made while starting

    def output(self) -> str:
        return "".join(
            (self.tmp_path / name).read_text(errors="replace") for name in ("out.log", "err.log")
        )


def serve_env(tmp_path: Path, standin: SlackStandIn, app_token: str) -> dict[str, str]:
    return {  # built from scratch: no proxy variables, no signing secret, no stray settings
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "SLACK_APP_TOKEN": app_token,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": standin.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/getkey.db",
        "GETKEY_ENCRYPTION_KEYS": generate_key(),
    }


def wait_until_connected(bot: SocketBot) -> None:
    """Fails as soon as the process exits, else after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not bot.socket.peers:
        if bot.proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"getkey serve did not connect:\n{bot.output()}")
        try:
            bot.socket.wait_for_connection(timeout=0.2)
        except AssertionError:
            continue


@pytest.fixture(scope="module")
def socket_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SocketBot]:
    """One `getkey serve` in Socket Mode per module (starting Python costs about a second)."""
    tmp_path = tmp_path_factory.mktemp("socket-mode")
    with SlackStandIn(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as standin, \
            SocketStandIn(app_id=APP_ID) as ws:
        standin.socket_url = ws.url
        env = serve_env(tmp_path, standin, APP_TOKEN)
        with open(tmp_path / "out.log", "wb") as out, open(tmp_path / "err.log", "wb") as err:
            proc = subprocess.Popen(
                [*getkey_command(), "serve"], cwd=tmp_path, env=env, stdout=out, stderr=err
            )
        bot = SocketBot(proc, standin, ws, tmp_path, opened=[])
        try:
            wait_until_connected(bot)
            bot.opened = standin.calls_to("apps.connections.open")
            yield bot
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture
def bot(socket_bot: SocketBot) -> Iterator[SocketBot]:
    assert socket_bot.proc.poll() is None, socket_bot.output()
    socket_bot.standin.reset()
    yield socket_bot
    # Whatever the app sent through the Web API during the test must be valid Block Kit.
    check_everything_sent(socket_bot.standin)


def command_payload(standin: SlackStandIn, text: str) -> dict[str, Any]:
    """A slash command as Socket Mode delivers it: the HTTP form fields, as JSON."""
    return {
        "token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": "getkey-test",
        "channel_id": CHANNEL_ID, "channel_name": "general", "user_id": USER_ID,
        "user_name": "socket.person", "command": "/getkey", "text": text, "api_app_id": APP_ID,
        "is_enterprise_install": "false", "response_url": standin.response_url(),
        "trigger_id": standin.issue_trigger(),
    }


def command(bot: SocketBot, text: str) -> dict[str, Any]:
    """Send `/getkey <text>` over the websocket; returns the message carried by the ack."""
    envelope_id = bot.socket.push("slash_commands", command_payload(bot.standin, text))
    ack = bot.socket.wait_for_ack(envelope_id, timeout=WAIT)
    assert set(ack) <= {"envelope_id", "payload"}, ack
    assert "payload" in ack, "the answer must ride in the ack itself"
    return check_message(ack["payload"])


# -- the journey ------------------------------------------------------------------------
def test_connects_with_the_app_token_and_no_signing_secret(bot):
    # No SLACK_SIGNING_SECRET in the environment, and yet the app started and connected.
    (opened,) = bot.opened
    assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"  # not the bot token
    assert opened.response == {"ok": True, "url": bot.socket.url}
    assert bot.socket.peers[0].path.endswith(f"ticket={bot.socket.ticket}&app_id={APP_ID}")
    assert bot.socket.rejected == [] and bot.socket.protocol_errors == []


def test_slash_command_answers_with_the_wix_guide_in_the_ack(bot):
    guide = command(bot, "wix")
    assert guide["response_type"] == "ephemeral"  # only the person who asked sees it
    assert guide["blocks"][0]["text"]["text"] == "Wix: get an API key"
    _, button = find_element(guide["blocks"], ids.OPEN_FORM)
    assert button["value"] == "wix"
    assert bot.standin.calls_to("chat.postMessage") == []  # nothing posted to the channel


def test_misspelt_name_suggests_wix_and_the_button_opens_its_guide(bot):
    suggestion = command(bot, "wxi")
    assert suggestion["response_type"] == "ephemeral"
    shown = visible_text(suggestion["blocks"])
    assert "Did you mean" in shown and "Wix" in shown
    block_id, button = find_element(suggestion["blocks"], ids.guide_action("wix"))

    # Pressing the suggested button arrives as an `interactive` envelope.
    response_url = bot.standin.response_url()
    click = {
        "type": "block_actions",
        "user": {"id": USER_ID, "username": "socket.person", "team_id": TEAM_ID},
        "api_app_id": APP_ID, "token": "legacy-verification-token",
        "trigger_id": bot.standin.issue_trigger(),
        "team": {"id": TEAM_ID, "domain": "getkey-test"}, "is_enterprise_install": False,
        "container": {"type": "message", "message_ts": "1700000000.000100",
                      "channel_id": CHANNEL_ID, "is_ephemeral": True},
        "channel": {"id": CHANNEL_ID, "name": "general"},
        "response_url": response_url,
        "actions": [{"action_id": button["action_id"], "block_id": block_id,
                     "type": "button", "value": button["value"],
                     "action_ts": f"{time.time():.6f}"}],
        "state": {"values": {}},
    }
    ack = bot.socket.wait_for_ack(bot.socket.push("interactive", click), timeout=WAIT)
    assert not ack.get("payload")  # a plain ack; the guide follows through response_url
    # This click's own answer (its response_url), never one trailing from an earlier test.
    (reply,) = bot.standin.wait_for("response_url", where=lambda c: c.url == response_url,
                                    timeout=WAIT)
    assert reply.args["blocks"][0]["text"]["text"] == "Wix: get an API key"


def test_events_api_envelope_publishes_the_home_tab(bot):
    event = {
        "token": "legacy-verification-token", "team_id": TEAM_ID, "api_app_id": APP_ID,
        "type": "event_callback", "event_id": "Ev0SOCKET01", "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": USER_ID, "channel": "D0SOCKET1",
                  "tab": "home", "event_ts": f"{time.time():.6f}"},
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True,
                            "is_enterprise_install": False}],
    }
    ack = bot.socket.wait_for_ack(bot.socket.push("events_api", event), timeout=WAIT)
    assert not ack.get("payload")
    (publish,) = bot.standin.wait_for(
        "views.publish", where=lambda c: c.args.get("user_id") == USER_ID, timeout=WAIT
    )
    assert publish.args["view"]["type"] == "home"


def test_answers_slacks_pings(bot):
    assert bot.socket.ping(b"are-you-there", timeout=WAIT) == b"are-you-there"


def test_moves_to_a_new_connection_when_slack_asks(bot):
    before = len(bot.socket.peers)
    opens = len(bot.standin.calls_to("apps.connections.open"))
    bot.socket.ask_to_reconnect()
    bot.socket.wait_for_connection(before + 1, timeout=WAIT)
    # The connection opened after the ask, not one recorded before it.
    opened = bot.standin.wait_for("apps.connections.open", opens + 1, timeout=WAIT)[opens]
    assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"
    assert opened.response["ok"] is True
    # Work carries on over the new connection.
    assert command(bot, "wix")["blocks"][0]["text"]["text"] == "Wix: get an API key"


def test_nothing_secret_in_the_output(bot):
    command(bot, "wix")
    output = bot.output()
    assert '"mode": "socket"' in output  # the start-up line: this really ran in Socket Mode
    for secret in (BOT_TOKEN, APP_TOKEN, bot.socket.ticket):
        assert secret not in output
    assert "Traceback" not in output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(r.get("msg") == "slack request" and r.get("kind") == "command" for r in lines)


def test_refused_app_token_stops_with_one_clean_line(tmp_path):
    wrong = "xapp-1-A0GETKEY1-9999-revokedapptoken0123456789"
    with SlackStandIn(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as standin, \
            SocketStandIn(app_id=APP_ID) as ws:
        standin.socket_url = ws.url
        proc = subprocess.run(
            [*getkey_command(), "serve"], cwd=tmp_path, env=serve_env(tmp_path, standin, wrong),
            capture_output=True, text=True, timeout=WAIT,
        )
    assert ws.peers == []
    assert proc.returncode != 0 and wrong not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("getkey: SLACK_APP_TOKEN") and "xapp-" in last  # says how to fix


# -- the stand-ins are strict, so the journey above can fail ------------------------------
def test_connections_open_takes_only_the_app_token():
    with SlackStandIn(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as standin:
        standin.socket_url = "ws://127.0.0.1:9/link/"
        client = WebClient(base_url=standin.api_url)
        assert client.apps_connections_open(app_token=APP_TOKEN)["url"] == standin.socket_url
        for wrong, error in ((BOT_TOKEN, "not_allowed_token_type"),
                             ("xapp-1-A0-1-someoneelse", "invalid_auth")):
            with pytest.raises(SlackApiError) as exc:
                client.apps_connections_open(app_token=wrong)
            assert exc.value.response["error"] == error


def upgrade_request(path: str) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n").encode()


def raw_client(ws: SocketStandIn) -> socket.socket:
    parts = urlsplit(ws.url)
    return socket.create_connection((parts.hostname or "", parts.port or 0), timeout=5)


def test_websocket_without_the_ticket_is_refused():
    with SocketStandIn() as ws, raw_client(ws) as sock:
        sock.sendall(upgrade_request("/link/?ticket=guess"))
        assert sock.recv(1024).startswith(b"HTTP/1.1 401")
        assert ws.rejected == ["wrong path or ticket"] and ws.peers == []


def test_unmasked_client_frame_is_a_protocol_error():
    with SocketStandIn() as ws, raw_client(ws) as sock:
        parts = urlsplit(ws.url)
        sock.sendall(upgrade_request(f"{parts.path}?{parts.query}"))
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(1)
        # RFC 6455's own example key and accept value.
        assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in reply
        sock.sendall(bytes([0x81, 2]) + b"{}")  # a text frame without the mask bit
        frames = b""  # the hello, then the close frame, then the server hangs up
        while chunk := sock.recv(4096):
            frames += chunk
        assert frames.endswith(bytes([0x88, 2]) + (1002).to_bytes(2, "big"))
        assert ws.protocol_errors == ["client frame not masked"]
