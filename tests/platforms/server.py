"""A local HTTP server that stands in for a platform's API, over a real socket.

Each platform module in this folder subclasses PlatformServer and answers as that platform
documents. Fault modes shared by every platform (rate limit, 5xx, slow, malformed, oversized,
redirect) live here so each platform only says how its own 429 looks.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class QuietHTTPServer(ThreadingHTTPServer):
    """A client that hangs up (timeout tests, pooled connections closed at exit) is normal
    here, not an error worth a traceback in the test output."""

    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


FAULTS = ("rate_limit", "server_error", "timeout", "malformed", "oversized", "redirect")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def host(self) -> str:
        return self.headers.get("host", "")

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str sent as is
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        if self.body is None:
            return b""
        return json.dumps(self.body).encode()


class PlatformServer:
    """Subclasses implement `handle`. `fault` makes the next requests misbehave."""

    flow_id: str = ""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.fault: str | None = None
        self.slow_seconds = 3.0
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                req = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                server_self.requests.append(req)
                resp = server_self.dispatch(req)
                if resp is None:  # timeout fault: the connection is simply dropped later
                    return
                data = resp.encoded()
                headers = {"Content-Type": "application/json", **resp.headers}
                try:  # the client may have given up already (timeout tests)
                    self.send_response(resp.status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.httpd = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def env_name(self) -> str:
        from flows.http import env_name

        return env_name(self.flow_id)

    def start(self) -> PlatformServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> PlatformServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour ----------------------------------------------------------------------
    def dispatch(self, req: Request) -> Response | None:
        if self.fault == "timeout":
            time.sleep(self.slow_seconds)
            return Response(200, {})
        if self.fault == "rate_limit":
            return self.rate_limited(req)
        if self.fault == "server_error":
            return Response(503, {"error": "Service Unavailable"})
        if self.fault == "malformed":
            return Response(200, b"<html><body>Maintenance</body></html>",
                            {"Content-Type": "text/html"})
        if self.fault == "oversized":
            return Response(200, b'{"pad":"' + b"x" * 3_000_000 + b'"}')
        if self.fault == "redirect":
            return Response(302, b"", {"Location": "https://attacker.example/steal"})
        return self.handle(req)

    def rate_limited(self, req: Request) -> Response:
        return Response(429, {"message": "Too Many Requests"}, {"Retry-After": "30"})

    def handle(self, req: Request) -> Response:
        raise NotImplementedError
