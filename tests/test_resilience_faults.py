"""Issue 9, faults: a silent or read-only database, the wrong encryption key, a process killed
mid-verification or between storing and its DM, a button pressed while the database fails.

Each test drives the real app: `getkey serve` as a subprocess (start-up, kill -9 and restart)
or the app on uvicorn in this process (tests.bot_fixtures.start_bot). Every one of them also
searches what it captured (the process's log, every call to the Slack stand-in, the database
files) for the raw secret."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from bot.slack.ui import ids
from bot.slack.ui.reminders import reminder_message
from bot.store import Keyring, Store, make_engine
from bot.store.crypto import generate_key
from bot.store.db import upgrade
from bot.store.models import PendingSubmission
from flows import catalog
from flows.base import VerifyResult
from tests.platforms import wix as wix_platform
from tests.platforms.wix import WixServer
from tests.resilience_support import (
    WAIT,
    Capture,
    HoldingStandIn,
    ServeProcess,
    assert_secret_nowhere,
    capturing,
    database_bytes,
    fields,
    free_port,
    open_form,
    serve_command,
    serve_env,
    silent_port,
)
from tests.slack_standin import TEAM_ID, SlackSender, SlackStandIn, check_view
from tests.slack_standin import visible_text as visible

BOT_TOKEN = "xoxb-4444-5555-faultstesttoken"
SIGNING_SECRET = "faultssigningsecret0123456789ab"
SECRET = wix_platform.KEY
OWNER = "U0KEYOWNR"


@pytest.fixture
def logs() -> Iterator[Capture]:
    with capturing() as capture:
        yield capture


def stored_key(db_url: str, keys: str, user_id: str = OWNER) -> Any:
    """A database that already holds `user_id`'s verified Wix key (told to them already),
    written by an earlier run of getkey with `keys`."""
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        store = Store(engine, Keyring.from_env(keys))
        store.ensure_canary()
        info = store.save(
            team_id=TEAM_ID, user_id=user_id, flow=catalog.get("wix"),
            values=wix_platform.good_values(), result=VerifyResult(ok=True, store_name="Shop"),
        ).credential  # fmt: skip
        for item in store.outbox_pending(info.id):
            store.outbox_sent(item.id)
        return info
    finally:
        engine.dispose()


def in_process_token() -> str:
    from tests.bot_fixtures import BOT_TOKEN as FIXTURE_TOKEN  # late: rewritten as a plugin

    return FIXTURE_TOKEN


def in_process_bot(tmp_path: Path, standin: SlackStandIn, wix: WixServer, **env: str) -> Any:
    from tests.bot_fixtures import start_bot  # late: pytest rewrites it as a plugin

    return start_bot(tmp_path, standin, [wix], extra_env=env)


# -- (a) a silent database ---------------------------------------------------------------------
def test_a_silent_database_stops_serve_with_one_line(tmp_path: Path) -> None:
    """A database server that accepts the connection and never answers: `getkey serve` gives
    up after its connect timeout and exits with one line naming DATABASE_URL.
    The old code had no connect timeout: `getkey serve` hung at start with no output at all
    (here: the 60 s guard below would expire)."""
    with silent_port() as port:
        url = f"postgresql+psycopg://getkey:pw-silent-9@127.0.0.1:{port}/getkey"
        env = serve_env(
            tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
            GETKEY_ENCRYPTION_KEYS=generate_key(), DATABASE_URL=url, PORT=str(free_port()),
        )  # fmt: skip
        try:
            proc = subprocess.run(serve_command(), cwd=tmp_path, env=env, capture_output=True,
                                  text=True, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("getkey serve hung on a database that does not answer")
    assert proc.returncode != 0 and proc.stdout == ""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("getkey: DATABASE_URL") and "Traceback" not in proc.stderr
    assert "pw-silent-9" not in proc.stderr and BOT_TOKEN not in proc.stderr


# -- (b, f) a read-only database -----------------------------------------------------------------
def test_a_read_only_database_is_unhealthy_and_every_press_is_answered(
    tmp_path: Path, logs: Capture
) -> None:
    """getkey runs on a database it can read but not write (SQLite opened read-only: the
    tests run as root, for whom file permissions do not stop a write; a full disk or a
    read-only mount look the same to getkey). /healthz says 503 and why; a reminder button
    pressed tells the presser it failed and changed nothing; a submitted key is not checked
    and the person is told so.
    The old code: /healthz said 200 while nothing saved, the button failed with nothing told
    to the person, and the submission left the modal on "Checking…" with an error only in the
    log."""
    keys = generate_key()
    db = tmp_path / "getkey.db"
    info = stored_key(f"sqlite:///{db}", keys)
    read_only = f"sqlite:///file:{db}?mode=ro&uri=true"
    with SlackStandIn(bot_token=in_process_token()) as standin, WixServer() as wix:
        bot, stop = in_process_bot(tmp_path, standin, wix, GETKEY_ENCRYPTION_KEYS=keys,
                                   DATABASE_URL=read_only)
        try:
            health = httpx.get(bot.url + "/healthz", timeout=5)
            assert health.status_code == 503
            report = health.json()
            assert report["ok"] is False and report["writable"] is False
            assert "refuses writes" in report["problem"]

            owner = bot.person(OWNER)
            blocks = reminder_message(info, "rotation-due", bot.runtime.clock())["blocks"]
            sent = owner.click(blocks, ids.REMINDER_SNOOZE_DAY)
            assert sent.status == 200
            told = standin.reply_to(sent)
            assert "could not do that just now" in told.args["text"]
            assert "Nothing was changed" in told.args["text"]
            assert bot.runtime.store.get(info.id).snoozed_until is None

            view_id = open_form(owner, "wix")
            ack = owner.submit(view_id, fields(wix_platform.good_values())).json()
            assert ack["response_action"] == "update"
            (outcome,) = standin.wait_for("views.update", where=lambda c: c.args["view_id"]
                                          == view_id)  # fmt: skip
            shown = visible(check_view(outcome.args["view"]))
            assert "nothing was stored" in shown and "submit the key again" in shown
            assert wix.requests == []  # the platform was never asked
        finally:
            stop()
    assert "reminder button failed" in logs.text and "submission failed" in logs.text
    assert_secret_nowhere(SECRET, logs=logs.text, standin=standin, db_path=db)


# -- (c) the wrong encryption key ------------------------------------------------------------------
def test_the_wrong_encryption_key_is_unhealthy_without_naming_a_secret(
    tmp_path: Path, logs: Capture
) -> None:
    """getkey restarted with a GETKEY_ENCRYPTION_KEYS that cannot decrypt what is stored:
    /healthz says 503 and names the key id that is missing, never a key or a stored secret.
    The old code ran "healthy", listed keys and sent reminders, and the daily re-check failed
    silently: nobody learnt that no stored secret could be read."""
    right, wrong = generate_key(), generate_key()
    db = tmp_path / "getkey.db"
    stored_key(f"sqlite:///{db}", right)
    with SlackStandIn(bot_token=in_process_token()) as standin, WixServer() as wix:
        bot, stop = in_process_bot(tmp_path, standin, wix, GETKEY_ENCRYPTION_KEYS=wrong,
                                   DATABASE_URL=f"sqlite:///{db}")
        try:
            health = httpx.get(bot.url + "/healthz", timeout=5)
        finally:
            stop()
    assert health.status_code == 503
    report = health.json()
    assert report["ok"] is False and report["keyring"] is False
    assert report["database"] is True and report["writable"] is True
    missing = Keyring.from_env(right).current_kid
    assert f"encrypted with key {missing}" in report["problem"]
    assert "GETKEY_ENCRYPTION_KEYS" in report["problem"]
    for secret in (right, wrong, SECRET, *right.split(":"), *wrong.split(":")):
        if len(secret) >= 16:
            assert secret not in health.text
    assert_secret_nowhere(SECRET, logs=logs.text, standin=standin, db_path=db)
    assert right not in logs.text and wrong not in logs.text


# -- (d, e) killed ---------------------------------------------------------------------------
def bot_env(tmp_path: Path, standin: SlackStandIn, wix: WixServer, **extra: str) -> dict[str, str]:
    return serve_env(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=standin.api_url,
        GETKEY_ENCRYPTION_KEYS=extra.pop("GETKEY_ENCRYPTION_KEYS"),
        GETKEY_WIX_API_URL=wix.url,
        DATABASE_URL=f"sqlite:///{tmp_path}/getkey.db",
        PORT=str(free_port()),
        **extra,
    )


def pending_rows(db: Path) -> int:
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(PendingSubmission)).scalar()
    finally:
        engine.dispose()


def kill_while_verifying(
    first: ServeProcess, standin: SlackStandIn, wix: WixServer
) -> tuple[str, dict[str, Any]]:
    """A good Wix key submitted through `first` (whose Wix hangs); once the verification has
    reached Wix, kill -9. The form's view id and the submission's ack."""
    first.wait_healthy()
    slack = SlackSender(first.url, SIGNING_SECRET, standin, user_id=OWNER)
    view_id = open_form(slack, "wix")
    ack = slack.submit(view_id, fields(wix_platform.good_values())).json()
    deadline = time.monotonic() + WAIT
    while not wix.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert wix.requests, "the verification never reached Wix"
    first.kill()
    return view_id, ack


def test_killed_during_a_verification_the_person_is_told_to_try_again(tmp_path: Path) -> None:
    """kill -9 of `getkey serve` while it waits for Wix: after a restart the person's modal,
    still on "Checking…", is replaced by "please try again" (nothing was stored), once; the
    unverified secret is nowhere on disk.
    The old code kept no record of a verification in progress: the modal said "Checking…"
    forever."""
    keys = generate_key()
    with SlackStandIn(bot_token=BOT_TOKEN) as standin, WixServer() as wix:
        wix.fault, wix.slow_seconds = "timeout", WAIT
        first = ServeProcess(tmp_path, bot_env(tmp_path, standin, wix,
                                               GETKEY_ENCRYPTION_KEYS=keys), "first")
        second = None
        try:
            view_id, ack = kill_while_verifying(first, standin, wix)
            assert "Checking the key with Wix" in visible(ack["view"])
            assert pending_rows(tmp_path / "getkey.db") == 1
            wix.fault = None

            # Restarted; "interrupted" means older than 1 s here (2 minutes by default).
            second = ServeProcess(tmp_path, bot_env(
                tmp_path, standin, wix, GETKEY_ENCRYPTION_KEYS=keys,
                GETKEY_INTERRUPTED_AFTER_SECONDS="1",
            ), "second")  # fmt: skip
            second.wait_healthy()
            standin.wait_for(
                "views.update", where=lambda c: c.args["view_id"] == view_id, timeout=WAIT
            )
            shown = visible(check_view(standin.views[view_id]))
            assert "Please try again" in shown and "nothing was stored" in shown
            assert "submit the key once more" in shown
            time.sleep(1.0)
            assert len([c for c in standin.calls_to("views.update")
                        if c.args["view_id"] == view_id]) == 1  # fmt: skip
            assert pending_rows(tmp_path / "getkey.db") == 0
        finally:
            first.stop()
            if second is not None:
                second.stop()
        log_text = first.log() + (second.log() if second else "")
    assert '"msg": "interrupted verifications reported"' in log_text
    assert standin.calls_to("chat.postMessage") == []
    assert_secret_nowhere(SECRET, logs=log_text, standin=standin, db_path=tmp_path / "getkey.db")


def test_killed_after_storing_the_dm_is_sent_after_restart(tmp_path: Path) -> None:
    """kill -9 of `getkey serve` after it stored a verified key but before its confirmation DM
    went out (here: stuck showing the result in the modal): the next process sends that DM,
    once, from the outbox written with the key.
    The old code sent the DM straight after storing, from memory only: killed in between, the
    DM was lost for good."""
    keys = generate_key()
    db = tmp_path / "getkey.db"
    with HoldingStandIn(bot_token=BOT_TOKEN) as standin, WixServer() as wix:
        standin.hold = {"views.update"}
        first: ServeProcess | None = None
        second: ServeProcess | None = None
        person = OWNER
        try:
            for attempt in range(3):
                person = f"U{attempt}DMOWNER"
                first = ServeProcess(tmp_path, bot_env(tmp_path, standin, wix,
                                                       GETKEY_ENCRYPTION_KEYS=keys),
                                     f"first{attempt}")
                first.wait_healthy()
                slack = SlackSender(first.url, SIGNING_SECRET, standin, user_id=person)
                view_id = open_form(slack, "wix")
                slack.submit(view_id, fields(wix_platform.good_values()))
                standin.wait_held("views.update")
                first.kill()
                if not standin.calls_to("chat.postMessage"):
                    break
                # The periodic outbox pass sent the DM in the instant before the kill; the
                # moment this test is about did not happen: go again.
                standin.held.clear()
            assert not standin.calls_to("chat.postMessage")
            standin.hold.clear()  # the held call stays stuck; the next process is not held
            store = Store(make_engine(f"sqlite:///{db}"), Keyring.from_env(keys))
            (stored,) = store.list_for_user(TEAM_ID, person)
            assert stored.platform == "wix" and stored.status == "verified"

            second = ServeProcess(tmp_path, bot_env(tmp_path, standin, wix,
                                                    GETKEY_ENCRYPTION_KEYS=keys), "second")
            second.wait_healthy()
            dm_channel = "D" + person[1:]
            (dm,) = standin.wait_for("chat.postMessage", timeout=WAIT,
                                     where=lambda c: c.args["channel"] == dm_channel)
            text = visible(dm.args) + dm.args.get("text", "")
            assert "Wix" in text and SECRET[-4:] in text
            time.sleep(1.0)
            assert len(standin.calls_to("chat.postMessage")) == 1
            assert store.outbox_pending(stored.id) == []
            store.engine.dispose()
        finally:
            standin.release()
            for process in (first, second):
                if process is not None:
                    process.stop()
        log_text = "".join(p.read_text() for p in tmp_path.glob("*.log"))
        assert_secret_nowhere(SECRET, logs=log_text, standin=standin, db_path=db)
    assert json.dumps(dm.args).find(SECRET) == -1
    assert SECRET.encode() not in database_bytes(db)
