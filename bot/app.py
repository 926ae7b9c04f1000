"""build_app(runtime) → Bolt's AsyncApp with every listener module registered.

Listeners run on the event loop and only ever await: the ack is written as soon as a listener
calls it, and the slow part (a live verification) runs in the worker pools after it, so no
person's ack waits behind anyone's verification.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import time
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

import bot.listeners
from bot.runtime import Runtime
from bot.web import request_kind

log = logging.getLogger("bot.requests")


class LoggingApp(AsyncApp):
    """AsyncApp plus one line per request (Socket Mode, which has no HTTP edge to write it)."""

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        started = time.perf_counter()
        answer = await super().async_dispatch(req)
        log.info(
            "slack request",
            extra={
                "kind": request_kind(req.body if isinstance(req.body, dict) else {}),
                "status": answer.status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return answer


def listener_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules(bot.listeners.__path__)
        if not info.name.startswith("_")
    )


def build_app(rt: Runtime, *, log_requests: bool = False) -> AsyncApp:
    """`log_requests`: one line per request from Bolt itself (Socket Mode, which has no HTTP
    edge to write it)."""
    settings = rt.settings
    signing_secret = settings.secret("slack_signing_secret")
    oauth: dict[str, Any] = {}
    if settings.oauth:
        from bot.oauth import oauth_settings

        # Each request's token comes from the installation store (Bolt's authorize, which
        # also refreshes rotating tokens); the app's own client carries none.
        oauth["oauth_settings"] = oauth_settings(settings, rt.store, rt.workers.quick)
    app = (LoggingApp if log_requests else AsyncApp)(
        name="getkey",
        client=rt.clients.client(),
        signing_secret=signing_secret or None,
        **oauth,
        # The HTTP edge (bot.web) verifies signatures before anything reads the body; Socket
        # Mode payloads arrive over an authenticated websocket and carry none.
        request_verification_enabled=False,
        process_before_response=False,
    )

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        # Type only: exception texts can quote request or response bodies.
        log.error("listener failed", extra={"error": type(error).__name__})

    for name in listener_modules():
        module = importlib.import_module(f"bot.listeners.{name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app, rt)
    return app
