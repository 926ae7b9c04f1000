"""Each benchmark under bench/ still runs (issue 21): tiny sizes and durations, seconds each, no
thresholds. A benchmark that no longer starts, or prints no numbers, fails here instead of
rotting until someone needs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SMOKE = {
    "slash": ["--runs", "1", "--duration", "0.5", "--levels", "4", "--tool", "python"],
    "submissions": ["--sizes", "4", "--runs", "1", "--delay", "0.05", "--wait", "60"],
    "sweep_e2e": ["--sizes", "30", "--cap", "90", "--bare-messages", "30"],
    "memory": ["--runs", "1", "--requests", "300", "--burst", "4", "--delay", "0.05",
               "--settle", "1"],
    "verify_latency": ["--runs", "5", "--warmup", "1"],
}
# What each one prints next to its numbers: the line that shows it measured something.
PRINTS = {
    "slash": r"ratio at\s+4: getkey \d+ req/s",
    "submissions": r"\d",
    "sweep_e2e": r"30 due: done in\s+[\d.]+ s; sent 30",
    "memory": r"\d+(\.\d+)? MB",
    "verify_latency": r"\d+(\.\d+)? ms",
}


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_benchmark_runs_and_prints_numbers(script: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GETKEY_TEST_POSTGRES_URL", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{script}.py"), *SMOKE[script]],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert re.search(PRINTS[script], done.stdout), done.stdout[-2000:]
