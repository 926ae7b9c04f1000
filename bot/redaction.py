"""The pattern net and the structural outline behind bot.logs (pure functions on text and
payloads, no logging): `redact` masks token-shaped text, `outline` keeps a payload's shape
without what a person typed or any secret-named field."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"
MAX_SAFE_VALUE = 80  # characters of a structural value (an id, a type) kept


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
