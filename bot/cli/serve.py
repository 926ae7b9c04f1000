"""`getkey serve`: Socket Mode with SLACK_APP_TOKEN, otherwise HTTP (bot.http.edge on uvicorn).

Start-up order matters for the operator: settings first (one line per problem, no traceback,
no secret), then the encryption key, then the database (bounded by its timeouts), then Slack's
auth.test. Everything after runs on one event loop: acks, listeners, background jobs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.cli import heap
from bot.errors import UsageError
from bot.logsetup import configure_logging
from bot.runtime import Runtime
from bot.settings import (
    MALLOC_ARENA_MAX_SET,
    SLACK_CREDENTIALS,
    Settings,
    SettingsError,
    first_per_variable,
    how_to_fix,
    problems_with,
    read_settings,
    use_key_file,
)
from bot.slack.app import build_app

log = logging.getLogger("bot.cli.serve")


def _check_keys(settings: Settings) -> None:
    from bot.store.crypto import Keyring, KeyringError

    try:
        Keyring.from_env(settings.secret("getkey_encryption_keys") or None)
    except KeyringError as exc:
        # KeyringError messages never contain key material (store API contract).
        reason = str(exc).strip() or "is not usable."
        if "GETKEY_ENCRYPTION_KEYS" not in reason:
            reason = f"GETKEY_ENCRYPTION_KEYS: {reason}"
        if "getkey keys generate" not in reason:
            reason = f"{reason.rstrip('.')}. {how_to_fix('GETKEY_ENCRYPTION_KEYS')}."
        raise UsageError(reason) from None


def _upgrade(settings: Settings) -> None:
    """Migrations run in a child process (`getkey db upgrade`): Alembic and its templates then
    never occupy the serving process's memory (about 10 MB)."""
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "db", "upgrade"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )
    except subprocess.TimeoutExpired:
        raise UsageError(
            "DATABASE_URL: the database did not answer within 2 minutes. Check that the server "
            "is up and reachable."
        ) from None
    if done.returncode != 0:
        # The child already wrote one line without a secret (bot.cli.operator.cmd_db_upgrade).
        line = (done.stderr.strip().splitlines() or ["could not open or upgrade it"])[-1]
        raise UsageError(
            f"DATABASE_URL: {line.removeprefix('getkey: ')} Check the URL, that the server is "
            "running and that the user may create tables."
        )
    log.info("database ready")


def prepare(settings: Settings) -> Runtime:
    """Everything `serve` does before the event loop starts; raises UsageError, one line."""
    _check_keys(settings)
    _upgrade(settings)
    return Runtime.from_settings(settings)


async def check_token(rt: Runtime) -> None:
    """auth.test once at start-up: a refused bot token, or a Slack that cannot be reached, is one
    clear line instead of a stream of failing requests later. The Slack sessions are closed
    before the line is raised (no "unclosed client session" after it)."""
    if not rt.settings.secret("slack_bot_token"):
        return
    try:
        await rt.clients.client().auth_test()
    except SlackApiError as exc:
        await rt.clients.close()
        # The error code only: exception texts quote whole API responses.
        raise UsageError(
            f"SLACK_BOT_TOKEN: Slack did not accept the token ({exc.response.get('error')}): "
            f"{how_to_fix('SLACK_BOT_TOKEN')}."
        ) from None
    except Exception as exc:
        await rt.clients.close()
        raise UsageError(
            f"Slack could not be reached at {rt.settings.slack_api_url} "
            f"({type(exc).__name__}). Check this machine's network connection (DNS, proxy, "
            "firewall), and SLACK_API_URL if you set it; then start again."
        ) from None


def make_asgi(rt: Runtime, app: Any) -> Any:
    """The ASGI app of HTTP mode: Slack events, probes, /metrics, the API, installs, links."""
    from bot.http.api import api_routes
    from bot.http.edge import make_asgi_app
    from bot.http.pages import link_routes
    from bot.http.probes import probe_routes

    return make_asgi_app(
        bolt_app=app,
        signing_secret=rt.settings.secret("slack_signing_secret"),
        health=rt.health,
        extra_routes=[*api_routes(rt), *install_routes(app), *link_routes(rt),
                      *probe_routes(rt.ready, rt.settings.secret("getkey_metrics_token"),
                                    rt.refresh_metrics)],
    )


def make_http_server(rt: Runtime, *, host: str, port: int) -> Any:
    """The configured uvicorn server for HTTP mode (built inside the serving loop)."""
    from bot.http.serving import make_server

    return make_server(
        make_asgi(rt, build_app(rt)), host, port,
        on_startup=lambda: started(rt), on_shutdown=rt.shutdown,
    )


async def started(rt: Runtime) -> None:
    """The background jobs, then the collector settled (bot.heap) on what is loaded."""
    await rt.start_background()
    heap.settle()


def install_routes(app: Any) -> list[Any]:
    """GET /slack/install and /slack/oauth_redirect when installed by OAuth, else none."""
    from bot.http.install import oauth_routes

    flow = getattr(app, "oauth_flow", None)
    return oauth_routes(flow) if flow is not None else []


async def serve_http(
    rt: Runtime, *, host: str, port: int, sockets: list[Any] | None = None
) -> None:
    await check_token(rt)
    server = make_http_server(rt, host=host, port=port)
    await server.serve(sockets=sockets)


async def serve_socket_mode(rt: Runtime) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.web.async_client import AsyncWebClient

    await check_token(rt)
    app = build_app(rt, log_requests=True)
    # apps.connections.open goes through SLACK_API_URL too (proxies, GovSlack).
    handler = AsyncSocketModeHandler(
        app,
        rt.settings.secret("slack_app_token"),
        web_client=AsyncWebClient(base_url=rt.settings.slack_api_url),
    )
    await started(rt)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    try:
        try:
            # The client retries a refused apps.connections.open forever; ask once first so a
            # wrong app token is one clear line instead of a silent loop.
            handler.client.wss_uri = await handler.client.issue_new_wss_url()
            await handler.connect_async()
        except SlackApiError as exc:
            # The error code only: exception texts quote whole API responses.
            raise UsageError(
                "SLACK_APP_TOKEN: Slack would not open a Socket Mode connection "
                f"({exc.response.get('error')}): {how_to_fix('SLACK_APP_TOKEN')}."
            ) from None
        log.info("connected", extra={"mode": "socket"})
        await stop.wait()
    finally:
        await handler.close_async()
        await rt.shutdown()


def serve(force_http: bool = False) -> int:
    settings, problems = read_settings()
    use_key_file(settings)
    given = settings.slack_configured or any(p.variable in SLACK_CREDENTIALS for p in problems)
    if not given and not force_http:
        if problems:
            raise UsageError(str(SettingsError.of(problems)))
        return serve_console(settings)
    # Some Slack settings: they must be complete. Every problem in one message, each with its fix.
    problems += problems_with(settings, http_mode=True if force_http else None)
    if problems:
        raise UsageError(str(SettingsError.of(first_per_variable(problems))))
    configure_logging(settings.log_level, settings.log_format)
    heap.limit_arenas(operator_set=MALLOC_ARENA_MAX_SET)
    rt = prepare(settings)
    try:
        if settings.socket_mode and not force_http:
            log.info("starting", extra={"mode": "socket"})
            asyncio.run(serve_socket_mode(rt))
        else:
            log.info("starting", extra={"mode": "http", "port": settings.port})
            _run_http(rt, settings.port)
    finally:
        rt.close()
    return 0


def _run_http(rt: Runtime, port: int) -> None:
    _serve_until_stopped(serve_http(rt, host="0.0.0.0", port=port))  # noqa: S104 - all interfaces


def _serve_until_stopped(main: Any) -> None:
    # uvicorn re-raises the signal that stopped it once it is done; with the default SIGTERM
    # disposition that would kill the process before the `finally` above cleans up.
    stopped_by: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, frame: stopped_by.append(signum))
        for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        from bot.http.serving import loop_factory

        # uvloop (when installed): several times cheaper scheduling than asyncio's own loop.
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(main)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopped_by:
        log.info("stopped", extra={"signal": signal.Signals(stopped_by[0]).name})


# -- no Slack settings at all: the local console (bot.http.console) ----------------------------
def serve_console(settings: Settings) -> int:
    configure_logging(settings.log_level)
    heap.limit_arenas(operator_set=MALLOC_ARENA_MAX_SET)
    use_key_file(settings, create=True)
    if settings.getkey_encryption_keys is None:
        raise UsageError(
            "GETKEY_ENCRYPTION_KEYS is not set, and the database is not a SQLite file to keep a "
            f"key beside: {how_to_fix('GETKEY_ENCRYPTION_KEYS')}."
        )
    rt = prepare(settings)
    try:
        log.info("starting", extra={"mode": "console", "port": settings.port})
        _serve_until_stopped(run_console(rt, settings.port))
    finally:
        rt.close()
    return 0


def announce(login_url: str, key_file: str | None) -> None:
    """The terminal is the only place the login address appears (never a log line)."""
    lines = [
        "",
        "getkey console: Slack is not set up, so getkey serves its pages on this machine only.",
        "Open this address in your browser (it works once):",
        f"    {login_url}",
    ]
    if key_file:
        lines += [
            f"Stored keys are encrypted with the key in {key_file}; for production, put its",
            "content in GETKEY_ENCRYPTION_KEYS (see README, Local console).",
        ]
    print("\n".join(lines) + "\n", flush=True)


async def run_console(rt: Runtime, port: int, *, sockets: list[Any] | None = None) -> None:
    from bot.http.console import make_console
    from bot.http.edge import routes_app
    from bot.http.serving import make_server

    console = make_console(rt, port)
    server = make_server(routes_app(console.routes()), "127.0.0.1", port,
                         on_shutdown=rt.shutdown)
    announce(console.login_url, rt.settings.key_file)
    await server.serve(sockets=sockets)
