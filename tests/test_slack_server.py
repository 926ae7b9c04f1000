"""`getkey serve` as an operator meets it: one clear line for a bad setting, and a real HTTP
server that answers Slack when everything is set."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings
from bot.store.crypto import generate_key
from tests.platforms.wix import WixServer
from tests.serve_process import wait_healthy
from tests.slack_standin import SlackSender, SlackStandIn, check_message, find_element

REPO = Path(__file__).resolve().parents[1]
BOT_TOKEN = "xoxb-9999-8888-servetesttoken"
SIGNING_SECRET = "servesigningsecret0123456789abcd"


def getkey_command() -> list[str]:
    script = Path(sys.executable).parent / "getkey"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": f"sqlite:///{tmp_path}/getkey.db",
    }
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def run_serve(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*getkey_command(), "serve", *args],
        cwd=tmp_path,  # no stray .env
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_clean_line(proc: subprocess.CompletedProcess, *secrets: str) -> str:
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    for secret in secrets:
        assert secret not in proc.stderr
    return lines[0]


def test_missing_signing_secret_stops_http_mode_with_one_line(tmp_path):
    env = base_env(tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, GETKEY_ENCRYPTION_KEYS=generate_key())
    line = assert_one_clean_line(run_serve(tmp_path, env), BOT_TOKEN)
    assert "SLACK_SIGNING_SECRET" in line and "Signing Secret" in line
    assert not (tmp_path / "getkey.db").exists()  # refused before touching anything


def test_missing_encryption_key_says_how_to_create_one(tmp_path):
    env = base_env(tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET)
    line = assert_one_clean_line(run_serve(tmp_path, env), BOT_TOKEN, SIGNING_SECRET)
    assert "GETKEY_ENCRYPTION_KEYS" in line and "getkey keys generate" in line


def serve_in_process(monkeypatch, capsys, tmp_path: Path, env: dict[str, str]) -> str:
    """`getkey serve` through bot.cli.main in this process (same code path, no interpreter
    start-up); returns the one line it printed."""
    from bot.cli import main

    for name in [*(f.upper() for f in Settings.model_fields), "GETKEY_WIX_API_URL"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        assert main(["serve"]) != 0
    finally:  # serve configures logging for the process; give pytest its own back
        root.handlers[:] = handlers
        root.setLevel(level)
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert out == "" and len(lines) == 1, err
    return lines[0]


def test_malformed_encryption_key_is_named_but_not_printed(monkeypatch, capsys, tmp_path):
    bad = "not-a-real-key-but-secret-material"
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "GETKEY_ENCRYPTION_KEYS": bad, "DATABASE_URL": f"sqlite:///{tmp_path}/g.db"}
    line = serve_in_process(monkeypatch, capsys, tmp_path, env)
    assert "GETKEY_ENCRYPTION_KEYS" in line and "getkey keys generate" in line
    assert bad not in line and SIGNING_SECRET not in line


@pytest.mark.parametrize(
    ("name", "value"),
    [("SLACK_BOT_TOKEN", "xoxp-user-token-not-a-bot-token"), ("PORT", "eighty"),
     ("SLACK_APP_TOKEN", "not-an-app-token-secret"), ("SLACK_API_URL", "ftp://proxy.internal/x"),
     ("DATABASE_URL", "just-a-file-name")],
)
def test_malformed_setting_is_named_without_its_value(monkeypatch, capsys, tmp_path, name, value):
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "GETKEY_ENCRYPTION_KEYS": generate_key(), name: value}
    line = serve_in_process(monkeypatch, capsys, tmp_path, env)
    assert line.startswith(f"getkey: {name} ")
    assert value not in line and "Traceback" not in line


def test_unreachable_database_is_named_without_its_password(monkeypatch, capsys, tmp_path):
    url = "postgresql+psycopg://getkey:hunter2secret@127.0.0.1:1/getkey"
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "GETKEY_ENCRYPTION_KEYS": generate_key(), "DATABASE_URL": url}
    line = serve_in_process(monkeypatch, capsys, tmp_path, env)
    assert line.startswith("getkey: DATABASE_URL") and "hunter2secret" not in line


def test_settings_rules():
    ok = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
          "GETKEY_ENCRYPTION_KEYS": "k"}
    settings = load_settings(ok)
    assert settings.port == 3000 and settings.slack_api_url == "https://slack.com/api/"
    assert not settings.socket_mode
    assert load_settings({**ok, "SLACK_API_URL": "http://127.0.0.1:9/api"}).slack_api_url.endswith(
        "/api/"
    )
    # Socket Mode does not need the signing secret; HTTP mode does, even with an app token.
    socket_env = {**ok, "SLACK_APP_TOKEN": "xapp-1-A1-1-abc", "SLACK_SIGNING_SECRET": ""}
    assert load_settings(socket_env).socket_mode
    with pytest.raises(SettingsError) as exc:
        load_settings(socket_env, http_mode=True)
    assert exc.value.variable == "SLACK_SIGNING_SECRET"
    with pytest.raises(SettingsError) as exc:
        load_settings({**ok, "SLACK_API_URL": "ftp://x"})
    assert exc.value.variable == "SLACK_API_URL"
    assert BOT_TOKEN not in repr(settings) and SIGNING_SECRET not in repr(settings)


def test_env_example_documents_every_setting():
    example = (REPO / ".env.example").read_text()
    documented = {line.split("=", 1)[0].lstrip("# ").strip() for line in example.splitlines()
                  if "=" in line and line.lstrip("# ")[:1].isupper()}
    for name in Settings.model_fields:
        assert name.upper() in documented, name
    readme = (REPO / "README.md").read_text()
    for name in ("GETKEY_ROTATION_DAYS", "GETKEY_SWEEP_SECONDS", "GETKEY_LIGHTSPEED_R_CLIENT_ID",
                 "GETKEY_LIGHTSPEED_R_CLIENT_SECRET", "GETKEY_WIX_API_URL"):
        assert name in documented and name in example
    assert "GETKEY_<PLATFORM>_API_URL" in readme


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_getkey_serve_http_answers_slack(tmp_path):
    """The issue's "done when": `getkey serve` with the variables set and SLACK_API_URL at the
    stand-in answers /getkey, /getkey help, /getkey wix and /getkey wxi."""
    port = free_port()
    with SlackStandIn(bot_token=BOT_TOKEN) as standin, WixServer() as wix:
        env = base_env(
            tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=standin.api_url,
            GETKEY_ENCRYPTION_KEYS=generate_key(),
            GETKEY_WIX_API_URL=wix.url,
            PORT=str(port),
        )
        proc = subprocess.Popen(
            [*getkey_command(), "serve"], cwd=tmp_path, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc, lambda: proc.communicate()[1])
            slack = SlackSender(url, SIGNING_SECRET, standin)
            for text in ("", "help"):
                body = check_message(slack.command(text).json())
                find_element(body["blocks"], "getkey.pick_platform")
            guide = check_message(slack.command("wix").json())
            assert guide["response_type"] == "ephemeral"
            assert guide["blocks"][0]["text"]["text"] == "Wix: get an API key"
            suggestion = check_message(slack.command("wxi").json())
            assert "Did you mean" in json.dumps(suggestion) and "Wix" in json.dumps(suggestion)
            assert slack.command("wix", signature="v0=" + "1" * 64).status == 401
        finally:
            proc.terminate()
            _, stderr = proc.communicate(timeout=10)
        assert (tmp_path / "getkey.db").exists()  # migrations ran on start
        lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
        requests = [r for r in lines if r.get("msg") == "http request"
                    and r.get("route") == "/slack/events"]
        # One line per request: four signed commands, and the forged one refused before its
        # body was even parsed (so nothing about it but the status).
        assert [r.get("kind") for r in requests] == ["command"] * 4 + [None]
        assert [r["status"] for r in requests] == [200] * 4 + [401]
        assert BOT_TOKEN not in stderr and SIGNING_SECRET not in stderr
        assert "Traceback" not in stderr
