"""Identical submissions within a few seconds are verified once.

A double click, a retried Slack request or "Try again" with nothing changed sends the same values
again; on a platform that blocks callers who repeat a bad token (Ecwid), each copy would count
against this host. A definitive answer (the key works, or the platform refused it) is given again
to identical values for `ttl` seconds instead of asking the platform twice. An inconclusive one
(timeout, platform trouble, rate limit, an answer we could not read) is not kept: trying again is
exactly what the person should be able to do then.

Entries are keyed by an HMAC of platform + values under a key made fresh for each process, so
what is kept cannot be checked against a guessed secret; the values themselves are never kept.
A VerifyResult holds no secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Callable, Mapping

from flows.outcomes import Failure, VerifyResult

RECENT_SECONDS = 10.0
MAX_ENTRIES = 4096
INCONCLUSIVE = frozenset({Failure.UNREACHABLE, Failure.RATE_LIMITED, Failure.UNEXPECTED})


class RecentResults:
    def __init__(
        self, ttl: float = RECENT_SECONDS, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._key = os.urandom(32)
        self._lock = threading.Lock()
        self._entries: dict[bytes, tuple[float, VerifyResult]] = {}

    def key(self, platform: str, values: Mapping[str, str]) -> bytes:
        text = json.dumps([platform, sorted(values.items())], separators=(",", ":"))
        return hmac.new(self._key, text.encode(), hashlib.sha256).digest()

    def run(
        self, platform: str, values: Mapping[str, str], verify: Callable[[], VerifyResult]
    ) -> VerifyResult:
        """The answer identical values got within `ttl` seconds, else `verify()`."""
        key = self.key(platform, values)
        now = self.clock()
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None and kept[0] > now:
                return kept[1]
        result = verify()
        if result.ok or result.failure not in INCONCLUSIVE:
            with self._lock:
                self._drop_old(self.clock())
                self._entries[key] = (self.clock() + self.ttl, result)
        return result

    def _drop_old(self, now: float) -> None:
        for k in [k for k, (until, _) in self._entries.items() if until <= now]:
            del self._entries[k]
        if len(self._entries) >= MAX_ENTRIES:  # a flood of distinct values: bound memory
            self._entries.clear()
