"""`getkey remind --once [--now …]` and the scheduler wiring, against the real store and the
local Slack."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.cli import main
from bot.runtime import Runtime
from bot.settings import load_settings
from bot.store import Keyring, Store
from bot.store.models import Reminder
from bot.store.seed import seed
from tests.platforms import wix
from tests.storage_fixtures import KEY_A, START, Backend, Clock
from tests.test_reminders import OWNER, TOKEN, FaultyStandIn, running_standin, save_wix

pytest_plugins = ("tests.storage_fixtures",)


@pytest.fixture
def standin() -> Iterator[FaultyStandIn]:
    yield from running_standin()


@pytest.fixture
def environment(
    backend: Backend, standin: FaultyStandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, str]:
    env = {
        "DATABASE_URL": backend.url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": standin.api_url,
        "GETKEY_ENCRYPTION_KEYS": KEY_A,
    }
    for name in ("SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "GETKEY_SWEEP_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env file
    return env


def test_remind_once_sends_what_is_due_and_prints_it(
    store: Store, environment: dict[str, str], standin: FaultyStandIn,
    capsys: pytest.CaptureFixture[str],
) -> None:
    info = save_wix(store, expires_at=START + timedelta(days=30))
    assert main(["remind", "--once", "--now", "2030-01-31T09:00:00Z"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"wix\tThe Plant Shop\t{info.masked}\texpiry-14d\t{OWNER}"]
    assert "1 reminder sent as of 2030-01-31T09:00:00+00:00" in err
    assert len(standin.dms()) == 1
    # Sent once: the same moment again sends nothing.
    assert main(["remind", "--once", "--now", "2030-01-31T09:00:00Z"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "0 reminders sent" in err
    assert wix.KEY not in out + err


def test_two_processes_sweeping_one_database_send_each_reminder_once(
    store: Store, environment: dict[str, str], standin: FaultyStandIn
) -> None:
    people = [f"U0CROWD{n:03d}" for n in range(60)]
    for person in people:
        save_wix(store, user=person, expires_at=START + timedelta(days=30))
    command = [sys.executable, "-m", "bot.cli", "remind", "--once", "--now", "2030-01-31T09:00Z"]
    env = {**os.environ, **environment, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    lines = [line for out, _ in outputs for line in out.splitlines()]
    owners = [line.split("\t")[-1] for line in lines]
    assert sorted(owners) == sorted(people)  # every reminder, none twice
    assert len(standin.dms()) == 60


def test_a_sweep_split_between_processes_sends_each_reminder_once_paced_per_person(
    engine: Engine, environment: dict[str, str], standin: FaultyStandIn
) -> None:
    """GETKEY_SWEEP_WORKERS=3 and 1,500 due for 250 people (6 each, due at different times,
    so in different claim batches): three processes share the sweep by person, so every
    reminder goes once and nobody gets two DMs within a second (two processes writing to
    one person would)."""
    people = [f"U0SPLIT{n:03d}" for n in range(250)]
    seed(engine, Keyring.from_env(KEY_A), count=1500, due=1500, now=START, users=people)
    env = {**os.environ, **environment, "GETKEY_SWEEP_WORKERS": "3",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}  # fmt: skip
    from bot.cli.sweepers import count_workers

    assert count_workers(load_settings(env, http_mode=False), START) == 3
    done = subprocess.run([sys.executable, "-m", "bot.cli", "remind", "--once", "--now",
                           START.isoformat()], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1500 reminders sent" in done.stderr
    stores = [line.split("\t")[1] for line in done.stdout.splitlines()]
    assert sorted(stores) == sorted(f"Store {n}" for n in range(1500))  # each once
    dms = standin.calls_to("chat.postMessage")
    assert len(dms) == 1500
    last: dict[str, float] = {}
    for dm in sorted(dms, key=lambda c: c.at):
        channel = dm.args["channel"]
        assert dm.at - last.get(channel, -10.0) >= 0.95, f"two DMs within a second: {channel}"
        last[channel] = dm.at
    assert len(last) == 250


def test_remind_once_with_a_naive_time_means_utc(
    store: Store, environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    save_wix(store, expires_at=START + timedelta(days=30))
    assert main(["remind", "--once", "--now", "2030-01-31T08:59:59"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["remind", "--once", "--now", "2030-01-31T10:00:00+01:00"]) == 0
    assert "expiry-14d" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["yesterday", "2030-13-01", "31/01/2030", ""])
def test_a_bad_now_is_one_clear_line(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remind", "--once", "--now", bad]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "is not an ISO-8601 time" in err and "2030-06-01" in err


def test_missing_settings_are_one_clear_line(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    assert main(["remind", "--once"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SLACK_BOT_TOKEN" in err


def test_scheduler_runs_the_sweep_with_no_job_arguments(
    store: Store, environment: dict[str, str], standin: FaultyStandIn, clock: Clock
) -> None:
    save_wix(store, expires_at=START + timedelta(days=30))
    settings = load_settings(environment, http_mode=False)
    runtime = Runtime.from_settings(settings, clock=lambda: clock.now + timedelta(days=16))

    async def run() -> None:
        await runtime.start_background()
        scheduler = runtime._scheduler
        try:
            assert scheduler.running
            jobs = {job.id: job for job in scheduler.get_jobs()}
            assert set(jobs) == {
                "getkey-sweep", "getkey-recheck", "getkey-outbox", "getkey-interrupted",
                "getkey-webhooks", "getkey-requests", "getkey-retention",
            }
            for job in jobs.values():
                # APScheduler may persist arguments: there are none, so no secret can be one.
                assert job.args == () and job.kwargs == {}
            assert jobs["getkey-sweep"].trigger.interval == timedelta(seconds=60)
            # The first sweep runs right after start and sends what is due.
            for _ in range(100):
                if standin.calls_to("chat.postMessage"):
                    break
                await asyncio.sleep(0.05)
        finally:
            await runtime.shutdown()
        assert not scheduler.running

    asyncio.run(run())
    (dm,) = standin.calls_to("chat.postMessage")
    assert "The Plant Shop" in dm.args["text"]


def unsent_reminders(engine: Engine) -> tuple[set[int], set[int]]:
    """The ids of unsent reminders: (leased to a sweep, claimed by nobody)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Reminder.id, Reminder.claimed_until)
                            .where(Reminder.sent_at.is_(None))).all()
    return ({r.id for r in rows if r.claimed_until is not None},
            {r.id for r in rows if r.claimed_until is None})


def test_a_sweep_killed_half_way_loses_nothing_and_resends_only_what_was_not_marked(
    engine: Engine, environment: dict[str, str], standin: FaultyStandIn
) -> None:
    """`kill -9` in the middle of a large sweep: after the lease, the next sweep sends every
    reminder the dead one did not, and repeats only the few it had sent without marking yet
    (sent reminders are marked in groups as they go, not once a batch of 500 is over)."""
    people = [f"U0KILL{n:04d}" for n in range(1000)]
    seed(engine, Keyring.from_env(KEY_A), count=len(people), due=len(people), now=START,
         users=people)  # fmt: skip
    env = {**os.environ, **environment, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    command = [sys.executable, "-m", "bot.cli", "remind", "--once", "--now"]
    proc = subprocess.Popen([*command, START.isoformat()], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while len(standin.dms()) < 450 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    proc.kill()
    proc.wait(10)
    before = len(standin.dms())
    assert 450 <= before < len(people), "the sweep was not caught half-way"
    leased, _ = unsent_reminders(engine)  # the dead process's leases last 5 minutes
    # What the dead process claimed stays leased to it: a sweep meanwhile sends only what it
    # never claimed, and nobody twice.
    later = subprocess.run([*command, (START + timedelta(minutes=1)).isoformat()], env=env,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert later.returncode == 0, later.stderr
    assert max(Counter(c.args["channel"] for c in standin.dms()).values()) == 1
    # It sent what nobody had claimed, and nothing still leased to the dead process.
    assert unsent_reminders(engine) == (leased, set())
    after = subprocess.run([*command, (START + timedelta(minutes=6)).isoformat()], env=env,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert after.returncode == 0, after.stderr
    got = Counter(c.args["channel"] for c in standin.dms())
    assert set(got) == {"D" + p[1:] for p in people}  # nobody lost
    repeated = sum(got.values()) - len(people)
    # At most a group waiting to be marked (100), one being marked and the sends in flight
    # (100): never the whole claimed batch of 500 the dead process was sending.
    assert repeated <= 300, repeated
