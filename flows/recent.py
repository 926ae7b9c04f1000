"""Identical submissions within a few seconds are verified once.

A double click, a retried Slack request or two tabs send the same values again at once; on a
platform that blocks callers who repeat a bad token (Ecwid), each copy would count against this
host. The first submission runs; an identical one that arrives while it runs waits for its
answer, and one that arrives within `ttl` seconds after gets that same answer.

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

from flows.outcomes import VerifyResult

RECENT_SECONDS = 10.0
MAX_ENTRIES = 4096


class _Entry:
    __slots__ = ("done", "result", "until")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: VerifyResult | None = None
        self.until = 0.0


class RecentResults:
    def __init__(
        self, ttl: float = RECENT_SECONDS, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._key = os.urandom(32)
        self._lock = threading.Lock()
        self._entries: dict[bytes, _Entry] = {}

    def key(self, platform: str, values: Mapping[str, str]) -> bytes:
        text = json.dumps([platform, sorted(values.items())], separators=(",", ":"))
        return hmac.new(self._key, text.encode(), hashlib.sha256).digest()

    def run(
        self, platform: str, values: Mapping[str, str], verify: Callable[[], VerifyResult]
    ) -> VerifyResult:
        """`verify()` once for identical values within `ttl` seconds."""
        key = self.key(platform, values)
        with self._lock:
            self._drop_old(self.clock())
            entry = self._entries.get(key)
            mine = entry is None
            if mine:
                entry = self._entries[key] = _Entry()
        assert entry is not None
        if not mine:
            entry.done.wait()
            if entry.result is not None:
                return entry.result
            return verify()  # the first one crashed: nothing to share
        try:
            entry.result = verify()
            return entry.result
        finally:
            with self._lock:
                entry.until = self.clock() + self.ttl
                if entry.result is None:
                    self._entries.pop(key, None)
            entry.done.set()

    def _drop_old(self, now: float) -> None:
        stale = [k for k, e in self._entries.items() if e.done.is_set() and e.until <= now]
        for k in stale:
            del self._entries[k]
        if len(self._entries) > MAX_ENTRIES:  # a flood of distinct values: keep memory bounded
            for k in [k for k, e in self._entries.items() if e.done.is_set()]:
                del self._entries[k]
