"""The terminal renderer, driven the way a person (or a script) drives it: the real console
script in a subprocess, answers on stdin, Wix's stand-in server behind GETKEY_WIX_API_URL."""

from __future__ import annotations

import io
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bot.cli.prompt import Prompter, collect
from flows import catalog
from flows.base import Field, Flow, VerifyResult
from tests.platforms import wix

ROOT = Path(__file__).resolve().parent.parent
_SCRIPT = Path(sys.executable).parent / "getkey"
# The installed console script when present (it is after `pip install -e .`), else the module.
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]
WRONG_KEY = wix.KEY[:-3] + "zzz"


@pytest.fixture(scope="module")
def server():
    # One server for the module: stopping one costs half a second (serve_forever's poll).
    with wix.WixServer() as s:
        yield s


@pytest.fixture
def wix_server(server):
    server.requests.clear()
    server.fault = None
    return server


def isolated_env(root: Path = ROOT) -> dict[str, str]:
    """The environment a command runs with: no GETKEY_* of the developer's, and the code under
    test importable from any working directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GETKEY_")}
    env["PYTHONPATH"] = os.pathsep.join([str(root), *filter(None, [env.get("PYTHONPATH")])])
    return env


def getkey(
    *args: str, stdin: str = "", server=None, cwd: Path | None = None, root: Path = ROOT,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the console script. Unless `cwd` is given it runs in an empty directory of its own,
    never the checkout: a developer's .env there must not change what the tests see."""
    env = {**isolated_env(root), **(env or {})}
    if server is not None:
        env[server.env_name()] = server.url
    with tempfile.TemporaryDirectory(prefix="getkey-cwd-") as empty:
        return subprocess.run(
            [*COMMAND, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd or empty,
            timeout=60,
            check=False,
        )


def assert_no_secret(proc: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for secret in secrets:
        assert secret not in proc.stdout and secret not in proc.stderr


# -- verify ----------------------------------------------------------------------------


def test_verified_run(wix_server):
    proc = getkey("verify", "wix", stdin=f"{wix.KEY}\n{wix.ACCOUNT}\n\n", server=wix_server)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Verified: Wix accepted the credential." in proc.stdout
    assert re.search(r"Store:\s+The Plant Shop", proc.stdout)
    assert re.search(r"Permissions:\s+site list", proc.stdout)
    assert "••••••" + wix.KEY[-4:] in proc.stdout  # masked echo, so a transcript reads well
    assert_no_secret(proc, wix.KEY, wix.KEY[4:40])
    assert proc.stderr == ""
    [req] = wix_server.requests
    assert req.host == "www.wixapis.com" and req.headers["authorization"] == wix.KEY


def test_settings_in_a_dotenv_file_reach_every_command(wix_server, tmp_path):
    # Operators keep GETKEY_<ID>_API_URL (a proxy, staging) in .env: not only `serve` reads it.
    (tmp_path / ".env").write_text(f"{wix_server.env_name()}={wix_server.url}\n")
    proc = getkey("verify", "wix", stdin=f"{wix.KEY}\n{wix.ACCOUNT}\n\n", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(wix_server.requests) == 1


def test_a_dotenv_in_the_checkout_is_not_read_by_the_tests(tmp_path):
    """A fresh clone where the developer keeps a .env: the command the tests run must not read
    it. Shown on a copy of the checkout whose .env holds a bad setting."""
    checkout = tmp_path / "checkout"
    for package in ("bot", "flows"):
        shutil.copytree(ROOT / package, checkout / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (checkout / ".env").write_text("GETKEY_ENCRYPTION_KEYS=not-a-key-from-the-developers-env\n")
    env = {"SLACK_BOT_TOKEN": "xoxb-1-2-test", "SLACK_SIGNING_SECRET": "s" * 32,
           "DATABASE_URL": f"sqlite:///{tmp_path}/getkey.db"}
    isolated = getkey("serve", root=checkout, env=env)
    assert isolated.returncode != 0
    assert "GETKEY_ENCRYPTION_KEYS is not set" in isolated.stderr, isolated.stderr
    # The control: run from the checkout (what the tests used to do), the .env is read.
    from_checkout = getkey("serve", root=checkout, env=env, cwd=checkout)
    assert from_checkout.returncode != 0
    assert "GETKEY_ENCRYPTION_KEYS" in from_checkout.stderr
    assert "is not set" not in from_checkout.stderr
    assert "not-a-key-from-the-developers-env" not in from_checkout.stderr


def test_rejected_run(wix_server):
    proc = getkey("verify", "wix", stdin=f"{WRONG_KEY}\n{wix.ACCOUNT}\n\n", server=wix_server)
    assert proc.returncode == 1
    assert "Not verified: Wix did not accept this key." in proc.stdout
    assert re.search(r"Field:\s+API key", proc.stdout)
    assert "getkey guide wix" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert_no_secret(proc, WRONG_KEY, wix.KEY)
    assert len(wix_server.requests) == 1  # a rejected key is not retried


def test_wrong_account_points_at_the_account(wix_server):
    other = "11111111-2222-4333-8444-555555555555"
    proc = getkey("verify", "wix", stdin=f"{wix.KEY}\n{other}\n\n", server=wix_server)
    assert proc.returncode == 1
    assert "not for the store or account you named" in proc.stdout
    assert re.search(r"Field:\s+Account ID", proc.stdout)


def test_rate_limit_says_when_to_retry(wix_server):
    wix_server.fault = "rate_limit"
    proc = getkey("verify", "wix", stdin=f"{wix.KEY}\n{wix.ACCOUNT}\n\n", server=wix_server)
    assert proc.returncode == 1
    assert "Wix is limiting requests right now." in proc.stdout
    assert "Wait a minute, then run the same command again." in proc.stdout


def test_bad_format_is_asked_again_with_the_fix(wix_server):
    stdin = f"https://manage.wix.com/account/api-keys\n{wix.KEY}\n{wix.ACCOUNT}\n\n"
    proc = getkey("verify", "wix", stdin=stdin, server=wix_server)
    assert proc.returncode == 0, proc.stdout
    assert "That is a web address" in proc.stdout
    assert "Try again (2 tries left)" in proc.stdout
    assert len(wix_server.requests) == 1


def test_three_bad_answers_stop_without_calling_the_platform(wix_server):
    bad = "secret_abcdefghijklmnopqrstuvwxyz"
    proc = getkey("verify", "wix", stdin=f"{bad}\n{bad}\n{bad}\n{wix.ACCOUNT}\n\n",
                  server=wix_server)
    assert proc.returncode == 1
    assert "Stopped after 3 attempts at API key." in proc.stdout
    assert proc.stdout.count("starts with IST.") == 3
    assert_no_secret(proc, bad)
    assert wix_server.requests == []


def test_input_ending_early_is_a_clean_failure(wix_server):
    proc = getkey("verify", "wix", stdin=f"{wix.KEY}\n", server=wix_server)
    assert proc.returncode == 1
    assert "Input ended before every field was answered." in proc.stdout
    assert "Traceback" not in proc.stderr
    assert_no_secret(proc, wix.KEY)


def test_platform_without_api_key_is_not_verified():
    proc = getkey("verify", "lightspeed-s")
    assert proc.returncode == 1
    assert "has no API key" in proc.stdout and "getkey guide lightspeed-s" in proc.stdout


def test_secret_is_not_echoed_on_a_real_terminal(wix_server, tmp_path):
    """On a TTY the key goes through getpass: the terminal must not echo it back."""
    pty = pytest.importorskip("pty")
    env = isolated_env()
    env[wix_server.env_name()] = wix_server.url
    env["COLUMNS"] = "100"
    pid, fd = pty.fork()
    if pid == 0:  # child: become the console script on the pty
        os.chdir(tmp_path)  # not the checkout: no developer's .env
        os.execve(COMMAND[0], [*COMMAND, "verify", "wix"], env)
    seen = b""
    answers = [
        (b"API key: ", wix.KEY.encode()),
        (b"Account ID: ", wix.ACCOUNT.encode()),
        (b"(Enter to skip): ", b""),
    ]
    deadline = time.monotonic() + 30  # a safety net for a hung child, not a timing check
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child closed the pty
                    break
                if not chunk:
                    break
                seen += chunk
            if answers and seen.rstrip(b" ").endswith(answers[0][0].rstrip()):
                os.write(fd, answers.pop(0)[1] + b"\n")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    text = seen.decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "Verified: Wix accepted the credential." in text
    assert wix.KEY not in text and wix.KEY[4:30] not in text
    assert wix.ACCOUNT in text  # visible fields are echoed as usual


# -- choices and cross-field checks, in process -----------------------------------------


class _PickFlow(Flow):
    id = "pick-test"
    name = "Pick"
    fields = (
        Field("region", "Region", choices=(("eu1", "EU"), ("us1", "US"))),
        Field("code", "Code", secret=True),
    )

    def check_together(self, values: dict[str, str]) -> dict[str, str]:
        if values["code"] == "same":
            from flows.base import field_error

            raise field_error("The code must not be 'same'.", "code")
        return values

    def verify(self, values, http) -> VerifyResult:  # never reached here
        raise AssertionError


@pytest.mark.parametrize("answer", ["2", "us1", "us"])
def test_choice_by_number_value_or_label(answer):
    out = io.StringIO()
    values = collect(_PickFlow(), Prompter(io.StringIO(f"{answer}\nx1\n"), out, input))
    assert values == {"region": "us1", "code": "x1"}
    assert "1) EU  [eu1]" in out.getvalue()


def test_cross_field_error_reasks_that_field():
    out = io.StringIO()
    values = collect(_PickFlow(), Prompter(io.StringIO("1\nsame\nok-now\n"), out, input))
    assert values == {"region": "eu1", "code": "ok-now"}
    assert "The code must not be 'same'." in out.getvalue()


# -- platforms and guide --------------------------------------------------------------


def test_platforms_json_lists_the_catalogue():
    proc = getkey("platforms", "--json")
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert [p["id"] for p in data] == catalog.ids()
    for record in data:
        assert set(record) == {
            "id", "name", "aliases", "summary", "fields", "verifiable", "rotation_days",
        }
        for f in record["fields"]:
            assert set(f) == {"key", "label", "required", "secret"}
    wix_record = next(p for p in data if p["id"] == "wix")
    assert wix_record["rotation_days"] == 180 and wix_record["verifiable"] is True
    assert [f["key"] for f in wix_record["fields"]] == ["api_key", "account_id", "site_id"]


def test_platforms_text_lists_every_id():
    proc = getkey("platforms")
    assert proc.returncode == 0
    for flow in catalog.all_flows():
        assert re.search(rf"^{re.escape(flow.id)}\s+\({re.escape(flow.name)}\)", proc.stdout,
                         re.M), flow.id


def test_guide_for_wix_prints_numbered_steps():
    proc = getkey("guide", "wix")
    assert proc.returncode == 0
    flow = catalog.get("wix")
    for n, step in enumerate(flow.steps, 1):
        assert f"  {n}. {step.title}" in proc.stdout
    assert "Click Generate API Key" in proc.stdout  # Slack's *bold* is plain text here
    assert "API key (required, secret, typed without echo)" in proc.stdout
    assert "Site ID (optional)" in proc.stdout
    assert "401 Unauthenticated" in proc.stdout
    assert "every 180 days" in proc.stdout


def test_guide_accepts_an_alias():
    proc = getkey("guide", "Lightspeed Retail")
    assert proc.returncode == 0 and proc.stdout.startswith("Lightspeed R-Series")


@pytest.mark.parametrize("command", ["guide", "verify"])
def test_unknown_platform_suggests_the_close_one(command):
    proc = getkey(command, "wxi")
    assert proc.returncode == 2
    assert "unknown platform 'wxi'; did you mean: wix" in proc.stderr
    assert proc.stdout == ""


def test_lightspeed_alone_lists_every_edition_in_the_terminal():
    proc = getkey("guide", "lightspeed")
    assert proc.returncode == 2 and proc.stdout == ""
    for flow_id in ("lightspeed-ecom", "lightspeed-r", "lightspeed-x", "lightspeed-s", "ecwid"):
        assert f"getkey guide {flow_id}" in proc.stderr
    assert "E-Series" in proc.stderr and "my.ecwid.com" in proc.stderr


def test_missing_permissions_name_the_store_in_the_terminal():
    from bot.cli.render import render_result
    from flows.base import Failure

    flow = catalog.get("bigcommerce")
    partial = VerifyResult(ok=True, store_name="Acme Shop", missing=("Orders",))
    shown = " ".join(render_result(flow, partial).split())  # one line, however it wrapped
    assert "works for Acme Shop, but lacks Orders" in shown
    failed = VerifyResult.failed(Failure.MISSING_PERMISSION, "Lacks.", store_name="Acme Shop")
    shown = " ".join(render_result(flow, failed).split())
    assert "Not verified: The key works for Acme Shop, but lacks a permission getkey needs" in shown
