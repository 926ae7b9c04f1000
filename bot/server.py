"""`getkey serve`: Socket Mode with SLACK_APP_TOKEN, otherwise HTTP behind waitress.

Start-up order matters for the operator: settings first (one line per problem, no traceback,
no secret), then the encryption key, then the database migration, then Slack's auth.test.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.app import build_app
from bot.errors import UsageError
from bot.listeners.views import ACK_DELIVERED
from bot.logs import configure_logging
from bot.services import Services
from bot.settings import Settings, SettingsError, how_to_fix, load_settings

log = logging.getLogger("bot.server")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
WAITRESS_THREADS = 16

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def healthy(services: Services) -> bool:
    try:
        return bool(services.store.healthy())
    except Exception:
        return False


def _reply(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


class _Delivered:
    """A WSGI body that sets an event once the server has written it (WSGI calls close()
    after the last byte), so a listener can wait for its ack to reach Slack."""

    def __init__(self, body: Iterable[bytes], event: threading.Event) -> None:
        self.body = body
        self.event = event

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        self.event.set()


class AckAwareHandler(SlackRequestHandler):
    """Bolt's WSGI adapter, plus an event in each request's context that fires once the
    response (the ack) has been written to Slack."""

    def __init__(self, app: App, path: str) -> None:
        super().__init__(app, path=path)
        self._local = threading.local()

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        event = threading.Event()
        self._local.event = event
        return self.app.dispatch(
            BoltRequest(
                body=request.get_body(),
                query=request.query_string,
                headers=request.get_headers(),
                context={ACK_DELIVERED: event},
            )
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        self._local.event = None
        body = super().__call__(environ, start_response)  # type: ignore[arg-type]
        event = self._local.event
        return _Delivered(body, event) if event is not None else body


def make_wsgi_app(app: App, services: Services) -> WsgiApp:
    """POST /slack/events → Bolt; GET /healthz → 200 only when the database answers."""
    slack = AckAwareHandler(app, path=EVENTS_PATH)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH:
            if method not in ("GET", "HEAD"):
                return _reply(start_response, "405 Method Not Allowed", {"error": "use GET"})
            if healthy(services):
                return _reply(start_response, "200 OK", {"ok": True})
            return _reply(start_response, "503 Service Unavailable", {"ok": False,
                                                                      "database": "unavailable"})
        if path == EVENTS_PATH:
            if method != "POST":
                return _reply(start_response, "405 Method Not Allowed", {"error": "use POST"})
            return slack(environ, start_response)
        return _reply(start_response, "404 Not Found", {"error": "not found"})

    return wsgi


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
    from bot.store.db import upgrade

    try:
        upgrade(settings.database_url)
        log.info("database ready")
    except Exception as exc:
        # The exception text may contain the URL and its password: name the type only.
        raise UsageError(
            f"DATABASE_URL: could not open or upgrade the database ({type(exc).__name__}). "
            "Check the URL, that the server is running and that the user may create tables."
        ) from None


def prepare(settings: Settings) -> tuple[Services, App]:
    """Everything `serve` does before listening; raises UsageError with one line."""
    _check_keys(settings)
    _upgrade(settings)
    services = Services.from_settings(settings)
    try:
        app = build_app(services)
    except Exception as exc:
        services.close()
        raise UsageError(
            f"SLACK_BOT_TOKEN: Slack did not accept the token ({type(exc).__name__}). "
            f"Check it, and SLACK_API_URL ({settings.slack_api_url}) if you set it."
        ) from None
    return services, app


def _start_background(services: Services) -> Callable[[], None] | None:
    """Reminder sweeps run in the serving process when bot.reminders provides them."""
    try:
        from bot import reminders  # type: ignore[attr-defined]
    except ImportError:
        return None
    start = getattr(reminders, "start_scheduler", None)
    return start(services) if callable(start) else None



def serve(force_http: bool = False) -> int:
    try:
        settings = load_settings(http_mode=True if force_http else None)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    configure_logging(settings.log_level)
    services, app = prepare(settings)
    stop = _start_background(services)
    try:
        if settings.socket_mode and not force_http:
            from slack_bolt.adapter.socket_mode import SocketModeHandler
            from slack_sdk import WebClient
            from slack_sdk.errors import SlackApiError

            log.info("starting", extra={"mode": "socket"})
            # apps.connections.open goes through SLACK_API_URL too (proxies, GovSlack).
            handler = SocketModeHandler(
                app,
                settings.secret("slack_app_token"),
                web_client=WebClient(base_url=settings.slack_api_url),
                concurrency=settings.getkey_listener_threads,
            )
            try:
                handler.start()  # apps.connections.open, then block
            except SlackApiError as exc:
                handler.close()
                # The error code only: exception texts quote whole API responses.
                raise UsageError(
                    "SLACK_APP_TOKEN: Slack would not open a Socket Mode connection "
                    f"({exc.response.get('error')}): {how_to_fix('SLACK_APP_TOKEN')}."
                ) from None
        else:
            import waitress

            log.info("starting", extra={"mode": "http", "port": settings.port})
            waitress.serve(
                make_wsgi_app(app, services),
                host="0.0.0.0",  # noqa: S104 - a server process for a PaaS: bind all interfaces
                port=settings.port,
                threads=WAITRESS_THREADS,
                ident="getkey",
            )
    finally:
        if stop:
            stop()
        services.close()
    return 0
