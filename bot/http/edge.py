"""The HTTP edge: a plain ASGI application in front of Bolt's AsyncApp, and its uvicorn runner.

Strangers cost nothing: a request is refused by size (Content-Length, then counted bytes)
before its body is read, then by signature before anything parses or logs it. A signed but
malformed body gets a short 400, never a traceback or a 5xx. Bolt only ever sees signed,
well-formed bodies, so its own verification (which logs whole bodies on failure) never fires.

No framework: the ASGI surface used here is four message types, and a router is a dict.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.signature import SignatureVerifier

from bot import metrics
from bot.http.checks import signed, too_deep
from bot.logs import log_plain
from bot.logsetup import debug_traceback
from bot.slack.listeners import request_kind

log = logging.getLogger("bot.http")

# Listeners find an asyncio.Event under this key in the Bolt context; it is set once the ack
# (the HTTP response) has been handed to the socket, so a views.update never overtakes it.
ACK_DELIVERED = "getkey_ack_delivered"

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

# Slack's largest bodies are view submissions: a view's JSON may reach ~250 kB, plus its state,
# and interactivity payloads arrive URL-encoded inside a form field (quotes, braces and colons
# each become three bytes, so roughly x2). 1 MiB leaves room for that and nothing else.
MAX_SLACK_BODY = 1024 * 1024
# Real payloads nest about ten deep (rich text in a view's blocks); anything far deeper is not
# Slack, and would make recursive code downstream (JSON encoders, Bolt's utilities) fail.
MAX_DEPTH = 64
HEALTH_TIMEOUT = 1.0
SLACK_CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/json")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]
HealthCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]


class BodyTooLarge(Exception):
    """The body is over the route's limit; raised before the excess is read."""


@dataclass
class Request:
    """One HTTP request as a route handler sees it. The body is read on demand, bounded."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-case names, first value of each
    max_body: int
    _receive: Receive
    # Safe facts for the request's log line (kind of Slack request, retry number...): never a
    # value taken from the body.
    log_extra: dict[str, Any] = field(default_factory=dict)
    _body: bytes | None = None
    client: str = ""  # the peer's address (the proxy's, behind one); for rate limits only

    def check_declared_length(self) -> None:
        """Refuses on the Content-Length header alone, before a byte of the body is read."""
        declared = self.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            raise BodyTooLarge

    async def body(self) -> bytes:
        if self._body is not None:
            return self._body
        self.check_declared_length()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self._receive()
            if message["type"] != "http.request":  # the client went away
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:  # chunked or lying about its length: stop reading here
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        self._body = b"".join(chunks)
        return self._body

    async def disconnected(self) -> None:
        """Returns once the client has hung up (for handlers that wait, like long-polls)."""
        await self.body()
        while (await self._receive())["type"] != "http.disconnect":
            pass


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Set once the last byte has been handed to the server (see ACK_DELIVERED).
    delivered: asyncio.Event | None = None


def json_response(status: int, data: Mapping[str, Any],
                  headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(status, json.dumps(data).encode(),
                    [("content-type", "application/json"), *headers])


Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Route:
    """An extra endpoint, e.g. Route("/slack/install", install) or
    Route("/api/v1/keys", keys, methods=("GET", "POST"), max_body=64 * 1024)."""

    path: str
    handler: Handler
    methods: tuple[str, ...] = ("GET",)
    max_body: int = 64 * 1024
    # Also answers every path under `path` (which then ends with "/"), e.g. /api/v1/things/<id>.
    prefix: bool = False


# -- Slack events -------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


def slack_events_handler(bolt_app: Any, signing_secret: str) -> Handler:
    """POST /slack/events: size, signature, shape, then Bolt."""
    verifier = SignatureVerifier(signing_secret)

    async def handle(request: Request) -> Response:
        try:
            bolt_request, delivered = await _checked(verifier, request)
        except _Refused as refused:
            return json_response(refused.status, {"error": refused.error})
        response = await bolt_app.async_dispatch(bolt_request)
        headers = [(k, v) for k, values in response.headers.items()
                   if k.lower() != "content-length" for v in values]
        return Response(response.status, (response.body or "").encode(), headers, delivered)

    return handle


async def _checked(
    verifier: SignatureVerifier, request: Request
) -> tuple[Any, asyncio.Event]:
    """The signed, well-formed Bolt request in `request`, or _Refused saying why not."""
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    # Size first, then the headers, then the body: a stranger costs no read at all.
    request.check_declared_length()
    # compare_digest raises on non-ASCII text: shape-check both headers first.
    if not (signature.isascii() and signature.startswith("v0=") and len(signature) < 100
            and timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise _Refused(401, "invalid signature")
    body = await request.body()
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if not signed(verifier, body, text, timestamp, signature):
        raise _Refused(401, "invalid signature")
    # Signed from here on: what is wrong now is Slack's (or a proxy's) doing; say what.
    if text is None:
        raise _Refused(400, "body is not UTF-8")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in SLACK_CONTENT_TYPES:
        raise _Refused(400, "unsupported content type")
    delivered = asyncio.Event()
    bolt_request = _bolt_request(text, request, delivered)
    request.log_extra["kind"] = request_kind(bolt_request.body)
    retry = request.headers.get("x-slack-retry-num", "")
    if retry.isdigit() and len(retry) < 4:
        request.log_extra["retry"] = int(retry)
    return bolt_request, delivered


def _bolt_request(text: str, request: Request, delivered: asyncio.Event) -> Any:
    from slack_bolt.request.async_request import AsyncBoltRequest

    from bot.http.shapes import problem as shape_problem

    try:
        bolt_request = AsyncBoltRequest(
            body=text,
            query=request.query_string,
            headers=request.headers,
            context={ACK_DELIVERED: delivered},
        )
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError):
        # json.JSONDecodeError is a ValueError; a payload that is a list or a string fails
        # in Bolt's context building with AttributeError/TypeError.
        raise _Refused(400, "malformed body") from None
    payload = bolt_request.body
    if not isinstance(payload, dict) or not payload:
        raise _Refused(400, "malformed body")
    if too_deep(payload, MAX_DEPTH):
        raise _Refused(400, "body nested too deeply")
    wrong = shape_problem(payload)
    if wrong is not None:  # names a field, never quotes a value
        raise _Refused(400, f"malformed payload: {wrong}")
    return bolt_request


def health_handler(health: HealthCheck, timeout: float = HEALTH_TIMEOUT) -> Handler:
    """GET /healthz: 200 when `health()` says so within `timeout`, else 503 with reasons."""

    async def handle(request: Request) -> Response:
        try:
            ok, details = await asyncio.wait_for(health(), timeout)
        except TimeoutError:
            ok, details = False, {"reason": f"health check did not answer within {timeout:g} s"}
        except Exception as exc:  # the reason is its type: exception texts may quote URLs
            ok, details = False, {"reason": f"health check failed ({type(exc).__name__})"}
        body = {**_plain(details), "ok": bool(ok)}
        return json_response(200 if ok else 503, body, [("cache-control", "no-store")])

    return handle


def _plain(details: Any) -> dict[str, Any]:
    """Only flat JSON scalars reach the health body; strings go through the redaction net."""
    from bot.logs import redact

    out: dict[str, Any] = {}
    for key, value in (details.items() if isinstance(details, Mapping) else ()):
        if isinstance(value, bool | int | float) or value is None:
            out[str(key)] = value
        elif isinstance(value, str):
            out[str(key)] = redact(value[:200])
    return out


# -- the application ------------------------------------------------------------------------


def make_asgi_app(
    *,
    bolt_app: Any,
    signing_secret: str,
    health: HealthCheck,
    max_body: int = MAX_SLACK_BODY,
    extra_routes: Iterable[Route] = (),
    events_path: str = EVENTS_PATH,
    health_path: str = HEALTH_PATH,
    health_timeout: float = HEALTH_TIMEOUT,
) -> AsgiApp:
    """The ASGI callable: POST `events_path` → Bolt (slack_bolt.async_app.AsyncApp),
    GET/HEAD `health_path` → `health()`, `extra_routes`, 404 elsewhere, 405 for a wrong method.
    Every request leaves exactly one log line (logger "bot.http") without any body value."""
    if not signing_secret:
        raise ValueError("signing_secret is required in HTTP mode")
    routes: dict[str, Route] = {
        events_path: Route(events_path, slack_events_handler(bolt_app, signing_secret),
                           ("POST",), max_body),
        health_path: Route(health_path, health_handler(health, health_timeout), ("GET", "HEAD")),
    }
    for route in extra_routes:
        if route.path in routes:
            raise ValueError(f"route {route.path} is defined twice")
        routes[route.path] = route

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets are turned off in run_server
            return
        await _http(routes, scope, receive, send)

    return app


def routes_app(routes: Iterable[Route]) -> AsgiApp:
    """`routes` only, no Slack (the local console): same limits, log lines and 404/405."""
    table = {route.path: route for route in routes}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await (_lifespan(receive, send) if scope["type"] == "lifespan"
               else _http(table, scope, receive, send))

    return app


async def _http(routes: Mapping[str, Route], scope: Scope, receive: Receive, send: Send) -> None:
    started = time.perf_counter()
    method = str(scope.get("method", "GET"))
    route = routes.get(str(scope.get("path", ""))) or _under(routes, str(scope.get("path", "")))
    request = Request(
        method=method,
        path=str(scope.get("path", "")),
        query_string=bytes(scope.get("query_string", b"")).decode("latin-1"),
        headers=_headers(scope),
        max_body=route.max_body if route else 0,
        _receive=receive,
        client=str((scope.get("client") or ("",))[0]),
    )
    try:
        if route is None:
            response = json_response(404, {"error": "not found"})
        elif method not in route.methods:
            response = json_response(405, {"error": "method not allowed"},
                                     [("allow", ", ".join(route.methods))])
        else:
            response = await route.handler(request)
    except BodyTooLarge:
        response = json_response(413, {"error": "body too large"}, [("connection", "close")])
    except Exception as exc:
        # Type only: exception texts can quote the body. No traceback reaches the client.
        log.error("request failed", extra={"route": route.path if route else "other",
                                           "error": type(exc).__name__})
        debug_traceback(log, "request", exc)
        response = json_response(500, {"error": "internal error"})
    try:
        await _send(send, response, head=method == "HEAD")
    finally:
        if response.delivered is not None:
            response.delivered.set()  # also when the client is gone: nobody should wait on it
        metrics.observe_request(route.path if route else "", response.status,
                                request.log_extra.get("kind"), time.perf_counter() - started)
        log_plain(log, "http request", {
            "method": method if method.isalpha() and len(method) < 10 else "other",
            # The route, not the raw path: a stranger's path is theirs to fill with anything.
            "route": route.path if route else "other",
            "status": response.status,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            **request.log_extra,
        })


def _under(routes: Mapping[str, Route], path: str) -> Route | None:
    found = [r for r in routes.values() if r.prefix and path.startswith(r.path)]
    return max(found, key=lambda r: len(r.path)) if found else None


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        key = bytes(name).decode("latin-1").lower()
        if key not in out:
            out[key] = bytes(value).decode("latin-1")
    return out


async def _send(send: Send, response: Response, *, head: bool = False) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else response.body,
                "more_body": False})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
