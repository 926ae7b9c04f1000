"""A sweep split between processes (bot.cli.sweepers): how many, the fan-out and collection
of their DMs, failures reported, and workers that die with the command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import sweepers
from bot.jobs.sweep import CLAIM_BATCH, Sent
from bot.store.parts import Part

ROOT = Path(__file__).resolve().parent.parent


def test_a_backlog_is_split_only_when_it_is_worth_it() -> None:
    assert sweepers.workers_for(0, 8) == 1
    assert sweepers.workers_for(2 * CLAIM_BATCH - 1, 8) == 1
    assert sweepers.workers_for(2 * CLAIM_BATCH, 8) == 2
    assert sweepers.workers_for(5 * CLAIM_BATCH + 1, 8) == 5
    assert sweepers.workers_for(100_000, 4) == 4
    assert sweepers.workers_for(100_000, 1) == 1
    assert 1 <= sweepers.default_workers() <= sweepers.MAX_DEFAULT


def _sent_by_this_process(part: Part) -> list[Sent]:
    index, count = part
    return [Sent("wix", f"part {index} of {count}", "x", "expiry-14d", str(os.getpid()))]


def test_workers_sweep_the_other_parts_and_hand_their_dms_back() -> None:
    workers = sweepers.start(3, _sent_by_this_process)
    sent = sweepers.collect(workers)
    assert [s.store for s in sent] == ["part 1 of 3", "part 2 of 3"]
    pids = {s.owner for s in sent}
    assert len(pids) == 2 and str(os.getpid()) not in pids
    assert all(not w.process.is_alive() for w in workers)
    assert sweepers.start(1, _sent_by_this_process) == []  # one part: the caller's own


def _fails_in_part_one(part: Part) -> list[Sent]:
    if part[0] == 1:
        raise LookupError("a message that may quote the database URL")
    return _sent_by_this_process(part)


def test_a_worker_that_fails_fails_the_sweep_after_all_have_ended() -> None:
    workers = sweepers.start(3, _fails_in_part_one)
    with pytest.raises(sweepers.WorkerFailed) as failed:
        sweepers.collect(workers)
    assert str(failed.value) == "getkey-sweep-1: LookupError"  # the type, never the text
    assert all(not w.process.is_alive() for w in workers)


STARTER = """
import os, sys, time
from bot.cli import sweepers

def sweep(part):
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(120)
    return []

workers = sweepers.start(2, sweep)
time.sleep(120)
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie has stopped running: only its exit is unread


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_a_kill_9_of_the_command_takes_its_workers_with_it(tmp_path: Path) -> None:
    """Otherwise a killed `remind --once` would leave workers sending what they claimed,
    unseen, while the operator runs the next sweep."""
    pid_file = tmp_path / "worker.pid"
    command = subprocess.Popen([sys.executable, "-c", STARTER, str(pid_file)], cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        worker = int(pid_file.read_text())
        assert not _gone(worker)
        command.send_signal(signal.SIGKILL)
        command.wait(10)
        deadline = time.monotonic() + 10
        while not _gone(worker) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _gone(worker), "the worker outlived the command"
    finally:
        command.kill()
        command.wait(10)
