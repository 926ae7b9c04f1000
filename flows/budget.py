"""How many calls getkey may make to one platform from this host, declared by each flow as data
and enforced by the shared HTTP layer (flows.http) for verifications and re-checks alike.

Why: some platforms block the caller's address, not the key. Ecwid blocks an address for a long
time after "20 requests per minute or a total of 600 requests with non-working tokens"; one
busy re-check run would do that and stop every Ecwid verification on the host, for everyone.

Two windows are kept per platform: every call, and the calls that may turn out refused (a bad
token). A call reserves a place in both before it is sent, because nobody knows beforehand that
a token no longer works; the "refused" place is given back as soon as the answer is anything
else. So the limit holds even while many threads send at once.

Re-checks ("background") may use only part of the budget and wait their turn; the rest is kept
for people waiting on a verification. Nothing here sleeps while holding the lock, and the clock
and sleep are injectable so tests can run a day of re-checks without waiting a day.

The count lives in one process (flows.http.PlatformHttp, one per process). Several getkey
processes behind one address each keep their own, so an operator running N of them on one host
shares the platform's allowance N ways in effect; a count shared through the database would be
needed to hold the limit across processes, and is not built.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """At most `calls` requests in any `per_seconds`, and at most `refused` requests answered
    with one of `refused_statuses` in any `refused_per_seconds`. `background_share` is the part
    of each limit re-checks may use. `source` quotes the documentation the numbers rest on."""

    calls: int
    per_seconds: float = 60.0
    refused: int | None = None
    refused_per_seconds: float = 86_400.0
    refused_statuses: tuple[int, ...] = (401, 403)
    background_share: float = 2 / 3
    source: str = ""

    def limit(self, background: bool) -> int:
        return max(1, math.floor(self.calls * self.background_share)) if background else self.calls

    def refused_limit(self, background: bool) -> int | None:
        if self.refused is None:
            return None
        if not background:
            return self.refused
        return max(1, math.floor(self.refused * self.background_share))

    def spacing(self, background: bool = True) -> float:
        """Seconds between two calls that keeps a steady stream inside the budget."""
        return self.per_seconds / self.limit(background)


class OverBudget(Exception):
    """No room in the budget within the time the caller may wait."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"over budget for {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass
class Ticket:
    """One reserved call. `settle` gives the refused place back when the answer was not a
    refusal."""

    ledger: Ledger
    at: float
    refused_place: bool
    settled: bool = False

    def settle(self, status: int | None) -> None:
        if self.settled:
            return
        self.settled = True
        # No answer at all (a timeout) may still have been counted as a refusal: keep it.
        if self.refused_place and status is not None and (
            status not in self.ledger.budget.refused_statuses
        ):
            self.ledger.give_back_refused(self.at)


class Ledger:
    """The calls one platform's budget has spent, shared by every thread of the process."""

    def __init__(
        self,
        budget: Budget,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.budget = budget
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._calls: deque[float] = deque()
        self._refused: deque[float] = deque()

    def _forget(self, now: float) -> None:
        while self._calls and self._calls[0] <= now - self.budget.per_seconds:
            self._calls.popleft()
        while self._refused and self._refused[0] <= now - self.budget.refused_per_seconds:
            self._refused.popleft()

    def _wait_needed(self, now: float, background: bool) -> float:
        """0 when a call may go now, else the seconds until a place frees up."""
        wait = 0.0
        limit = self.budget.limit(background)
        if len(self._calls) >= limit:
            oldest = self._calls[len(self._calls) - limit]
            wait = max(wait, oldest + self.budget.per_seconds - now)
        refused_limit = self.budget.refused_limit(background)
        if refused_limit is not None and len(self._refused) >= refused_limit:
            oldest = self._refused[len(self._refused) - refused_limit]
            wait = max(wait, oldest + self.budget.refused_per_seconds - now)
        return wait

    def reserve(self, *, background: bool, max_wait: float) -> Ticket:
        """A place for one call, waiting up to `max_wait` seconds for it; OverBudget if none
        frees up in time (nothing is spent then)."""
        deadline = self.clock() + max_wait
        while True:
            with self._lock:
                now = self.clock()
                self._forget(now)
                wait = self._wait_needed(now, background)
                if wait <= 0:
                    self._calls.append(now)
                    counted = self.budget.refused is not None
                    if counted:
                        self._refused.append(now)
                    return Ticket(self, now, counted)
            if now + wait > deadline:
                raise OverBudget(wait)
            # A tiny floor keeps a float rounding from spinning.
            self.sleep(max(wait, 0.001))

    def give_back_refused(self, at: float) -> None:
        with self._lock:
            try:
                self._refused.remove(at)
            except ValueError:  # already aged out of the window
                pass

    def spent(self) -> tuple[int, int]:
        """(calls, possibly refused calls) inside their windows now: for tests and logs."""
        with self._lock:
            self._forget(self.clock())
            return len(self._calls), len(self._refused)
