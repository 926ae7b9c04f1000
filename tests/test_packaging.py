"""Packaging (issue 17): the runtime lock stands alone (a clean venv built from it serves, and has
no test tools), the dev lock carries the same pins, requirements.txt is the runtime lock, and the
optional speed-ups are optional."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.store.crypto import generate_key
from tests.slack_standin import SlackStandIn

REPO = Path(__file__).resolve().parent.parent
TOKEN = "xoxb-1111-2222-cleanvenvtoken"
SIGNING = "5ecre7e1gningSe1ectforcleanvenv"
METRICS = "metrics-token-clean-venv-0123456789"


def _lock_tool():
    path = REPO / "requirements" / "compile.py"
    spec = importlib.util.spec_from_file_location("lock_compile", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_requirements_txt_is_the_runtime_lock():
    lock = _lock_tool()
    runtime = (REPO / "requirements" / "runtime.txt").read_text()
    assert (REPO / "requirements.txt").read_text() == lock.buildpack_text(runtime), (
        "requirements.txt drifted from requirements/runtime.txt: run `make lock`"
    )


def test_dev_lock_has_every_runtime_pin_unchanged_and_runtime_has_no_dev_tools():
    lock = _lock_tool()
    runtime = lock.pins((REPO / "requirements" / "runtime.txt").read_text())
    dev = lock.pins((REPO / "requirements" / "dev.txt").read_text())
    for name, requirement in runtime.items():
        assert dev.get(name) == requirement, name
        assert "--hash=sha256:" in requirement, name
    assert all("--hash=sha256:" in r for r in dev.values())
    for tool in ("pytest", "ruff", "hypothesis", "waitress", "pip-tools", "playwright"):
        assert tool not in runtime and tool in dev, tool


def test_every_declared_dependency_is_locked_with_its_marker():
    lock = _lock_tool()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = lock.pins((REPO / "requirements" / "runtime.txt").read_text())
    extras = project["optional-dependencies"]
    for requirement in [*project["dependencies"], *extras["postgres"], *extras["fast"]]:
        name = lock.normalise(requirement.split(";")[0].split("[")[0].split(">")[0].strip())
        assert name in runtime, name
    # uvloop and httptools are skipped on Windows, in pyproject and in the lock.
    assert "sys_platform != 'win32'" in runtime["uvloop"]
    assert "sys_platform != 'win32'" in runtime["httptools"]
    for name in ("uvloop", "httptools", "psycopg"):
        assert not any(d.startswith(name) for d in project["dependencies"]), name


def test_python_version_and_licence_files():
    version = (REPO / ".python-version").read_text().strip()
    assert tuple(int(p) for p in version.split(".")[:2]) >= (3, 11)
    assert "Apache License" in (REPO / "LICENSE").read_text()
    assert "Version 2.0" in (REPO / "LICENSE").read_text()
    for doc in ("SECURITY.md", "docs/privacy.md", "docs/operations.md"):
        assert (REPO / doc).is_file(), doc


def test_serving_works_without_uvloop_and_httptools():
    """The `fast` extra is optional: with both imports failing, uvicorn takes h11 and the
    asyncio loop (a separate interpreter: uvicorn decides at import time)."""
    code = (
        "import sys; sys.modules['uvloop'] = None; sys.modules['httptools'] = None\n"
        "from bot.http.serving import loop_factory, make_server\n"
        "async def app(scope, receive, send): pass\n"
        "server = make_server(app, '127.0.0.1', 0)\n"
        "server.config.load()\n"
        "print(server.config.http_protocol_class.__name__, loop_factory())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["H11Protocol", "None"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, seconds: float = 90.0) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.slow
def test_a_clean_runtime_venv_serves_and_has_no_test_tools(tmp_path):
    """Built from requirements/runtime.txt alone (hash-checked; pip's cache makes it quick), the
    package installed from a copy of the source: `getkey serve --http` answers its probes and
    metrics, logs JSON without colour codes or Bolt's token notice, and pytest is absent."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
           "--disable-pip-version-check"]
    subprocess.run([*pip, "--require-hashes", "-r", str(REPO / "requirements" / "runtime.txt")],
                   check=True, timeout=600, capture_output=True)
    src = tmp_path / "src"
    for part in ("bot", "flows"):
        shutil.copytree(REPO / part, src / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / part, src / part)
    subprocess.run([*pip, "--no-deps", "--no-build-isolation", str(src)], check=True,
                   timeout=300, capture_output=True)
    no_pytest = subprocess.run([str(venv / "bin" / "python"), "-c", "import pytest"],
                               capture_output=True, text=True, timeout=60, check=False)
    assert no_pytest.returncode != 0 and "No module named 'pytest'" in no_pytest.stderr

    port = _free_port()
    with SlackStandIn(bot_token=TOKEN) as standin:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SLACK_BOT_TOKEN": TOKEN,
               "SLACK_SIGNING_SECRET": SIGNING, "SLACK_API_URL": standin.api_url,
               "DATABASE_URL": f"sqlite:///{tmp_path / 'getkey.db'}", "PORT": str(port),
               "GETKEY_ENCRYPTION_KEYS": generate_key(), "GETKEY_METRICS_TOKEN": METRICS}
        proc = subprocess.Popen([str(venv / "bin" / "getkey"), "serve", "--http"], env=env,
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            assert _wait_for(base + "/livez").status_code == 200
            assert httpx.get(base + "/readyz").json()["ok"] is True
            scraped = httpx.get(base + "/metrics", headers={"Authorization": f"Bearer {METRICS}"})
            names = {f.name for f in text_string_to_metric_families(scraped.text)}
            assert {"getkey_slack_requests", "getkey_outbox_backlog"} <= names
        finally:
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=60)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and proc.returncode == 0, stderr
    for line in lines:
        record = json.loads(line)  # stderr is not a terminal: JSON lines
        assert "color_message" not in record and "\x1b" not in line, line
    assert "will be unused" not in stderr and "will be ignored" not in stderr
    assert "Traceback" not in stderr and TOKEN not in stderr


def test_readme_names_the_deploy_paths():
    readme = (REPO / "README.md").read_text()
    for needle in ("Procfile", "systemd", "PostgreSQL", "docs/operations.md"):
        assert needle in readme, needle
    assert os.path.isfile(REPO / "Procfile")
