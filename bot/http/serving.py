"""Running the HTTP edge (bot.http.edge) on uvicorn: limits, lifespan hooks and a SIGTERM that lets
in-flight work finish before the process exits."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from bot.http.edge import AsgiApp, Receive, Scope, Send

log = logging.getLogger("bot.http")

# A busy day is a few hundred simultaneous Slack requests; past this uvicorn answers 503 at
# once instead of queueing without bound (waitress stopped accepting at 100).
LIMIT_CONCURRENCY = 2000
BACKLOG = 2048
KEEP_ALIVE = 5  # seconds; Slack opens fresh connections, idle ones only cost memory
MAX_HEADER_BYTES = 16 * 1024
GRACEFUL_TIMEOUT = 10  # seconds for in-flight requests after SIGTERM (PaaS allow ~30 in all)
SHUTDOWN_TIMEOUT = 15.0  # seconds for on_shutdown (in-flight verifications, outbox flush)


def with_lifespan(
    asgi_app: AsgiApp,
    *,
    on_startup: Callable[[], Awaitable[None]] | None = None,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
    shutdown_timeout: float = SHUTDOWN_TIMEOUT,
) -> AsgiApp:
    """Runs `on_startup` before the first request and `on_shutdown` after the last one has been
    answered, inside the serving event loop (so it can await tasks Bolt started there)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await asgi_app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if on_startup is not None:
                        await on_startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed",
                                "message": f"start-up failed ({type(exc).__name__})"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if on_shutdown is not None:
                    try:
                        await asyncio.wait_for(on_shutdown(), shutdown_timeout)
                    except TimeoutError:
                        log.warning("shutdown work cut short", extra={"seconds": shutdown_timeout})
                    except Exception as exc:
                        log.error("shutdown work failed", extra={"error": type(exc).__name__})
                await send({"type": "lifespan.shutdown.complete"})
                return

    return app


def make_server(
    asgi_app: AsgiApp,
    host: str = "0.0.0.0",  # noqa: S104 - a server process for a PaaS: bind all interfaces
    port: int = 3000,
    *,
    on_startup: Callable[[], Awaitable[None]] | None = None,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
    shutdown_timeout: float = SHUTDOWN_TIMEOUT,
    limit_concurrency: int = LIMIT_CONCURRENCY,
    graceful_timeout: int = GRACEFUL_TIMEOUT,
) -> Any:
    """A configured uvicorn.Server (not started). Logging stays ours: no uvicorn log config,
    no access log (the app writes one line per request), no websockets, no server header."""
    import uvicorn

    config = uvicorn.Config(
        with_lifespan(asgi_app, on_startup=on_startup, on_shutdown=on_shutdown,
                      shutdown_timeout=shutdown_timeout),
        host=host,
        port=port,
        lifespan="on",
        log_config=None,
        access_log=False,
        ws="none",
        # httptools and uvloop (the `fast` extra) parse and schedule several times faster than
        # the pure-Python h11 and asyncio loop; "auto" takes them when installed.
        http="auto",
        loop="auto",
        proxy_headers=False,
        server_header=False,
        limit_concurrency=limit_concurrency,
        backlog=BACKLOG,
        timeout_keep_alive=KEEP_ALIVE,
        timeout_graceful_shutdown=graceful_timeout,
    )
    # Its lines carry raw paths and query strings (an OAuth code, one day); ours carry routes.
    logging.getLogger("uvicorn.access").disabled = True
    return uvicorn.Server(config)


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when the `fast` extra is installed, else asyncio's own (None)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_server(
    asgi_app: AsgiApp,
    host: str = "0.0.0.0",  # noqa: S104 - a server process for a PaaS: bind all interfaces
    port: int = 3000,
    *,
    sock: socket.socket | None = None,
    **options: Any,
) -> None:
    """Serve until SIGTERM/SIGINT, then: stop accepting, let in-flight requests finish
    (`graceful_timeout`), await `on_shutdown` (`shutdown_timeout`), and return normally so the
    caller's `finally` blocks run. `sock`: an already bound socket (tests bind port 0)."""
    server = make_server(asgi_app, host, port, **options)
    main = threading.current_thread() is threading.main_thread()
    stopped_by: list[int] = []
    previous: dict[int, Any] = {}
    if main:
        # uvicorn re-raises the signal that stopped it once it is done; with the default
        # SIGTERM disposition that would kill the process before our callers clean up.
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda signum, frame: stopped_by.append(signum))
    try:
        server.run(sockets=[sock] if sock is not None else None)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopped_by:
        log.info("stopped", extra={"signal": signal.Signals(stopped_by[0]).name})
