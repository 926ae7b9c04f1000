"""Structured logging that cannot leak a token or a request body, cheaply.

Three layers, each record cleaned once:
1. By source. Records written by Slack's libraries (and the HTTP/WebSocket libraries under
   them) are recognised by the file that created them, not their logger's name: Bolt logs
   through loggers named after the app and hands its logger to the Socket Mode client, and it
   copies the root level onto them, so pinning "slack_bolt" alone never held. Below INFO such a
   record is withheld whole (Socket Mode's DEBUG lines are entire payloads); at INFO and above
   its message is cut where a body, payload or JSON starts (Bolt's "Invalid request signature
   detected (..., body: ...)", "Request body: ...", "Unhandled request ({...})").
2. By structure (bot.redaction). A dict or list handed to a logger (as the message, an
   argument or an extra) is reduced by `outline`: ids and types stay, every value a person
   typed (a view's state, a command's text, anything not known to be structural) and every
   secret-named field goes.
3. By pattern (bot.redaction), as a second net: token shapes in whatever text remains.

Why a record factory and not only a filter: a filter attached to a logger runs only for records
created on that very logger, and a filter on our handler does not protect other handlers
(pytest's caplog, an operator's extra handler). Cleaning every record as it is created covers
them all; extras (set after creation) are cleaned by our filter or formatter, once.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.redaction import MAX_SAFE_VALUE, REDACTED, outline, redact

__all__ = ["REDACTED", "WITHHELD", "JsonFormatter", "RedactingFilter", "install_redaction",
           "log_plain", "outline", "pin_levels", "redact"]  # also bot.redaction's, as before

WITHHELD = "[payload withheld]"

# Loggers that see raw HTTP traffic never go below INFO; the quiet ones stay at WARNING.
THIRD_PARTY_MIN_INFO = ("slack_sdk", "slack_bolt")
THIRD_PARTY_QUIET = ("httpx", "httpcore", "urllib3", "waitress.queue", "alembic", "apscheduler",
                     "aiohttp", "websocket", "websockets")
FILTERED_LOGGERS = ("", *THIRD_PARTY_MIN_INFO, *THIRD_PARTY_QUIET, "waitress", "bot", "flows")
# Packages whose records may quote payloads, recognised by the source file of the record.
PAYLOAD_SOURCES = ("slack_bolt", "slack_sdk", "aiohttp", "websocket", "websockets", "httpx",
                   "httpcore", "urllib3")

MAX_MESSAGE = 2000  # characters of a message kept (before redaction: never scan megabytes)
MAX_THIRD_PARTY_MESSAGE = 300
MAX_EXCEPTION = 8000

# Extras our own code writes whose values are ids, numbers, codes or type names: no scan.
SAFE_EXTRAS = frozenset({
    "kind", "target", "team", "user", "status", "ms", "retry", "method", "route", "mode",
    "port", "platform", "ok", "stored", "error", "what", "signal", "seconds", "credential",
    "bytes", "count", "due", "sent", "batch",
})

_PAYLOAD_MARK = re.compile(
    r"[{\[]|\b(?:body|payload|message|submission|data|text|state|values?|response|args|kwargs|"
    r"headers|params|event)\s*[:=]",
    re.I,
)


# -- records --------------------------------------------------------------------------------

_source_cache: dict[str, bool] = {}
_SOURCE_PARTS = tuple(f"{os.sep}{name}{os.sep}" for name in PAYLOAD_SOURCES)


def _from_payload_source(record: logging.LogRecord) -> bool:
    path = record.pathname or ""
    known = _source_cache.get(path)
    if known is None:
        known = any(part in path for part in _SOURCE_PARTS)
        if len(_source_cache) < 10_000:
            _source_cache[path] = known
    return known or record.name.startswith(PAYLOAD_SOURCES)


def _cut_payload(message: str) -> str:
    match = _PAYLOAD_MARK.search(message, 0, MAX_THIRD_PARTY_MESSAGE)
    if match is not None:
        end = match.start() if match.group(0) in "{[" else match.end()
        return f"{message[:end].rstrip()} {WITHHELD}"
    if len(message) > MAX_THIRD_PARTY_MESSAGE:
        return f"{message[:MAX_THIRD_PARTY_MESSAGE]}… {WITHHELD}"
    return message


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    # Cut at a word boundary so no half token is left for the net to miss.
    head = text[:limit]
    space = max(head.rfind(" "), head.rfind("\n"))
    return (head[:space] if space > limit // 2 else head[: limit // 2]) + " [truncated]"


def _structured_args(args: Any) -> Any:
    if isinstance(args, Mapping):
        return outline(args)
    if isinstance(args, tuple):
        return tuple(outline(a) if isinstance(a, Mapping | list) else a for a in args)
    return args


def _render(record: logging.LogRecord) -> str:
    msg = record.msg
    if isinstance(msg, Mapping | list):
        msg = json.dumps(outline(msg), default=str)
    if not record.args:
        return msg if isinstance(msg, str) else str(msg)
    try:
        return str(msg) % _structured_args(record.args)
    except Exception:  # a bad format string must not make logging itself fail
        return str(msg)


_clean_literals: set[str] = set()


def _scrub(record: logging.LogRecord) -> None:
    """Clean message, arguments, exception and stack of one record, once."""
    if record.__dict__.get("_getkey_clean"):
        return
    if _from_payload_source(record):
        if record.levelno < logging.INFO:
            record.msg = f"{record.name}: debug detail {WITHHELD}"
            record._getkey_drop = True
        else:
            record.msg = redact(_cut_payload(_render(record)))
    elif not record.args and record.msg.__class__ is str and record.msg in _clean_literals:
        pass  # a message seen before with nothing to mask: the usual constant "slack request"
    else:
        message = _render(record)
        record.msg = redact(_truncate(message, MAX_MESSAGE))
        if (not record.args and record.msg == message and len(message) < 200
                and len(_clean_literals) < 1000):
            _clean_literals.add(message)  # holds only texts the nets found nothing in
    record.args = None
    if record.exc_info:
        if not record.exc_text:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
            record.exc_text = redact(_truncate(text, MAX_EXCEPTION))
        # The exception object itself still holds the raw text; handlers get the scrubbed
        # rendering only (Formatter appends exc_text when exc_info is gone).
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(_truncate(record.exc_text, MAX_EXCEPTION))
    if record.stack_info:
        record.stack_info = redact(_truncate(record.stack_info, MAX_EXCEPTION))
    record._getkey_clean = True


def _clean_extras(record: logging.LogRecord) -> None:
    if record.__dict__.get("_getkey_extras_clean"):
        return
    # uvicorn's copy of the message with ANSI colour codes: noise in a log line.
    record.__dict__.pop("color_message", None)
    for key in record.__dict__.keys() - _STANDARD:
        value = record.__dict__[key]
        if key.startswith("_") or isinstance(value, bool | int | float) or value is None:
            continue
        if isinstance(value, str):
            if key in SAFE_EXTRAS and len(value) <= MAX_SAFE_VALUE:
                continue
            record.__dict__[key] = redact(_truncate(value, MAX_MESSAGE))
        elif isinstance(value, Mapping | list | tuple):
            record.__dict__[key] = outline(value)
        else:
            record.__dict__[key] = redact(_truncate(str(value), MAX_MESSAGE))
    record._getkey_extras_clean = True


def log_plain(logger: logging.Logger, message: str, extra: Mapping[str, Any]) -> None:
    """An INFO line of a constant and extras that are numbers or short SAFE_EXTRAS values (the
    edge's line per request, the largest cost of a slash command after Bolt's): when the only
    handler it would reach takes plain lines (bot.logsetup.LineHandler), it gets the line
    without a record; else a record marked clean once checked, so the cleaning passes skip it.
    Anything else: logger.info, cleaned as usual."""
    if not logger.isEnabledFor(logging.INFO):
        return
    if not _all_plain(extra):
        return logger.info(message, extra=dict(extra))
    writer = _only_writer(logger)
    if writer is not None:
        return writer.write_plain(logger.name, _clean_constant(message), extra)
    record = logging.LogRecord(logger.name, logging.INFO, "", 0, message, None, None)
    record.__dict__.update(extra, _getkey_extras_clean=True, _getkey_plain=extra)
    _scrub(record)  # a constant seen before: a set lookup
    logger.handle(record)


def _only_writer(logger: logging.Logger) -> Any:
    """The one handler an INFO record of `logger` would reach, if it takes plain lines and no
    filter of the logger's could refuse the record (Logger.callHandlers' walk)."""
    found, node = None, logger
    if logger.filters:
        return None
    while node is not None:
        for handler in node.handlers:
            if found is not None or not getattr(handler, "takes_plain", _no)():
                return None
            found = handler
        if not node.propagate:
            break
        node = node.parent  # type: ignore[assignment]
    return found


def _no() -> bool:
    return False


def _clean_constant(message: str) -> str:
    if message not in _clean_literals:
        cleaned = redact(_truncate(message, MAX_MESSAGE))
        if cleaned != message or len(message) >= 200 or len(_clean_literals) >= 1000:
            return cleaned
        _clean_literals.add(message)
    return message


def _all_plain(extra: Mapping[str, Any]) -> bool:
    """Numbers, booleans, None, or short strings under SAFE_EXTRAS: nothing to clean (and no
    name the line's own fields use)."""
    for key, value in extra.items():
        kind = value.__class__
        if key in _LINE_FIELDS:
            return False
        if kind is str:
            if key not in SAFE_EXTRAS or len(value) > MAX_SAFE_VALUE:
                return False
        elif kind not in _PLAIN_KINDS:
            return False
    return True


_PLAIN_KINDS = frozenset({int, float, bool, type(None)})
_LINE_FIELDS = frozenset({"ts", "level", "logger", "msg", "exc"})


class RedactingFilter(logging.Filter):
    """Cleans a record (once) and drops third-party records that were withheld whole."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub(record)
        if record.__dict__.get("_getkey_drop"):
            return False
        _clean_extras(record)
        return True


_STANDARD = set(
    logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__
) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        _scrub(record)
        _clean_extras(record)
        plain = record.__dict__.get("_getkey_plain")  # log_plain's: no scan of the record
        if plain is not None and record.levelno == logging.INFO and not record.exc_text:
            return plain_json_line(record.created, record.name, record.msg, plain)
        out = plain if plain is not None else {
            key: value for key, value in record.__dict__.items()
            if key not in _STANDARD and not key.startswith("_")}
        if record.exc_text:
            out = {**out, "exc": record.exc_text}
        return _JSON.encode({"ts": iso_ms(record.created), "level": record.levelname,
                             "logger": record.name, "msg": record.msg, **out})


_JSON = json.JSONEncoder(default=str, ensure_ascii=False)  # one encoder, not one per line
_second: tuple[int, str] = (0, "1970-01-01T00:00:00")  # the last second stamped, as text


def iso_ms(created: float) -> str:
    """datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds") (rounded to the
    microsecond as datetime does) with the date and time worked out once a second; one tuple,
    so a thread never sees half an update."""
    global _second
    whole = int(created)
    micro = round((created - whole) * 1e6)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    second, text = _second
    if whole != second:
        text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second = (whole, text)
    return f"{text}.{micro // 1000:03d}+00:00"


def plain_json_line(created: float, name: str, msg: str, extra: Mapping[str, Any]) -> str:
    """JsonFormatter's text for an INFO line of plain extras (log_plain's), written out
    directly: JSONEncoder.encode's set-up per call costs more than encoding these few values
    (the same text: tests/test_log_plain.py)."""
    head = f'{{"ts": "{iso_ms(created)}", "level": "INFO", "logger": {_str(name)}, "msg": '
    return head + _str(msg) + "".join([f", {_str(k)}: {_value(v)}" for k, v in extra.items()]) + "}"


_str = json.encoder.encode_basestring  # type: ignore[attr-defined]  # C, as ensure_ascii=False


def _value(value: Any) -> str:
    kind = value.__class__
    if kind is str:
        return _str(value)
    if kind is int or (kind is float and math.isfinite(value)):
        return kind.__repr__(value)
    return _CONSTANTS.get(value) or _JSON.encode(value)  # NaN, infinities: as json writes them


_CONSTANTS = {None: "null", True: "true", False: "false"}  # (1 and 0 never get here: ints)


_install_lock = threading.Lock()
_installed = False


def install_redaction() -> None:
    """Idempotent: clean every record from now on and pin the noisy loggers' levels."""
    global _installed
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub(record)
            return record

        logging.setLogRecordFactory(factory)
        shared = RedactingFilter()
        for name in FILTERED_LOGGERS:
            logging.getLogger(name).addFilter(shared)
        for handler in logging.getLogger().handlers:
            handler.addFilter(shared)
        _installed = True
    pin_levels()


def pin_levels() -> None:
    """Slack's loggers (and Bolt's per-class children, which copy the root level when an app
    is built) never go below INFO. Call again after building a Bolt app: it saves creating
    records that would be withheld anyway."""
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.startswith(THIRD_PARTY_MIN_INFO):
            if logger.level != logging.NOTSET and logger.level < logging.INFO:
                logger.setLevel(logging.INFO)
    for name in THIRD_PARTY_MIN_INFO:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO or logger.level == logging.NOTSET:
            logger.setLevel(max(logger.level, logging.INFO))
    for name in THIRD_PARTY_QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
