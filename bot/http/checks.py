"""The checks a Slack request passes on the edge before Bolt sees it: the signature (against
the raw bytes, within Slack's replay window) and the nesting depth of the parsed body."""

from __future__ import annotations

import hmac
import time
from hashlib import sha256
from typing import Any

from slack_sdk.signature import SignatureVerifier

SIGNATURE_WINDOW = 300  # seconds, Slack's documented replay window


def signed(verifier: SignatureVerifier, raw: bytes, text: str | None,
            timestamp: str, signature: str) -> bool:
    """Slack's v0 signature of `raw`, within the replay window. `text` is `raw` decoded, or
    None when it is not UTF-8 (checked by hand then, so a signed one gets a 400, not a 401)."""
    if abs(time.time() - int(timestamp)) > SIGNATURE_WINDOW:
        return False
    if text is not None:
        return verifier.is_valid(text, timestamp, signature)
    # Not UTF-8: slack_sdk would fail decoding it, but a signed one deserves a 400, not a 401.
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(verifier.signing_secret.encode(), base, sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def too_deep(value: Any, limit: int) -> bool:
    """More than `limit` levels of nested objects and arrays (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))
    return False
