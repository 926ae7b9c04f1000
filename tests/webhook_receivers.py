"""Misbehaving webhook receivers on 127.0.0.1 (real sockets): one that holds the request until
released, one that trickles its answer a byte at a time, one that answers with an endless
body. Each records what it saw so tests wait for events, never for times."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.platforms.server import QuietHTTPServer


class BadReceiver:
    def __init__(self, mode: str) -> None:
        self.mode = mode  # "ok", "stall", "trickle" or "huge"
        self.received: list[bytes] = []
        self.got_request = threading.Event()
        self.release = threading.Event()  # ends a stall or a trickle
        self.bytes_sent = 0
        self.finished = threading.Event()  # the handler returned
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.received.append(body)
                receiver.got_request.set()
                try:
                    getattr(receiver, f"_answer_{receiver.mode}")(self)
                except OSError:
                    pass  # the client hung up: what a deadline or a size cap does
                finally:
                    receiver.finished.set()

        self._httpd = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def _answer_ok(self, h: Any) -> None:
        h.send_response(200)
        h.send_header("content-length", "0")
        h.end_headers()

    def _answer_stall(self, h: Any) -> None:
        self.release.wait(60)
        self._answer_ok(h)

    def _answer_trickle(self, h: Any) -> None:
        h.send_response(200)
        h.send_header("content-length", "100000")
        h.end_headers()
        # One byte at a time, each well inside any per-read timeout, until released.
        while not self.release.wait(0.2):
            h.wfile.write(b".")
            h.wfile.flush()
            self.bytes_sent += 1

    def _answer_huge(self, h: Any) -> None:
        h.send_response(500)
        h.send_header("content-length", str(300 * 2**20))
        h.end_headers()
        chunk = b"x" * 65536
        while self.bytes_sent < 300 * 2**20 and not self.release.is_set():
            h.wfile.write(chunk)
            self.bytes_sent += len(chunk)

    def close(self) -> None:
        self.release.set()
        self.finished.wait(5)
        self._httpd.shutdown()
        self._httpd.server_close()


def wait_until(check: Any, seconds: float = 30.0) -> bool:
    """Poll `check` until true (generous: the machine may be busy); never a timing assertion."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return bool(check())
