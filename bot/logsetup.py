"""The `serve` process's log handler: JSON lines or, on a terminal (LOG_FORMAT=text), plain
lines, both through bot.logs' redaction; and background tracebacks at DEBUG."""

from __future__ import annotations

import logging
import sys
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
        line = f"{when} {record.levelname:<7} {record.name}: {record.msg}"
        line = f"{line} {extras}" if extras else line
        return f"{line}\n{record.exc_text}" if record.exc_text else line


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
    handler = logging.StreamHandler(sys.stderr)
    text = log_format_for(log_format) == "text"
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    handler.addFilter(RedactingFilter())
    handler.set_name("getkey-json")
    for old in list(root.handlers):
        if old.get_name() == "getkey-json":  # called twice: one line per record, not two
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    pin_levels()
