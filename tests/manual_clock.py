"""A clock tests move by hand: `sleep` advances it instead of waiting, so a budget of calls per
minute (flows.budget) can be played for hours in milliseconds. Thread-safe."""

from __future__ import annotations

import threading


class ManualClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self._t = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._t += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.sleep(seconds)
