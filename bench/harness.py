"""What every benchmark shares: processes on loopback ports, signed Slack requests, summaries.

getkey is driven only through its public interfaces (the `getkey` console script run as
`python -m bot.cli`, environment variables, signed POSTs to /slack/events), so these scripts
keep working whatever the server stack inside is (sync Bolt on waitress today, AsyncApp on
uvicorn later).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier
from standins import WIX_ACCOUNT, WIX_KEY

# A correct Wix credential for the platform stand-in, by the form's field keys.
WIX_VALUES = {"api_key": WIX_KEY, "account_id": WIX_ACCOUNT, "site_id": ""}

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PYTHON = sys.executable

SIGNING_SECRET = "benchSigningSecret0123456789abcdef"
BOT_TOKEN = "xoxb-1111-2222-benchbottoken"
TEAM_ID = "T0BENCH01"
CHANNEL_ID = "C0BENCH01"
APP_ID = "A0BENCH01"
SLACK_LIMIT = 3.0  # seconds Slack waits for an ack


# -- numbers ------------------------------------------------------------------------------------
def percentile(samples: Sequence[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    ordered = sorted(v for v in values if v == v)  # drop NaN
    if not ordered:
        return float("nan")
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# -- processes ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment minus anything that would reach a real Slack or database,
    with this checkout first on the import path (so `python -m bot.cli` runs this tree)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "GETKEY_", "DATABASE_URL", "PORT"))
    }
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    env.update(extra)
    return env


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def spawn(
    name: str, argv: Sequence[str], env: Mapping[str, str], log_dir: Path, cwd: Path | None = None
) -> Proc:
    """A child in its own process group (so stop() ends it and only it), output to a file."""
    log_path = log_dir / f"{name}.log"
    out = log_path.open("wb")
    popen = subprocess.Popen(
        list(argv),
        env=dict(env),
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=str(cwd or log_dir),
        start_new_session=True,
    )
    out.close()
    return Proc(name, popen, log_path)


def wait_http(proc: Proc, url: str, timeout: float = 60.0) -> None:
    """Until the server answers anything at all on `url`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}):\n{proc.log_tail()}")
        try:
            httpx.get(url, timeout=1.0, trust_env=False)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not answer within {timeout:g}s:\n{proc.log_tail()}")


def run_cli(args: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float = 120) -> str:
    """`getkey ARGS` through the console-script module; returns stdout, raises on failure."""
    done = subprocess.run(
        [PYTHON, "-m", "bot.cli", *args],
        env=dict(env),
        cwd=str(cwd),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"getkey {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of one process (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the stand-ins (bench/standins.py in its own process) ---------------------------------------
@dataclass
class StandIns:
    proc: Proc
    slack_url: str
    platform_url: str

    @property
    def api_url(self) -> str:
        return self.slack_url + "/api/"

    def control(self, what: str, **params: Any) -> Any:
        reply = httpx.get(
            f"{self.slack_url}/_bench/{what}", params=params, timeout=30, trust_env=False
        )
        reply.raise_for_status()
        return reply.json()

    def stats(self) -> dict[str, Any]:
        return dict(self.control("stats"))

    def reset(self) -> None:
        self.control("reset")


@contextlib.contextmanager
def standins(log_dir: Path, platform_delay: float = 0.0) -> Iterator[StandIns]:
    slack_port, platform_port = free_port(), free_port()
    proc = spawn(
        "standins",
        [PYTHON, str(BENCH / "standins.py"), "--slack-port", str(slack_port),
         "--platform-port", str(platform_port), "--platform-delay", str(platform_delay)],
        child_env({}),
        log_dir,
    )
    try:
        running = StandIns(proc, f"http://127.0.0.1:{slack_port}",
                           f"http://127.0.0.1:{platform_port}")
        wait_http(proc, running.slack_url + "/_bench/stats")
        wait_http(proc, running.platform_url + "/")
        yield running
    finally:
        proc.stop()


# -- servers under test -------------------------------------------------------------------------
def getkey_env(stand: StandIns, port: int, db_url: str, key: str) -> dict[str, str]:
    return child_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": stand.api_url,
            "PORT": str(port),
            "DATABASE_URL": db_url,
            "GETKEY_ENCRYPTION_KEYS": key,
            "GETKEY_WIX_API_URL": stand.platform_url,
        }
    )


def new_key(work: Path) -> str:
    return run_cli(["keys", "generate"], child_env({}), work).strip().splitlines()[-1].strip()


def start_getkey(stand: StandIns, work: Path, db_url: str | None = None) -> Proc:
    """`getkey serve --http` on a free port with a fresh database (SQLite by default)."""
    port = free_port()
    db_url = db_url or f"sqlite:///{work / 'getkey.db'}"
    env = getkey_env(stand, port, db_url, new_key(work))
    proc = spawn("getkey", [PYTHON, "-m", "bot.cli", "serve", "--http"], env, work)
    proc.url = f"http://127.0.0.1:{port}"
    wait_http(proc, proc.url + "/healthz")
    return proc


BARE_KINDS = ("bare-async-uvicorn", "bare-sync-waitress")


def start_bare(kind: str, stand: StandIns, work: Path, *, process_before_response: bool) -> Proc:
    """A bare Bolt app (bench/bare_bolt.py) on the given server type."""
    port = free_port()
    env = child_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": stand.api_url,
            "BENCH_PLATFORM_URL": stand.platform_url,
        }
    )
    argv = [PYTHON, str(BENCH / "bare_bolt.py"), kind.removeprefix("bare-"), "--port", str(port)]
    if process_before_response:
        argv.append("--process-before-response")
    proc = spawn(kind, argv, env, work)
    proc.url = f"http://127.0.0.1:{port}"
    wait_http(proc, proc.url + "/")
    return proc


@contextlib.contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


# -- Slack's side -------------------------------------------------------------------------------
@dataclass
class Signer:
    secret: str = SIGNING_SECRET
    verifier: SignatureVerifier = field(init=False)

    def __post_init__(self) -> None:
        self.verifier = SignatureVerifier(self.secret)

    def headers(self, body: str, content_type: str = "application/x-www-form-urlencoded",
                timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=ts, body=body),
        }


def command_body(text: str, user_id: str, slack_url: str, n: int = 0) -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "getkey-bench",
            "channel_id": CHANNEL_ID,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/getkey",
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": f"{slack_url}/response/{user_id}-{n}",
            "trigger_id": f"{n}.{user_id}.{int(time.time())}.trigger",
        }
    )


def interaction_base(kind: str, user_id: str, trigger_id: str) -> dict[str, Any]:
    return {
        "type": kind,
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": trigger_id,
        "team": {"id": TEAM_ID, "domain": "getkey-bench"},
        "is_enterprise_install": False,
    }


def payload_body(payload: Mapping[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def print_header(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


# -- a person's journey to a submitted form (public interface only) -----------------------------
def find_open_button(blocks: list[dict[str, Any]], platform: str) -> tuple[str, dict[str, Any]]:
    """(block_id, button) of the guide's button that opens the form (its value is the platform
    id); the first button without a URL otherwise."""
    candidates: list[tuple[str, dict[str, Any]]] = []
    for block in blocks:
        elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button" and not element.get("url"):
                candidates.append((str(block.get("block_id") or "b"), element))
    for block_id, element in candidates:
        if element.get("value") == platform:
            return block_id, element
    if not candidates:
        raise RuntimeError("the guide has no button that opens the form")
    return candidates[0]


def post_signed(client: httpx.Client, url: str, body: str, timeout: float = 30) -> httpx.Response:
    return client.post(
        url + "/slack/events", content=body.encode(), headers=Signer().headers(body),
        timeout=timeout,
    )


def open_form(
    client: httpx.Client, app_url: str, stand: StandIns, user_id: str, n: int,
    platform: str = "wix",
) -> dict[str, Any]:
    """`/getkey <platform>`, press the guide's button, return the modal Slack now shows."""
    reply = post_signed(client, app_url, command_body(platform, user_id, stand.slack_url, n))
    reply.raise_for_status()
    guide = reply.json() if reply.content else {}
    block_id, button = find_open_button(list(guide.get("blocks") or []), platform)
    trigger = f"{n}.{user_id}.open.trigger"
    action = {"action_id": button["action_id"], "block_id": block_id, "type": "button",
              "value": button.get("value"), "action_ts": f"{time.time():.6f}"}
    payload = {
        **interaction_base("block_actions", user_id, trigger),
        "container": {"type": "message", "message_ts": "1700000000.000100",
                      "channel_id": CHANNEL_ID, "is_ephemeral": True},
        "channel": {"id": CHANNEL_ID, "name": "general"},
        "response_url": f"{stand.slack_url}/response/{user_id}-{n}-click",
        "actions": [action],
        "state": {"values": {}},
    }
    post_signed(client, app_url, payload_body(payload)).raise_for_status()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        opened = stand.control("opened", trigger_id=trigger)
        if opened.get("ok"):
            return dict(opened["view"])
        time.sleep(0.02)
    raise RuntimeError(f"no views.open for {user_id} within 30 s")


def fill(view: dict[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """view.state.values for a form: each input whose block id names a key in `values` gets
    that text; selects keep their initial option; other text inputs stay empty."""
    state: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block["element"]
        entry: dict[str, Any] = {"type": element["type"]}
        if element["type"] in ("static_select", "radio_buttons"):
            entry["selected_option"] = element.get("initial_option")
        else:
            block_id = str(block.get("block_id") or "")
            entry["value"] = next((v for k, v in values.items() if block_id.endswith(k)), "")
        state[block["block_id"]] = {element["action_id"]: entry}
    return state


def submission(view: dict[str, Any], user_id: str, values: Mapping[str, str]) -> dict[str, Any]:
    return {
        **interaction_base("view_submission", user_id, f"{user_id}.submit.trigger"),
        "view": {**view, "team_id": TEAM_ID, "app_id": APP_ID, "bot_id": "B0BENCH01",
                 "root_view_id": view["id"], "previous_view_id": None,
                 "state": {"values": fill(view, values)}},
        "response_urls": [],
    }
