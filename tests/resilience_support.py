"""Helpers for the issue-9 tests (tests/test_resilience_*.py): a Slack stand-in that can hold a
call (to kill the bot at a chosen moment), a database that never answers, `getkey serve` as a
subprocess with its log in a file, and the search for a raw secret everywhere it could leak.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.slack.ui import ids
from tests.serve_process import wait_healthy
from tests.slack_standin import SlackSender, SlackStandIn

REPO = Path(__file__).resolve().parents[1]
WAIT = 30.0


class HoldingStandIn(SlackStandIn):
    """The Slack stand-in, except that calls to the methods in `hold` do not get an answer
    until `release()`: the bot is stuck in that call, where a test can kill it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hold: set[str] = set()
        self.held: list[str] = []
        self._released = threading.Event()
        self._arrived = threading.Condition()

    def _handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        method = path.removeprefix("/api/").split("?")[0]
        if method in self.hold:
            with self._arrived:
                self.held.append(method)
                self._arrived.notify_all()
            self._released.wait(WAIT)
        return super()._handle(path, headers, raw)

    def wait_held(self, method: str, timeout: float = WAIT) -> None:
        with self._arrived:
            if not self._arrived.wait_for(lambda: method in self.held, timeout):
                raise AssertionError(f"the bot never called {method}")

    def release(self) -> None:
        self.hold.clear()
        self._released.set()


@contextmanager
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung database)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """A clean environment for `getkey serve` (no developer .env: cwd is tmp_path)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
    }
    env.update(settings)
    return env


def serve_command() -> list[str]:
    return [sys.executable, "-m", "bot.cli", "serve"]


class ServeProcess:
    """`getkey serve` in HTTP mode as a child process; its log goes to a file (a pipe nobody
    reads would fill up and stall it)."""

    def __init__(self, tmp_path: Path, env: dict[str, str], name: str = "serve") -> None:
        self.port = int(env["PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"{name}.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            serve_command(), cwd=tmp_path, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_healthy(self) -> None:
        wait_healthy(self.url, self.proc, self.log, timeout=4 * WAIT)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a host dies."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(WAIT)
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._log.closed:
            self._log.close()

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()


def open_form(slack: SlackSender, platform: str) -> str:
    """`/getkey <platform>`, press the guide's button; the opened modal's view id."""
    guide = slack.command(platform).json()
    before = len(slack.standin.calls_to("views.open"))
    assert slack.click(guide["blocks"], ids.OPEN_FORM).status == 200
    opened = slack.standin.wait_for("views.open", before + 1)[before]
    assert opened.response["ok"], opened.response
    return str(opened.response["view"]["id"])


def fields(values: dict[str, str]) -> dict[str, str]:
    """Form values by field key → by the modal's input block ids."""
    return {ids.field_block(k): v for k, v in values.items()}


def database_bytes(db_path: Path) -> bytes:
    """Everything SQLite keeps on disk for this database (the WAL too)."""
    out = b""
    for path in db_path.parent.glob(db_path.name + "*"):
        out += path.read_bytes()
    return out


class Capture(logging.Handler):
    """Every log record of the in-process app, with all its attributes, at DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__!r} {record.exc_text or ''}")

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def capturing() -> Iterator[Capture]:
    capture = Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(level)


def assert_secret_nowhere(
    secret: str, *, logs: str, standin: SlackStandIn, db_path: Path | None = None
) -> None:
    """The raw secret is in no log line, no call getkey made to Slack, and not in clear in
    the database files."""
    assert secret not in logs, "the secret is in the log"
    for call in standin.calls:
        assert secret.encode() not in call.raw, f"the secret was sent to Slack ({call.method})"
    if db_path is not None:
        assert secret.encode() not in database_bytes(db_path), "the secret is in the database"
