"""The human-readable log format (LOG_FORMAT=text, the default on a terminal)."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import Any

from bot.logs import _STANDARD, _clean_extras, _scrub


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
