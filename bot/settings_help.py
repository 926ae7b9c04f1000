"""What to do about each setting: appended to its problem so the line is actionable."""

from __future__ import annotations

import os
import shutil
import sys

# What to do about each variable, appended to the problem so the line is actionable.
_HOW_TO_FIX: dict[str, str] = {
    "SLACK_BOT_TOKEN": "copy the Bot User OAuth Token (xoxb-…) from your Slack app's "
    "OAuth & Permissions page",
    "SLACK_SIGNING_SECRET": "copy the Signing Secret from your Slack app's Basic Information "
    "page (needed in HTTP mode)",
    "SLACK_APP_TOKEN": "create an app-level token (xapp-…) with connections:write under Basic "
    "Information › App-Level Tokens, or unset it to use HTTP mode",
    "SLACK_API_URL": "use an http(s) URL such as https://slack.com/api/, or unset it",
    "PORT": "use a port number between 1 and 65535",
    "DATABASE_URL": "use a URL such as sqlite:///getkey.db or postgresql://user@host/db",
    "GETKEY_ENCRYPTION_KEYS": "create a key with `{getkey} keys generate` and set it here "
    "(comma-separated, newest first)",
    "GETKEY_ROTATION_DAYS": "use a whole number of days (1 or more), or unset it",
    "GETKEY_SWEEP_SECONDS": "use a whole number of seconds (5 or more), or unset it",
    "GETKEY_SWEEP_WORKERS": "use a whole number between 1 and 64, or unset it (one per CPU)",
    "GETKEY_LISTENER_THREADS": "use a whole number between 2 and 1024, or unset it",
    "LOG_LEVEL": "use DEBUG, INFO, WARNING or ERROR",
    "GETKEY_MAX_OPEN_REQUESTS": "use a whole number between 1 and 1000, or unset it",
    "GETKEY_REQUEST_NUDGE_DAYS": "use a whole number of days (1 or more), or unset it",
    "GETKEY_REQUEST_EXPIRE_DAYS": "use a whole number of days (1 or more), or unset it",
    "GETKEY_API_RATE_PER_MINUTE": "use a whole number of requests (1 or more), or unset it",
    "SLACK_CLIENT_ID": "copy the Client ID from your Slack app's Basic Information page, "
    "with SLACK_CLIENT_SECRET (both, to install by OAuth), or unset both",
    "SLACK_CLIENT_SECRET": "copy the Client Secret from your Slack app's Basic Information "
    "page, with SLACK_CLIENT_ID (both, to install by OAuth), or unset both",
    "GETKEY_RETENTION_DAYS_AFTER_UNINSTALL": "use a whole number of days (1 or more), or unset "
    "it for 30",
    "GETKEY_PUBLIC_URL": "set it to the https address people reach getkey at (the proxy in "
    "front of `getkey serve --http`), e.g. https://getkey.example.com",
    "GETKEY_LINK_EXPIRE_DAYS": "use a whole number of days (1 or more), or unset it for 7",
    "GETKEY_WEBHOOK_ALLOW_PRIVATE": "use true or false, or unset it",
    "LOG_FORMAT": "use text or json, or unset it (text on a terminal, JSON otherwise)",
    "GETKEY_METRICS_TOKEN": "use 16 or more letters, digits, - or _ (a bearer token for "
    "/metrics), or unset it to turn /metrics off",
    "GETKEY_RETENTION_CHANGE_DAYS": "use a whole number of days (1 or more), or unset it for 30",
    "GETKEY_RETENTION_WEBHOOK_DAYS": "use a whole number of days (1 or more), or unset it for 30",
    "GETKEY_RETENTION_OUTBOX_DAYS": "use a whole number of days (1 or more), or unset it for 7",
    "GETKEY_RETENTION_AUDIT_DAYS": "use a whole number of days (90 or more), or unset it for "
    "400",
}


def how_to_fix(variable: str) -> str:
    return _HOW_TO_FIX.get(variable, "").replace("{getkey}", getkey_command())


def getkey_command() -> str:
    """How the operator runs getkey from here: `getkey` when that is on PATH and is this one,
    else the script's path (`.venv/bin/getkey` under `make run`)."""
    script = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if os.path.basename(script) != "getkey":
        script = os.path.join(os.path.dirname(sys.executable), "getkey")
    on_path = shutil.which("getkey")
    if on_path and os.path.realpath(on_path) == os.path.realpath(script):
        return "getkey"
    if not os.path.exists(script):
        return "getkey"
    relative = os.path.relpath(script)
    return relative if not relative.startswith("..") else script


def normalise_database_url(url: str) -> str:
    """PaaS give `postgres://` or `postgresql://`; SQLAlchemy needs the driver we ship."""
    scheme, sep, rest = url.partition("://")
    if scheme.lower() in ("postgres", "postgresql"):
        return f"postgresql+psycopg{sep}{rest}"
    return url
