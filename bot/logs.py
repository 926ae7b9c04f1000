"""Structured logging that cannot leak a token.

Why a record factory and not only a filter: a filter attached to a logger runs only for records
created on that very logger, not its children (`slack_sdk.web.base_client`), and a filter on our
handler does not protect other handlers (pytest's caplog, an operator's extra handler). Scrubbing
every record as it is created covers all of them; the filter on handlers and on the third-party
loggers is a second line for records built by other means (extras, pickled records).
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import threading
import traceback
from collections import Counter
from datetime import UTC, datetime
from typing import Any

REDACTED = "[redacted]"

# Loggers that see raw HTTP traffic. They never go below INFO: at DEBUG slack_sdk dumps request
# and response bodies, and Socket Mode dumps whole incoming payloads (modal values included).
THIRD_PARTY_MIN_INFO = ("slack_sdk", "slack_bolt")
THIRD_PARTY_QUIET = ("httpx", "httpcore", "urllib3", "waitress.queue", "alembic", "apscheduler")
FILTERED_LOGGERS = ("", *THIRD_PARTY_MIN_INFO, *THIRD_PARTY_QUIET, "waitress", "bot", "flows")

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
    # Authorization header values.
    (re.compile(r"\b(Bearer)\s+[A-Za-z0-9._~+/=-]+", re.I), r"\1 " + REDACTED),
    (re.compile(r"\b(Basic)\s+[A-Za-z0-9+/=]{8,}", re.I), r"\1 " + REDACTED),
    # key=value / "key": "value" for names that always hold a secret.
    (re.compile(r"""(\b(?:""" + _KEY_NAMES + r""")["']?\s*[:=]\s*["']?)[^"'\s,&;}]+""", re.I),
     r"\1" + REDACTED),
)
_CANDIDATE = re.compile(r"[A-Za-z0-9_+=-]{20,}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


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
    """Mask every token-shaped substring of `text`."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _CANDIDATE.sub(lambda m: REDACTED if _looks_random(m.group(0)) else m.group(0), text)


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not make logging itself fail
        message = str(record.msg)
    record.msg = redact(message)
    record.args = None
    if record.exc_info:
        if not record.exc_text:
            record.exc_text = redact(
                "".join(traceback.format_exception(*record.exc_info)).rstrip()
            )
        # The exception object itself still holds the raw text; handlers get the scrubbed
        # rendering only (Formatter appends exc_text when exc_info is gone).
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """Scrubs message, arguments, exception text and string extras. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub(record)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                record.__dict__[key] = redact(value)
        return True


_STANDARD = set(
    logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__
) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_"):
                continue
            out[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = redact(record.exc_text)
        return json.dumps(out, default=str, ensure_ascii=False)


_install_lock = threading.Lock()
_installed = False


def install_redaction() -> None:
    """Idempotent: scrub every record from now on and pin the noisy loggers' levels."""
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
    for name in THIRD_PARTY_MIN_INFO:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO or logger.level == logging.NOTSET:
            logger.setLevel(max(logger.level, logging.INFO))
    for name in THIRD_PARTY_QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: str = "INFO") -> None:
    """For the `serve` process: JSON lines on stderr through the redaction filter."""
    install_redaction()
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    handler.set_name("getkey-json")
    for old in list(root.handlers):
        if old.get_name() == "getkey-json":  # called twice: one line per record, not two
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    pin_levels()
