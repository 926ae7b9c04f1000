"""Structured logging that cannot leak a token or a request body, cheaply.

Three layers, each record cleaned once:
1. By source. Records written by Slack's libraries (and the HTTP/WebSocket libraries under
   them) are recognised by the file that created them, not their logger's name: Bolt logs
   through loggers named after the app and hands its logger to the Socket Mode client, and it
   copies the root level onto them, so pinning "slack_bolt" alone never held. Below INFO such a
   record is withheld whole (Socket Mode's DEBUG lines are entire payloads); at INFO and above
   its message is cut where a body, payload or JSON starts (Bolt's "Invalid request signature
   detected (..., body: ...)", "Request body: ...", "Unhandled request ({...})").
2. By structure. A dict or list handed to a logger (as the message, an argument or an extra)
   is reduced by `outline`: ids and types stay, every value a person typed (a view's state,
   a command's text, anything not known to be structural) and every secret-named field goes.
3. By pattern, as a second net: token shapes in whatever text remains.

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
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

REDACTED = "[redacted]"
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
MAX_SAFE_VALUE = 80

# Extras our own code writes whose values are ids, numbers, codes or type names: no scan.
SAFE_EXTRAS = frozenset({
    "kind", "target", "team", "user", "status", "ms", "retry", "method", "route", "mode",
    "port", "platform", "ok", "stored", "error", "what", "signal", "seconds", "credential",
    "bytes", "count", "due", "sent", "batch",
})

_KEY_NAMES = (
    r"authorization|x-auth-token|x-shopify-access-token|access_token|refresh_token|api_key|"
    r"api_secret|client_secret|secret_token|signing_secret|password|token|secret"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Slack tokens: bot, user, app-level, refresh, configuration.
    (re.compile(r"\b(xox[abposre]|xapp)-[A-Za-z0-9.-]+"), r"\1-" + REDACTED),
    # Wix keys (IST./JWS. + JWT) and bare JWTs (Lightspeed R-Series access tokens).
    (re.compile(r"\b(IST|JWS)\.[A-Za-z0-9_.-]+"), r"\1." + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){0,2}"), REDACTED),
    # Ecwid, Lightyshare, Lightspeed X personal tokens, Shopify.
    (re.compile(r"\b(secret_|secure_|public_)[A-Za-z0-9]{6,}"), r"\1" + REDACTED),
    (re.compile(r"\b(lsh_(?:live_|test_)?|lsxs_pt_|shp(?:at|ca|pa|ss)_)[A-Za-z0-9_-]+"),
     r"\1" + REDACTED),
    # The token of a request link (bot.http.pages): /k/<token>.
    (re.compile(r"(/k/)[A-Za-z0-9_-]{8,}"), r"\1" + REDACTED),
    # Authorization header values.
    (re.compile(r"\b(Bearer)\s+[A-Za-z0-9._~+/=-]+", re.I), r"\1 " + REDACTED),
    (re.compile(r"\b(Basic)\s+[A-Za-z0-9+/=]{8,}", re.I), r"\1 " + REDACTED),
    # key=value / "key": "value" for names that always hold a secret.
    (re.compile(r"""(\b(?:""" + _KEY_NAMES + r""")["']?\s*[:=]\s*["']?)[^"'\s,&;}]+""", re.I),
     r"\1" + REDACTED),
)
# One cheap pre-check decides whether the patterns above can match at all.
_ANY_PATTERN = re.compile(
    r"xox|xapp|IST\.|JWS\.|eyJ|secret_|secure_|public_|lsh_|lsxs_|shp|bearer|basic|/k/|"
    + _KEY_NAMES, re.I)
_CANDIDATE = re.compile(r"[A-Za-z0-9_+=-]{20,}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_SECRET_KEY = re.compile(_KEY_NAMES + r"|private_metadata|response_urls?|trigger_id|code", re.I)
_PAYLOAD_MARK = re.compile(
    r"[{\[]|\b(?:body|payload|message|submission|data|text|state|values?|response|args|kwargs|"
    r"headers|params|event)\s*[:=]",
    re.I,
)


def _entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _looks_random(word: str) -> bool:
    """A long run that mixes letters and digits with high entropy: an API key or secret.
    UUIDs stay readable: here they are account/store identifiers, not secrets."""
    if _UUID.fullmatch(word):
        return False
    has_digit = any(c.isdigit() for c in word)
    has_alpha = any(c.isalpha() for c in word)
    return has_digit and has_alpha and _entropy(word) >= 3.0


def redact(text: str) -> str:
    """Mask every token-shaped substring of `text` (the second net)."""
    if not text:
        return text
    if _ANY_PATTERN.search(text):
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
    return _CANDIDATE.sub(lambda m: REDACTED if _looks_random(m.group(0)) else m.group(0), text)


# -- structure ------------------------------------------------------------------------------

# Keys whose string values say what a payload is, never what a person typed.
STRUCTURAL_KEYS = frozenset({
    "type", "subtype", "callback_id", "action_id", "block_id", "command", "id", "view_id",
    "root_view_id", "previous_view_id", "external_id", "team_id", "user_id", "enterprise_id",
    "channel_id", "api_app_id", "app_id", "bot_id", "event_id", "envelope_id", "tab",
    "retry_reason", "action_ts", "message_ts", "event_ts", "ts", "domain",
})
_MAX_OUTLINE_DEPTH = 12
_MAX_OUTLINE_ITEMS = 50


def outline(payload: Any, _depth: int = 0, _key: str = "") -> Any:
    """A payload's shape without its values: what may be logged about a Slack payload.

    A view's `state` keeps its block and action ids and each input's type, nothing it holds;
    secret-named fields (tokens, private_metadata, response_url, trigger_id...) go; strings are
    kept only under STRUCTURAL_KEYS (ids, types), and still pass the pattern net."""
    if _depth > _MAX_OUTLINE_DEPTH:
        return "[…]"
    if isinstance(payload, Mapping):
        out: dict[str, Any] = {}
        for raw_key, value in list(payload.items())[:_MAX_OUTLINE_ITEMS]:
            key = str(raw_key)
            if key == "state":
                out[key] = _state_outline(value)
            elif key not in STRUCTURAL_KEYS and _SECRET_KEY.search(key):
                out[key] = REDACTED
            else:
                out[key] = outline(value, _depth + 1, key)
        if len(payload) > _MAX_OUTLINE_ITEMS:
            out["…"] = f"{len(payload) - _MAX_OUTLINE_ITEMS} more"
        return out
    if isinstance(payload, list | tuple):
        items = [outline(v, _depth + 1, _key) for v in payload[:_MAX_OUTLINE_ITEMS]]
        if len(payload) > _MAX_OUTLINE_ITEMS:
            items.append(f"… {len(payload) - _MAX_OUTLINE_ITEMS} more")
        return items
    if isinstance(payload, str):
        if _key in STRUCTURAL_KEYS and len(payload) <= MAX_SAFE_VALUE:
            return redact(payload)
        return REDACTED if payload else ""
    if isinstance(payload, bool | int | float) or payload is None:
        return payload
    return f"<{type(payload).__name__}>"


def _state_outline(state: Any) -> Any:
    """{"values": {block_id: {action_id: {"type": ...}}}}: the ids and input types only."""
    values = state.get("values") if isinstance(state, Mapping) else None
    if not isinstance(values, Mapping):
        return REDACTED
    out: dict[str, Any] = {}
    for block_id, actions in list(values.items())[:_MAX_OUTLINE_ITEMS]:
        if not isinstance(actions, Mapping):
            out[str(block_id)] = REDACTED
            continue
        out[str(block_id)] = {
            str(action_id): {"type": entry.get("type") if isinstance(entry, Mapping)
                             and isinstance(entry.get("type"), str) else None}
            for action_id, entry in list(actions.items())[:_MAX_OUTLINE_ITEMS]
        }
    return {"values": out}


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
    edge's line per request, a third of a slash command's cost): built directly and marked
    clean once checked, so the handlers' cleaning passes skip it. Else logger.info."""
    if not logger.isEnabledFor(logging.INFO):
        return
    if not all(_plain_extra(key, value) for key, value in extra.items()):
        return logger.info(message, extra=dict(extra))
    record = logging.LogRecord(logger.name, logging.INFO, "", 0, message, None, None)
    record.__dict__.update(extra, _getkey_extras_clean=True, _getkey_plain=extra)
    _scrub(record)  # a constant seen before: a set lookup
    logger.handle(record)


def _plain_extra(key: str, value: Any) -> bool:
    return value is None or value.__class__ in (int, float, bool) or (
        value.__class__ is str and key in SAFE_EXTRAS and len(value) <= MAX_SAFE_VALUE)


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
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.msg,
        }
        plain = record.__dict__.get("_getkey_plain")  # log_plain's: no scan of the record
        out.update(plain if plain is not None else {
            key: value for key, value in record.__dict__.items()
            if key not in _STANDARD and not key.startswith("_")})
        if record.exc_text:
            out["exc"] = record.exc_text
        return _JSON.encode(out)


_JSON = json.JSONEncoder(default=str, ensure_ascii=False)  # one encoder, not one per line


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
