"""The operator commands, run as an operator would: the installed `getkey` script with
settings in the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.cli import main
from bot.store import Keyring, Store, make_engine, upgrade
from tests.storage_fixtures import KEY_A, KEY_B, TWO, Backend, ok, two_values

pytest_plugins = ["tests.storage_fixtures"]

GETKEY = Path(sys.executable).with_name("getkey")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _outside_the_checkout(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command reads .env from its working directory: run these (in this process and in
    subprocesses, which inherit it) from an empty one, so a developer's .env in the checkout
    never changes what they see."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


def getkey(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real console script in a fresh process (slow-ish: used for the main paths)."""
    unset = ("DATABASE_URL", "GETKEY_ENCRYPTION_KEYS")
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    # The code under test stays importable from the empty working directory.
    clean["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [clean.get("PYTHONPATH")])])
    return subprocess.run(
        [str(GETKEY), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, **env: str
) -> tuple[int, str, str]:
    """The same entry point in this process, for the many error paths."""
    for name in ("DATABASE_URL", "GETKEY_ENCRYPTION_KEYS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_keys_generate_prints_a_usable_key() -> None:
    done = getkey("keys", "generate")
    assert done.returncode == 0
    key = done.stdout.strip()
    assert len(done.stdout.splitlines()) == 1  # the key alone: KEY=$(getkey keys generate)
    Keyring.from_env(key)
    assert "GETKEY_ENCRYPTION_KEYS" in done.stderr and "getkey keys rotate" in done.stderr


def test_db_upgrade_creates_the_schema_in_getkey_db_by_default(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(GETKEY), "db", "upgrade"],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    newest = max(p.name[:4] for p in (ROOT / "bot/store/migrations/versions").glob("0*.py"))
    assert f"revision {newest}" in done.stdout and "getkey.db" in done.stdout
    url = f"sqlite:///{tmp_path / 'getkey.db'}"
    upgrade(url)  # a second upgrade is a no-op
    store = Store(make_engine(url), Keyring.from_env(KEY_A))
    assert store.list_all() == [] and store.healthy()


def test_commands_explain_missing_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    no_key = getkey("reveal", "--list", DATABASE_URL=url)
    assert no_key.returncode == 2
    assert no_key.stderr.startswith("getkey: GETKEY_ENCRYPTION_KEYS is not set")
    assert "getkey keys generate" in no_key.stderr and "Traceback" not in no_key.stderr

    code, _, err = in_process(
        monkeypatch, capsys, "keys", "rotate", DATABASE_URL=url, GETKEY_ENCRYPTION_KEYS="abc"
    )
    assert code == 2 and "Key #1" in err and "abc" not in err
    code, _, err = in_process(
        monkeypatch, capsys, "reveal", "--list", DATABASE_URL=url, GETKEY_ENCRYPTION_KEYS=KEY_A
    )
    assert code == 2 and "run `getkey db upgrade` first" in err
    code, _, err = in_process(
        monkeypatch, capsys, "reveal", DATABASE_URL=url, GETKEY_ENCRYPTION_KEYS=KEY_A
    )
    assert code == 2 and "--list" in err
    code, _, err = in_process(
        monkeypatch,
        capsys,
        "db",
        "upgrade",
        DATABASE_URL="postgresql+psycopg://nobody:pw@127.0.0.1:1/none",
    )
    assert code == 2 and err.startswith("getkey: Cannot open the database")
    assert ":pw@" not in err


def test_reveal_lists_masked_and_reveals_one_with_audit(
    backend: Backend,
    engine: Engine,
    keyring: Keyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = Store(engine, keyring)
    info = store.save(
        team_id="T1", user_id="U1", flow=TWO, values=two_values(5), result=ok()
    ).credential
    env = {"DATABASE_URL": backend.url, "GETKEY_ENCRYPTION_KEYS": KEY_A}

    listed = getkey("reveal", "--list", **env)
    assert listed.returncode == 0, listed.stderr
    assert info.id in listed.stdout and info.masked in listed.stdout
    assert "SECRET" not in listed.stdout
    shown = getkey("reveal", info.id, "--operator", "ana", "--json", **env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == two_values(5)

    code, out, _ = in_process(
        monkeypatch, capsys, "reveal", "--list", "--json", "--team", "T1", **env
    )
    assert code == 0 and [row["id"] for row in json.loads(out)] == [info.id]
    code, out, _ = in_process(monkeypatch, capsys, "reveal", "--list", "--team", "T9", **env)
    assert out.strip() == "No credentials stored."
    code, out, _ = in_process(monkeypatch, capsys, "reveal", info.id, "--operator", "bo", **env)
    assert f"access_token: {two_values(5)['access_token']}" in out
    reveals = [e for e in store.audit_events(info.id) if e.action == "revealed"]
    assert [e.actor for e in reveals] == ["operator:ana", "operator:bo"]

    code, _, err = in_process(monkeypatch, capsys, "reveal", "0" * 32, "--operator", "x", **env)
    assert code == 2 and "No credential with id" in err


def test_keys_rotate_then_old_key_can_go(
    backend: Backend,
    engine: Engine,
    keyring: Keyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = Store(engine, keyring)
    ids = [
        store.save(
            team_id="T1", user_id="U1", flow=TWO, values=two_values(n, store=f"s{n}"), result=ok()
        ).credential.id
        for n in range(3)
    ]
    env = {"DATABASE_URL": backend.url}
    rotated = getkey("keys", "rotate", GETKEY_ENCRYPTION_KEYS=f"{KEY_B},{KEY_A}", **env)
    assert rotated.returncode == 0, rotated.stderr
    assert "Re-encrypted 6 secret value(s)" in rotated.stdout
    assert "0 already used it; 6 in all" in rotated.stdout
    code, out, _ = in_process(
        monkeypatch, capsys, "keys", "rotate", GETKEY_ENCRYPTION_KEYS=f"{KEY_B},{KEY_A}", **env
    )
    assert code == 0 and "Re-encrypted 0 secret value(s)" in out

    new_only = Store(engine, Keyring.from_env(KEY_B))
    for n, cid in enumerate(ids):
        assert new_only.secret_values(cid)["access_token"] == two_values(n)["access_token"]
    # With only the old key, the command explains instead of crashing.
    code, _, err = in_process(
        monkeypatch, capsys, "keys", "rotate", GETKEY_ENCRYPTION_KEYS=KEY_A, **env
    )
    assert code == 2 and "cannot be decrypted" in err and "run `getkey keys rotate` again" in err
