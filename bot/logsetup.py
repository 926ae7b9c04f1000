"""The `serve` process's log handler: JSON lines or, on a terminal (LOG_FORMAT=text), plain
lines, both through bot.logs' redaction; and background tracebacks at DEBUG."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.logs import (
    _STANDARD,
    JsonFormatter,
    RedactingFilter,
    _clean_extras,
    _scrub,
    install_redaction,
    pin_levels,
    plain_json_line,
)


class TextFormatter(logging.Formatter):
    """For a terminal: `12:00:01 INFO  logger: message key=value …` (same cleaning as JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        _scrub(record)
        _clean_extras(record)
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        extras = " ".join(
            f"{key}={value}" for key, value in record.__dict__.items()
            if key not in _STANDARD and not key.startswith("_")
        )
        line = text_line(when, record.levelname, record.name, record.msg, extras)
        return f"{line}\n{record.exc_text}" if record.exc_text else line


def text_line(when: str, level: str, name: str, msg: Any, extras: str) -> str:
    line = f"{when} {level:<7} {name}: {msg}"
    return f"{line} {extras}" if extras else line


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The serve process's handler. Two savings on the line per request (issue 21):
    - bot.logs.log_plain hands it the line's parts directly when it is the only handler
      (`takes_plain`, `write_plain`): no LogRecord, no handler chain, already clean;
    - lines below WARNING written on an event loop's thread are joined and written once per
      loop iteration (one write instead of one per request); anything else, and whatever is
      waiting before it, is written at once. Lines wait for the loop's next turn, never longer;
      flush() (also at exit) writes them."""

    def __init__(self, stream: Any, *, text: bool) -> None:
        super().__init__(stream)
        self.text = text
        self.setFormatter(TextFormatter() if text else JsonFormatter())
        self.addFilter(RedactingFilter())
        self._pending: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop that will write them

    def takes_plain(self) -> bool:
        # Its own filters are redaction only, which a plain line does not need.
        return self.level <= logging.INFO and all(
            isinstance(f, RedactingFilter) for f in self.filters)

    def write_plain(self, name: str, message: str, extra: Mapping[str, Any]) -> None:
        """An INFO line of a clean constant and clean extras (bot.logs.log_plain's)."""
        created = time.time()
        if self.text:
            when = datetime.fromtimestamp(created).strftime("%H:%M:%S")
            extras = " ".join(f"{key}={value}" for key, value in extra.items())
            line = text_line(when, "INFO", name, message, extras)
        else:
            line = plain_json_line(created, name, message, extra)
        with self.lock:  # type: ignore[union-attr]
            self._add(line, soon=True)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._add(self.format(record), soon=record.levelno < logging.WARNING)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def _add(self, line: str, *, soon: bool) -> None:
        self._pending.append(line)
        if soon:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # a worker thread, or no loop: at once
                loop = None
            if loop is not None and self._loop in (None, loop):
                if self._loop is None:
                    loop.call_soon(self._flush_waiting)
                    self._loop = loop
                return
        self.flush()

    def _flush_waiting(self) -> None:
        try:
            self.flush()
        except Exception:  # as a failed emit would: reported on stderr, the loop carries on
            self.handleError(logging.makeLogRecord({"msg": "waiting log lines"}))

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._loop = None
            if self._pending:
                lines = "\n".join(self._pending) + self.terminator
                self._pending.clear()
                self.stream.write(lines)
            if self.stream and hasattr(self.stream, "flush"):
                self.stream.flush()


def log_format_for(setting: str | None, stream: Any = None) -> str:
    """LOG_FORMAT when set, else text on a terminal and JSON otherwise (files, collectors)."""
    if setting:
        return setting
    stream = stream if stream is not None else sys.stderr
    return "text" if getattr(stream, "isatty", lambda: False)() else "json"


def debug_traceback(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """A background failure's traceback, at DEBUG only (redacted like every record)."""
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("%s: traceback", what, exc_info=(type(exc), exc, exc.__traceback__))


def configure_logging(level: str = "INFO", log_format: str | None = None) -> None:
    """For the `serve` process: JSON lines (or text on a terminal) on stderr, redacted."""
    install_redaction()
    # Neither format shows threads or processes: records need not look them up (a slash
    # command's log line is a large part of its cost, issue 21).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    handler = LineHandler(sys.stderr, text=log_format_for(log_format) == "text")
    handler.set_name("getkey-json")
    for old in list(root.handlers):
        if old.get_name() == "getkey-json":  # called twice: one line per record, not two
            old.flush()
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    pin_levels()
