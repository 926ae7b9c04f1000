"""Idle memory (issue 21): `getkey serve --http` without OAuth settings, answering slash commands,
never imports what only other set-ups or other routes need: Alembic (migrations run in a child
process), the OAuth install flow and token rotation, the page templates (Jinja2), which
arrive with the first page served, httpx (with the first verification or webhook delivery) and,
serving SQLite, SQLAlchemy's PostgreSQL dialect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.store import make_engine
from bot.store.crypto import generate_key
from bot.store.db import (
    current_revision,
    current_revision_plain,
    head_revision,
    head_revision_plain,
    migrate,
)
from tests.serve_process import wait_healthy
from tests.slack_standin import SlackSender, SlackStandIn
from tests.test_slack_server import BOT_TOKEN, SIGNING_SECRET, base_env, free_port

# `getkey serve --http` through bot.cli.main, plus a thread that writes the names of the loaded
# modules each time the test asks (by creating the file named in argv[2]).
SERVE_AND_REPORT = """
import json, os, sys, threading, time
ask, answer = sys.argv[1], sys.argv[2]
def report():
    while True:
        if os.path.exists(ask):
            os.remove(ask)
            with open(answer + ".tmp", "w") as f:
                json.dump(sorted(sys.modules), f)
            os.replace(answer + ".tmp", answer)
        time.sleep(0.05)
threading.Thread(target=report, daemon=True).start()
from bot.cli.main import main
sys.exit(main(["serve", "--http"]))
"""

ONLY_WHEN_USED = ("alembic", "bot.store.migrations", "bot.slack.oauth", "jinja2", "httpx",
                  "sqlalchemy.dialects.postgresql")


def loaded(ask: Path, answer: Path) -> set[str]:
    answer.unlink(missing_ok=True)
    ask.touch()
    deadline = time.monotonic() + 10
    while not answer.exists():
        assert time.monotonic() < deadline, "the serving process did not report its modules"
        time.sleep(0.05)
    return set(json.loads(answer.read_text()))


def among(modules: set[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_idle_serve_loads_no_migrations_oauth_or_templates_until_used(tmp_path):
    port = free_port()
    ask, answer = tmp_path / "ask", tmp_path / "modules.json"
    with SlackStandIn(bot_token=BOT_TOKEN) as standin:
        env = base_env(tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                       SLACK_API_URL=standin.api_url, GETKEY_ENCRYPTION_KEYS=generate_key(),
                       PORT=str(port))
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVE_AND_REPORT, str(ask), str(answer)], cwd=tmp_path,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc, lambda: proc.communicate()[1])
            slack = SlackSender(url, SIGNING_SECRET, standin)
            for text in ("help", "wix", "list"):
                assert slack.command(text).status == 200
            assert httpx.get(url + "/readyz", timeout=10).json()["ok"] is True
            idle = loaded(ask, answer)
            # A fresh database was migrated (by the child process) before serving.
            assert (tmp_path / "getkey.db").exists()
            assert among(idle, "bot.slack.app") and among(idle, "sqlalchemy")
            assert [name for name in ONLY_WHEN_USED if among(idle, name)] == []

            # The first page served brings the templates in, and the page still renders.
            page = httpx.get(url + "/k/not-a-real-link-token", timeout=10)
            assert page.status_code in (404, 410) and "<html" in page.text.lower()
            assert among(loaded(ask, answer), "jinja2")
        finally:
            proc.terminate()
            proc.communicate(timeout=15)


def test_the_schema_revision_read_without_alembic_is_alembics(tmp_path):
    """/readyz compares the database's revision with the newest migration without loading
    Alembic; both answers must be Alembic's own."""
    assert head_revision_plain() == head_revision() is not None
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    try:
        assert current_revision_plain(engine) is None is current_revision(engine)
        migrate(engine)
        assert current_revision_plain(engine) == current_revision(engine) == head_revision()
    finally:
        engine.dispose()


class _FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1


def test_serve_keeps_to_two_malloc_arenas_unless_the_operator_says_otherwise(monkeypatch):
    """bot.cli.heap.limit_arenas (called by serve before any thread starts) asks glibc for at
    most two arenas (M_ARENA_MAX is mallopt's -8); an operator's MALLOC_ARENA_MAX wins."""
    import bot.workers
    from bot.cli import heap

    libc = _FakeLibc()
    monkeypatch.setattr(bot.workers, "_libc", lambda: libc)
    heap.limit_arenas(operator_set=False)
    assert libc.calls == [(-8, 2)]
    heap.limit_arenas(operator_set=True)
    assert libc.calls == [(-8, 2)]


def test_serve_knows_whether_the_operator_set_malloc_arena_max():
    code = "from bot.settings import MALLOC_ARENA_MAX_SET as s; print(s)"
    for value, expected in (("", "False"), ("4", "True")):
        env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
        if value:
            env["MALLOC_ARENA_MAX"] = value
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True, cwd=Path(__file__).resolve().parents[1])
        assert done.stdout.strip() == expected
