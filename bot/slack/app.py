"""build_app(runtime) → Bolt's AsyncApp with every listener module registered.

Listeners run on the event loop and only ever await: the ack is written as soon as a listener
calls it, and the slow part (a live verification) runs in the worker pools after it, so no
person's ack waits behind anyone's verification.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import pkgutil
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import (
    warning_client_prioritized_and_token_skipped,
    warning_token_skipped,
)
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

import bot.slack.listeners
from bot import metrics
from bot.logsetup import debug_traceback
from bot.runtime import Runtime
from bot.slack.dispatch import KIND_ATTRIBUTE, IndexedApp
from bot.slack.listeners import request_kind
from bot.slack.listeners.replies import RUNTIME
from bot.workers import Workers

log = logging.getLogger("bot.services.requests")


class LoggingApp(IndexedApp):
    """AsyncApp plus one line per request (Socket Mode, which has no HTTP edge to write it)."""

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        started = time.perf_counter()
        answer = await super().async_dispatch(req)
        kind = request_kind(req.body if isinstance(req.body, dict) else {})
        metrics.observe_request("", answer.status, kind, time.perf_counter() - started)
        log.info(
            "slack request",
            extra={
                "kind": kind,
                "status": answer.status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return answer


class _TokenNotices(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and, since getkey hands it a
    client that already carries the token (or an installation store), warns on every start that
    the token "will be unused": true of its own copy, misleading to an operator."""

    NOTICES = frozenset({warning_client_prioritized_and_token_skipped(), warning_token_skipped()})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.NOTICES


_TOKEN_NOTICES = _TokenNotices()


def quiet_token_notices() -> None:
    for name in ("slack_bolt.AsyncApp", "slack_bolt.IndexedApp", "slack_bolt.LoggingApp"):
        logging.getLogger(name).addFilter(_TOKEN_NOTICES)  # idempotent for the same filter


class ProvideRuntime(AsyncMiddleware):
    """Puts the process's Runtime into every request's context (bot.slack.listeners.replies
    .runtime_of), so handlers are plain module-level functions that tests can call alone."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        req.context[RUNTIME] = self.rt
        return await next()


def listener_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules(bot.slack.listeners.__path__)
        if not info.name.startswith("_")
    )


def build_app(rt: Runtime, *, log_requests: bool = False) -> IndexedApp:
    """`log_requests`: one line per request from Bolt itself (Socket Mode, which has no HTTP
    edge to write it)."""
    settings = rt.settings
    signing_secret = settings.secret("slack_signing_secret")
    oauth: dict[str, Any] = {}
    if settings.oauth:
        from bot.slack.oauth import oauth_settings

        # Each request's token comes from the installation store (Bolt's authorize, which
        # also refreshes rotating tokens); the app's own client carries none.
        oauth["oauth_settings"] = oauth_settings(settings, rt.store, rt.workers.quick)
    quiet_token_notices()
    app = (LoggingApp if log_requests else IndexedApp)(
        name="getkey",
        client=rt.clients.client(),
        signing_secret=signing_secret or None,
        **oauth,
        # The HTTP edge (bot.http.edge) verifies signatures before anything reads the body; Socket
        # Mode payloads arrive over an authenticated websocket and carry none.
        request_verification_enabled=False,
        # Bolt then answers as soon as the listener returns, instead of polling every 10 ms for
        # an ack (which, with hundreds of requests in flight, keeps the loop busy waking them).
        # Listeners are wrapped (after_ack) so that they "return" at their ack; the rest of
        # their work carries on as a tracked task.
        process_before_response=True,
    )

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        # Type only: exception texts can quote request or response bodies.
        log.error("listener failed", extra={"error": type(error).__name__})
        debug_traceback(log, "listener", error)

    app.use(ProvideRuntime(rt))
    for name in listener_modules():
        module = importlib.import_module(f"bot.slack.listeners.{name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(AfterAckApp(app, rt.workers), rt)
    app.quicken_matchers()
    return app


def after_ack(listener: Callable[..., Awaitable[None]], workers: Workers) -> Callable[..., Any]:
    """Run `listener` as a tracked task and return as soon as it has called ack() (or ended):
    Bolt sends the ack then, and whatever the listener does after its ack (a verification, a
    views.open, a response_url message) never delays it."""

    @functools.wraps(listener)
    async def wrapper(**kwargs: Any) -> None:
        ack = kwargs.get("ack")
        if ack is None:  # events: Bolt acknowledges them itself
            workers.track(asyncio.ensure_future(listener(**kwargs)))
            return
        # One future, resolved by the ack or by the listener's end, whichever comes first.
        acked: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        async def ack_and_tell(*args: Any, **ack_kwargs: Any) -> Any:
            try:
                return await ack(*args, **ack_kwargs)
            finally:
                if not acked.done():
                    acked.set_result(True)

        def ended(_task: asyncio.Task[Any]) -> None:
            if not acked.done():
                acked.set_result(False)

        task = workers.track(asyncio.ensure_future(listener(**{**kwargs, "ack": ack_and_tell})))
        task.add_done_callback(ended)
        if not await acked:
            task.result()  # a listener that failed before acking: Bolt's error handler
        task.add_done_callback(_log_failure)

    return wrapper


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        # Type only: exception texts can quote request or response bodies.
        error = task.exception()
        log.error("listener failed after its ack", extra={"error": type(error).__name__})
        debug_traceback(log, "listener after its ack", error)


class AfterAckApp:
    """The AsyncApp as listener modules see it: every listener they register is wrapped in
    after_ack."""

    _REGISTRARS = frozenset({"command", "action", "view", "event", "shortcut", "options"})

    def __init__(self, app: AsyncApp, workers: Workers) -> None:
        self._app = app
        self._workers = workers

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._app, name)
        if name not in self._REGISTRARS:
            return attr

        def registrar(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:
            decorator = attr(*args, **kwargs)

            def apply(listener: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
                wrapped = after_ack(listener, self._workers)
                setattr(wrapped, KIND_ATTRIBUTE, name)  # which requests it can match (dispatch)
                decorator(wrapped)
                return listener

            return apply

        return registrar
