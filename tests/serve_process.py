"""Waiting for a `getkey serve` child process to answer, shared by the tests that start one."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import httpx

# Start-up imports everything: with four test workers on two cores that alone can take tens of
# seconds, so the deadline only catches a process that never comes up (an exit fails at once).
START_WAIT = 90.0


def wait_healthy(url: str, proc: subprocess.Popen[str], why: Callable[[], str],
                 timeout: float = START_WAIT) -> None:
    """Returns once `url`/healthz answers 200; fails with `why()` if the process exits first."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, why()
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "getkey serve did not become healthy"
        time.sleep(0.1)
