"""Small, composable format checks for pasted values.

Each returns the cleaned text or raises FieldError with the fix. Messages never quote the
value: it may be a secret.
"""

from __future__ import annotations

import re
import uuid

from flows.base import FieldError

_QUOTES = "\"'`“”‘’"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_INVISIBLE = "\u200b\u200c\u200d\ufeff\u00a0"


def unwrap(text: str) -> str:
    """Undo the wrapping a paste typically carries: surrounding quotes, backticks,
    invisible characters picked up from chat or a PDF."""
    text = text.strip()
    for ch in _INVISIBLE:
        text = text.replace(ch, "" if ch != "\u00a0" else " ")
    text = text.strip()
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def token(text: str, label: str) -> str:
    """A single opaque token: unwrap, drop a pasted 'Bearer ' prefix, refuse whitespace."""
    text = unwrap(text)
    if text.lower().startswith("bearer "):
        text = text[7:].strip()
    if any(ch.isspace() for ch in text):
        raise FieldError(
            f"{label} contains spaces or line breaks; paste it again as one unbroken line."
        )
    if not text:
        raise FieldError(f"{label} is empty after removing quotes and spaces.")
    if not text.isascii() or not text.isprintable():
        raise FieldError(f"{label} contains characters that never appear in a real one.")
    return text


def looks_like_url(text: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I)) or text.lower().startswith("www.")


def matching(text: str, pattern: str, message: str) -> str:
    if not re.fullmatch(pattern, text):
        raise FieldError(message)
    return text


def uuid_value(text: str, label: str) -> str:
    text = unwrap(text)
    m = _UUID.search(text)
    if m and looks_like_url(text):
        # A dashboard URL pasted where the ID was asked: the UUID inside it is what we want.
        return str(uuid.UUID(m.group(0)))
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise FieldError(
            f"{label} should look like 1a2b3c4d-1234-5678-9abc-1234567890ab "
            "(8-4-4-4-12 hexadecimal characters)."
        ) from None
