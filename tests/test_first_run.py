"""First run (issue 17): every missing or invalid setting in one message with its fix and the
command as it can be run from here; a Slack that cannot be reached is said plainly, with no
unclosed-session error; the log format; background tracebacks at DEBUG, redacted."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logs import JsonFormatter, install_redaction
from bot.logsetup import TextFormatter, debug_traceback, log_format_for
from bot.settings import SettingsError, load_settings, problems_with, read_settings
from bot.store.crypto import generate_key

REPO = Path(__file__).resolve().parent.parent
GETKEY = Path(sys.executable).parent / "getkey"
SIGNING = "5ecre7e1gningSe1ectforfirstrun"


def run_getkey(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # No venv on PATH, as under `make run`: the script is named by its path.
    base = {"PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run([str(GETKEY), *args], cwd=cwd, env={**base, **env},
                          capture_output=True, text=True, timeout=120, check=False)


def test_every_problem_is_reported_at_once_with_the_command_path(tmp_path):
    bad_token = "xoxp-a-user-token-not-a-bot-one"
    done = run_getkey(REPO, {"SLACK_BOT_TOKEN": bad_token, "PORT": "eighty",
                             "DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}, "serve")
    assert done.returncode == 2 and done.stdout == ""
    err = done.stderr
    assert "Traceback" not in err and bad_token not in err
    assert err.startswith("getkey: 4 settings need attention")
    problems = [line for line in err.splitlines() if line.startswith("  - ")]
    assert [p.split()[1] for p in problems] == [
        "SLACK_BOT_TOKEN", "PORT", "SLACK_SIGNING_SECRET", "GETKEY_ENCRYPTION_KEYS"]
    assert "xoxb-" in problems[0] and "between 1 and 65535" in problems[1]
    assert "Signing Secret" in problems[2]
    # Run from the checkout as `make run` does: the venv's script, named relative to here.
    expected = os.path.relpath(GETKEY, REPO)
    assert f"`{expected} keys generate`" in problems[3]
    assert not (tmp_path / "g.db").exists()  # refused before touching anything


def test_one_problem_stays_one_line():
    with pytest.raises(SettingsError) as exc:
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "GETKEY_ENCRYPTION_KEYS": "k"})
    assert str(exc.value).startswith("SLACK_SIGNING_SECRET is not set:")
    assert "\n" not in str(exc.value) and exc.value.problems == [exc.value]


def test_problems_are_a_list_and_nothing_set_differs_from_partly_set():
    nothing, errors = read_settings({})
    assert errors == [] and not nothing.slack_configured
    partly, errors = read_settings({"SLACK_SIGNING_SECRET": SIGNING})
    assert errors == [] and partly.slack_configured
    names = [p.variable for p in problems_with(partly, http_mode=None)]
    assert names == ["SLACK_BOT_TOKEN", "GETKEY_ENCRYPTION_KEYS"]


@pytest.mark.parametrize("given", ["postgres://u:pw@db.example:5432/app",
                                   "postgresql://u:pw@db.example:5432/app"])
def test_paas_postgres_urls_are_accepted(given):
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": SIGNING,
                              "GETKEY_ENCRYPTION_KEYS": "k", "DATABASE_URL": given})
    assert settings.database_url == "postgresql+psycopg://u:pw@db.example:5432/app"
    from sqlalchemy import create_engine

    assert create_engine(settings.database_url).dialect.driver == "psycopg"


def test_an_unreachable_slack_is_said_plainly(tmp_path):
    env = {"SLACK_BOT_TOKEN": "xoxb-1111-2222-offline", "SLACK_SIGNING_SECRET": SIGNING,
           "GETKEY_ENCRYPTION_KEYS": generate_key(), "SLACK_API_URL": "http://127.0.0.1:9/api/",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}", "PORT": "9"}
    done = run_getkey(tmp_path, env, "serve", "--http")
    assert done.returncode == 2
    assert "Slack could not be reached at http://127.0.0.1:9/api/" in done.stderr
    assert "did not accept the token" not in done.stderr
    assert "Unclosed" not in done.stderr and "Traceback" not in done.stderr


def record(msg: str, **extra: object) -> logging.LogRecord:
    rec = logging.getLogger("uvicorn.error").makeRecord(
        "uvicorn.error", logging.INFO, __file__, 1, msg, None, None, extra=extra)
    return rec


def test_uvicorn_colour_copy_never_reaches_the_logs():
    install_redaction()
    coloured = "Uvicorn running on \x1b[1mhttp://0.0.0.0:3000\x1b[0m"
    line = JsonFormatter().format(record("Uvicorn running on http://0.0.0.0:3000",
                                         color_message=coloured))
    assert "color_message" not in json.loads(line) and "\x1b" not in line
    text = TextFormatter().format(record("Uvicorn running", color_message=coloured))
    assert "\x1b" not in text and "Uvicorn running" in text


def test_log_format_is_text_on_a_terminal_and_json_otherwise():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert log_format_for(None, Tty()) == "text"
    assert log_format_for(None, io.StringIO()) == "json"
    assert log_format_for("json", Tty()) == "json"
    assert load_settings({"LOG_FORMAT": "text"}, require_slack=False,
                         require_encryption=False).log_format == "text"
    with pytest.raises(SettingsError) as exc:
        load_settings({"LOG_FORMAT": "xml"}, require_slack=False, require_encryption=False)
    assert exc.value.variable == "LOG_FORMAT"


def test_background_tracebacks_at_debug_only_and_redacted(caplog):
    install_redaction()
    log = logging.getLogger("bot.jobs.test")
    secret = "xoxb-1234567890-abcdefghijklmnop"
    try:
        raise RuntimeError(f"Slack said no to {secret}")
    except RuntimeError as exc:
        error = exc
    caplog.set_level(logging.INFO, logger="bot.jobs.test")
    debug_traceback(log, "background job", error)
    assert caplog.records == []  # INFO: the ERROR line elsewhere names the type only
    caplog.set_level(logging.DEBUG, logger="bot.jobs.test")
    debug_traceback(log, "background job", error)
    (rec,) = caplog.records
    assert rec.levelno == logging.DEBUG and "Traceback" in (rec.exc_text or "")
    assert "test_background_tracebacks" in rec.exc_text  # says where
    assert secret not in rec.exc_text and secret not in caplog.text
