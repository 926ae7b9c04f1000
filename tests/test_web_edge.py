"""The HTTP edge (bot.http.edge) over a real socket: uvicorn on a free port in this process, in
front
of a minimal AsyncApp (one /getkey command, one modal), every log record captured at DEBUG.

Strangers cost nothing: oversized bodies are refused before they are read, unsigned or badly
signed ones get 401, signed but malformed ones 400, never a 5xx, and no body ever reaches a
log line, whatever the outcome."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.http.edge import (
    ACK_DELIVERED,
    Request,
    Response,
    Route,
    make_asgi_app,
)
from bot.http.serving import make_server
from bot.logs import JsonFormatter, RedactingFilter, install_redaction, pin_levels
from tests.slack_standin import SlackSender, SlackStandIn

SIGNING_SECRET = "edgesigningsecret0123456789abcdef"
BOT_TOKEN = "xoxb-0000-standin-token"
FORM_ID = "edge_form"
WAIT = 10.0


class Capture(logging.Handler):
    """What any handler would receive: the rendered message and every attribute."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.json = io.StringIO()
        self._json = logging.StreamHandler(self.json)
        self._json.setFormatter(JsonFormatter())
        self._json.addFilter(RedactingFilter())
        self._lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.getMessage()} {record.__dict__!r} {record.exc_text or ''}"
        with self._lock_:
            self.lines.append(text)
        self._json.handle(record)

    def text(self) -> str:
        with self._lock_:
            return "\n".join(self.lines) + "\n" + self.json.getvalue()

    def http_lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.json.getvalue().splitlines():
            data = json.loads(line)
            if data.get("logger") == "bot.http":
                out.append(data)
        return out

    def wait_http_lines(
        self, enough: Callable[[list[dict[str, Any]]], bool], seconds: float = WAIT
    ) -> list[dict[str, Any]]:
        """The request lines once `enough` of them are there: each is written after its
        response has gone out, so it may trail the reply the test already holds."""
        deadline = time.monotonic() + seconds
        while not enough(lines := self.http_lines()) and time.monotonic() < deadline:
            time.sleep(0.02)
        return lines

    def clear(self) -> None:
        with self._lock_:
            self.lines.clear()
            self.json.seek(0)
            self.json.truncate()


@dataclass
class Edge:
    url: str
    port: int
    sender: SlackSender
    standin: SlackStandIn
    logs: Capture
    health: dict[str, Any]
    submitted: list[dict[str, Any]] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)

    def post(self, body: bytes, content_type: str = "application/x-www-form-urlencoded", *,
             sign: bool = True, timestamp: str | None = None, **headers: str) -> httpx.Response:
        ts = timestamp if timestamp is not None else str(int(time.time()))
        send = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, **headers}
        if sign:
            send["X-Slack-Signature"] = signature(ts, body)
        return httpx.post(self.url + "/slack/events", content=body, headers=send, timeout=WAIT)


def signature(timestamp: str, body: bytes) -> str:
    """Slack's v0 signature over the raw bytes (works for bodies that are not UTF-8 too)."""
    import hashlib
    import hmac

    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


def build_bolt(standin: SlackStandIn, edge: Edge) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url),
        signing_secret=SIGNING_SECRET,
        request_verification_enabled=False,  # the edge verifies; Bolt would only re-check
        process_before_response=False,
    )

    @app.command("/getkey")
    async def command(ack: Any, context: Any) -> None:
        delivered = context.get(ACK_DELIVERED)
        before = delivered.is_set() if isinstance(delivered, asyncio.Event) else None
        await ack("guide")
        after = False
        if isinstance(delivered, asyncio.Event):
            try:
                await asyncio.wait_for(delivered.wait(), 3)
                after = True
            except TimeoutError:
                pass
        edge.acks.append({"event": type(delivered).__name__, "set_before_ack": before,
                          "set_after_ack": after})

    @app.view(FORM_ID)
    async def form(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        values = {block: next(iter(actions.values())).get("value")
                  for block, actions in view["state"]["values"].items()}
        edge.submitted.append(values)

    return app


@pytest.fixture(scope="module")
def edge() -> Iterator[Edge]:
    install_redaction()
    root = logging.getLogger()
    old_level = root.level
    # The worst case: LOG_LEVEL=DEBUG before the Bolt app exists (Bolt copies the root level
    # onto its own loggers at construction).
    root.setLevel(logging.DEBUG)
    logs = Capture()
    root.addHandler(logs)
    standin = SlackStandIn(bot_token=BOT_TOKEN).start()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    state: dict[str, Any] = {"ok": True, "hang": False}
    edge = Edge(url, port, SlackSender(url, SIGNING_SECRET, standin), standin, logs, state)
    bolt = build_bolt(standin, edge)

    async def health() -> tuple[bool, dict[str, Any]]:
        if state["hang"]:
            await asyncio.Event().wait()  # a database that accepts and never answers
        return state["ok"], {"database": "ok" if state["ok"] else "unavailable"}

    async def echo(request: Request) -> Response:
        return Response(200, await request.body())

    asgi = make_asgi_app(bolt_app=bolt, signing_secret=SIGNING_SECRET, health=health,
                         extra_routes=[Route("/api/v1/echo", echo, ("POST",), max_body=16)])
    server = make_server(asgi, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield edge
    finally:
        server.should_exit = True
        thread.join(WAIT)
        standin.stop()
        root.removeHandler(logs)
        root.setLevel(old_level)
        pin_levels()


@pytest.fixture
def e(edge: Edge) -> Edge:
    edge.logs.clear()
    edge.submitted.clear()
    edge.acks.clear()
    edge.health.update(ok=True, hang=False)
    return edge


def raw_request(port: int, head: bytes, body_chunks: Iterator[bytes],
                timeout: float = WAIT) -> tuple[bytes, int]:
    """Sends `head` then body chunks until the server answers or closes; returns what the
    server said and how many body bytes it took to get there."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(head)
        conn.setblocking(False)
        answer = b""
        for chunk in body_chunks:
            try:
                answer += conn.recv(65536)
            except BlockingIOError:
                pass
            if answer:
                break
            try:
                conn.setblocking(True)
                conn.settimeout(timeout)
                conn.sendall(chunk)
                sent += len(chunk)
                conn.setblocking(False)
            except OSError:  # the server closed on us: its answer is already in the buffer
                break
        conn.setblocking(True)
        conn.settimeout(timeout)
        try:
            while b"\r\n\r\n" not in answer:
                data = conn.recv(65536)
                if not data:
                    break
                answer += data
        except OSError:
            pass
    return answer, sent


MARKER = "ZZBODYMARKER"


def big_chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    piece = (MARKER + "x" * (size - len(MARKER))).encode()
    for _ in range(total // size):
        yield piece


def test_ten_megabytes_declared_are_refused_before_reading(e: Edge):
    total = 10 * 1024 * 1024
    head = (f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {total}\r\n\r\n").encode()
    started = time.perf_counter()
    answer, sent = raw_request(e.port, head, big_chunks(total))
    elapsed = time.perf_counter() - started
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < total  # answered without waiting for the body
    print(f"10 MB declared: 413 after {sent} body bytes, {elapsed * 1000:.1f} ms")
    # The server is still there for everyone else, and logged one line without the body.
    assert e.sender.command("help").status == 200
    assert MARKER not in e.logs.text()
    lines = e.logs.wait_http_lines(lambda ls: any(x["status"] == 413 for x in ls))
    assert any(line["status"] == 413 for line in lines)


def test_chunked_body_stops_being_read_past_the_limit(e: Edge):
    total = 64 * 1024 * 1024  # more than loopback socket buffers can swallow unread
    head = (b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"X-Slack-Request-Timestamp: " + str(int(time.time())).encode() + b"\r\n"
            b"X-Slack-Signature: v0=" + b"0" * 64 + b"\r\nTransfer-Encoding: chunked\r\n\r\n")

    def chunked() -> Iterator[bytes]:
        for piece in big_chunks(total):
            yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"

    answer, sent = raw_request(e.port, head, chunked())
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < total  # answered (and closed) long before the client was done
    assert MARKER not in e.logs.text()
    assert httpx.get(e.url + "/healthz", timeout=WAIT).status_code == 200


def test_a_slow_huge_upload_does_not_hold_up_others(e: Edge):
    head = (f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"X-Slack-Request-Timestamp: {int(time.time())}\r\nX-Slack-Signature: v0=00\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n").encode()
    gate = threading.Event()

    def slow() -> Iterator[bytes]:
        yield b"10\r\n" + b"a" * 16 + b"\r\n"
        gate.wait(WAIT)  # the upload stalls while others are served
        yield b"0\r\n\r\n"

    result: list[Any] = []
    uploader = threading.Thread(target=lambda: result.append(raw_request(e.port, head, slow())))
    uploader.start()
    try:
        assert e.sender.command("help").status == 200
        assert httpx.get(e.url + "/healthz", timeout=WAIT).status_code == 200
    finally:
        gate.set()
        uploader.join(WAIT)
    assert result and result[0][0].startswith(b"HTTP/1.1 401")


def test_extra_routes_have_their_own_limit(e: Edge):
    ok = httpx.post(e.url + "/api/v1/echo", content=b"small", timeout=WAIT)
    assert (ok.status_code, ok.content) == (200, b"small")
    big = httpx.post(e.url + "/api/v1/echo", content=b"x" * 17, timeout=WAIT)
    assert big.status_code == 413
    assert httpx.get(e.url + "/api/v1/echo", timeout=WAIT).status_code == 405


def nested(depth: int) -> str:
    return '{"type": "block_actions", "x": ' + "[" * depth + "]" * depth + "}"


FORM = "application/x-www-form-urlencoded"
SIGNED_MALFORMED = {
    "bad utf-8": (b"payload=%7B%22type%22%3A%22x%22%7D\xff\xfe", FORM),
    "bad utf-8 json": (b'{"type": "event_callback", "x": "\xc3\x28"}', "application/json"),
    "payload is a list": (urlencode({"payload": "[1, 2]"}).encode(), FORM),
    "payload is a string": (urlencode({"payload": '"hello"'}).encode(), FORM),
    "payload is a number": (urlencode({"payload": "5"}).encode(), FORM),
    "payload is not json": (urlencode({"payload": "{not json"}).encode(), FORM),
    "json body is a list": (b"[1, 2, 3]", "application/json"),
    "json body is not json": (b"{'type': 1}", "application/json"),
    "nesting 200 deep": (urlencode({"payload": nested(200)}).encode(), FORM),
    "nesting 100000 deep": (urlencode({"payload": nested(100_000)}).encode(), FORM),
    "json nesting 100000 deep": (nested(100_000).encode(), "application/json"),
    "unknown content type": (b"type=x", "text/plain"),
    "no content type": (b"type=x", ""),
    "empty body": (b"", FORM),
}


@pytest.mark.parametrize("name", list(SIGNED_MALFORMED))
def test_signed_malformed_bodies_get_a_short_400(e: Edge, name: str):
    body, content_type = SIGNED_MALFORMED[name]
    reply = e.post(body, content_type)
    assert reply.status_code == 400, (reply.status_code, reply.text[:300])
    assert set(reply.json()) == {"error"} and len(reply.text) < 100
    assert "Traceback" not in e.logs.text()


UNSIGNED = {
    "missing both headers": {"X-Slack-Request-Timestamp": None, "X-Slack-Signature": None},
    "missing signature": {"X-Slack-Signature": None},
    "missing timestamp": {"X-Slack-Request-Timestamp": None},
    "non-numeric timestamp": {"X-Slack-Request-Timestamp": "yesterday"},
    "negative timestamp": {"X-Slack-Request-Timestamp": "-5"},
    "huge timestamp": {"X-Slack-Request-Timestamp": "9" * 400},
    "wrong signature": {"X-Slack-Signature": "v0=" + "ab" * 32},
    "garbage signature": {"X-Slack-Signature": "\u00e9t\u00e9"},
}


@pytest.mark.parametrize("name", list(UNSIGNED))
@pytest.mark.parametrize("body", [b"payload=%7B%7D\xff", b'{"type": [[[["x"]]]]}', b"[1]"],
                         ids=["bad-utf8", "json", "list"])
def test_unsigned_requests_get_401_whatever_the_body(e: Edge, name: str, body: bytes):
    ts = str(int(time.time()))
    headers = {"Content-Type": FORM, "X-Slack-Request-Timestamp": ts,
               "X-Slack-Signature": signature(ts, body + b"tampered")}
    for key, value in UNSIGNED[name].items():
        if value is None:
            headers.pop(key)
        else:
            headers[key] = value
    encoded = {k: v.encode("utf-8") if not v.isascii() else v for k, v in headers.items()}
    reply = httpx.post(e.url + "/slack/events", content=body, headers=encoded, timeout=WAIT)
    assert reply.status_code == 401, (reply.status_code, reply.text[:300])
    assert reply.json() == {"error": "invalid signature"}


# A Lightspeed eCom secret is 32 hex characters; the other looks random but has no known shape.
ECOM_SECRET = secrets.token_hex(16)
RANDOM_SECRET = "Qm" + secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")


def submission(sender: SlackSender) -> dict[str, Any]:
    base = sender._interaction_base("view_submission")
    return {
        **base,
        "view": {
            "id": "V0EDGE1", "type": "modal", "callback_id": FORM_ID, "team_id": sender.team_id,
            "private_metadata": json.dumps({"flow": "lightspeed_ecom"}), "blocks": [],
            "state": {"values": {
                "field.api_key": {"value": {"type": "plain_text_input", "value": ECOM_SECRET}},
                "field.api_secret": {"value": {"type": "plain_text_input",
                                               "value": RANDOM_SECRET}},
            }},
        },
        "response_urls": [],
    }


def test_late_signed_submission_is_refused_and_never_logged(e: Edge):
    body = urlencode({"payload": json.dumps(submission(e.sender))})
    late = int(time.time()) - 301  # clock skew, or a replay
    reply = e.sender.post(body, FORM, timestamp=late)
    assert reply.status == 401
    assert e.submitted == []
    logged = e.logs.text()
    assert ECOM_SECRET not in logged and RANDOM_SECRET not in logged
    assert ECOM_SECRET[:12] not in logged and RANDOM_SECRET[:12] not in logged


def test_accepted_submission_reaches_the_listener_and_no_log(e: Edge):
    reply = e.sender.post_payload(submission(e.sender))
    assert reply.status == 200
    deadline = time.monotonic() + WAIT
    while not e.submitted and time.monotonic() < deadline:
        time.sleep(0.02)
    assert e.submitted == [{"field.api_key": ECOM_SECRET, "field.api_secret": RANDOM_SECRET}]
    # The request line is written once the response has gone out: it may trail the reply.
    while time.monotonic() < deadline and not [
        x for x in e.logs.http_lines() if x["route"] == "/slack/events"
    ]:
        time.sleep(0.02)
    logged = e.logs.text()
    assert ECOM_SECRET not in logged and RANDOM_SECRET not in logged
    (line,) = [x for x in e.logs.http_lines() if x["route"] == "/slack/events"]
    assert line["status"] == 200 and line["kind"] == "view_submission"
    assert set(line) >= {"method", "route", "status", "ms", "kind"}


def test_the_listener_learns_when_its_ack_was_sent(e: Edge):
    reply = e.sender.command("help")
    assert (reply.status, reply.body) == (200, b"guide")
    deadline = time.monotonic() + WAIT
    while not e.acks and time.monotonic() < deadline:
        time.sleep(0.02)
    assert e.acks == [{"event": "Event", "set_before_ack": False, "set_after_ack": True}]


def test_health_is_200_then_503_with_reasons(e: Edge):
    ok = httpx.get(e.url + "/healthz", timeout=WAIT)
    assert ok.status_code == 200 and ok.json() == {"ok": True, "database": "ok"}
    e.health["ok"] = False
    bad = httpx.get(e.url + "/healthz", timeout=WAIT)
    assert bad.status_code == 503 and bad.json() == {"ok": False, "database": "unavailable"}
    assert httpx.head(e.url + "/healthz", timeout=WAIT).status_code == 503


def test_a_hanging_health_check_answers_503(e: Edge):
    e.health["hang"] = True
    started = time.perf_counter()
    # The client gives up after 5 s: a health check that hangs would fail here.
    reply = httpx.get(e.url + "/healthz", timeout=5.0)
    print(f"hanging health check answered {reply.status_code} in "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")
    assert reply.status_code == 503
    assert reply.json()["ok"] is False and "within" in reply.json()["reason"]


def test_unknown_paths_and_methods(e: Edge):
    assert httpx.get(e.url + "/nope/xoxb-1234-secret-in-path", timeout=WAIT).status_code == 404
    assert httpx.get(e.url + "/slack/events", timeout=WAIT).status_code == 405
    reply = httpx.post(e.url + "/healthz", timeout=WAIT)
    assert reply.status_code == 405 and "GET" in reply.headers["allow"]
    # Exactly these three answers, each logged under its route (the raw path never is).
    wanted = {("other", 404), ("/slack/events", 405), ("/healthz", 405)}
    lines = e.logs.wait_http_lines(lambda ls: wanted <= {(x["route"], x["status"]) for x in ls})
    assert wanted <= {(line["route"], line["status"]) for line in lines}
    assert "secret-in-path" not in e.logs.text()
