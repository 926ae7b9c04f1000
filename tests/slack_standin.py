"""A local Slack for the test suite, over real sockets.

Two halves, as in bolt-python's own tests:
- SlackStandIn: an HTTP server on a free port answering the Web API methods the bot calls
  (auth.test, chat.postEphemeral, chat.postMessage, views.open/update/publish,
  conversations.open, users.info, usergroups.users.list, oauth.v2.access) plus response_url
  posts. It records every call and keeps the state that makes the journey realistic: trigger
  ids are single-use, views have ids and hashes, each workspace installed by OAuth has its own
  bot token (rotating ones expire and are refreshed), codes are single-use.
- SlackSender: plays Slack's side towards the app: signed slash commands (form-encoded),
  block_actions and view_submission (`payload=<json>`), Events API JSON.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from tests.blockkit import validate_blocks, validate_view
from tests.platforms.server import QuietHTTPServer

TEAM_ID = "T0GETKEY1"
BOT_USER_ID = "U0BOTUSER"
APP_ID = "A0GETKEY1"
CHANNEL_ID = "C0GENERAL"


def dm_of(channel: str) -> str:
    """The conversation a message to `channel` lands in: a user's id means the DM with them."""
    return "D" + channel[1:] if channel[:1] in ("U", "W") else channel


@dataclass
class Call:
    """One request the bot made to the stand-in."""

    method: str  # Web API method, or "response_url"
    args: dict[str, Any]
    raw: bytes
    headers: dict[str, str]
    response: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    # The workspace whose token made the call ('' when the token was not accepted).
    team_id: str = ""
    url: str = ""  # for "response_url" calls: which one
    # chat.postMessage: the channel as the bot sent it (args["channel"] is the conversation
    # the message landed in, as Slack names it in its answer).
    sent_channel: str = ""

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.args.get("blocks") or [])


def _decode(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        data = json.loads(raw)
        return data if isinstance(data, dict) else {"_": data}
    form = parse_qs(raw.decode(), keep_blank_values=True)
    args: dict[str, Any] = {k: v[0] for k, v in form.items()}
    # slack_sdk form-encodes nested values as JSON strings.
    for key in ("blocks", "view", "attachments"):
        if isinstance(args.get(key), str):
            try:
                args[key] = json.loads(args[key])
            except ValueError:
                pass
    return args


class SlackStandIn:
    def __init__(
        self, bot_token: str = "xoxb-0000-standin-token", *, app_token: str | None = None
    ) -> None:
        self.bot_token = bot_token
        # token → the workspace it belongs to; the single-workspace token is TEAM_ID's.
        self.tokens: dict[str, dict[str, Any]] = {
            bot_token: {"team_id": TEAM_ID, "enterprise_id": None, "expires_at": None}
        }
        self.client_id = "1111.2222"
        self.client_secret = "standin-client-secret"
        self._codes: dict[str, dict[str, Any]] = {}
        self._refresh: dict[str, dict[str, Any]] = {}
        # (team_id, user_id) of workspace admins, of deactivated accounts; user groups.
        self.admins: set[tuple[str, str]] = set()
        self.deactivated: set[tuple[str, str]] = set()
        self.usergroups: dict[str, list[str]] = {}
        # Socket Mode: apps.connections.open takes the app-level token and hands out
        # `socket_url` (a tests.socket_standin server); None means Socket Mode is not offered.
        self.app_token = app_token
        self.socket_url: str | None = None
        self.calls: list[Call] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.home: dict[str, dict[str, Any]] = {}
        self._triggers: dict[str, bool] = {}  # trigger_id -> used
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, body = standin._handle(self.path, headers, raw)
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def start(self) -> SlackStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget recorded calls (between tests sharing one stand-in)."""
        with self._lock:
            self.calls.clear()

    # -- what Slack would issue ---------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def issue_trigger(self) -> str:
        trigger = f"{next(self._ids)}.{int(time.time())}.trigger"
        with self._lock:
            self._triggers[trigger] = False
        return trigger

    def response_url(self) -> str:
        return f"{self.url}/response/{next(self._ids)}"

    # -- inspection ---------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        where: Callable[[Call], bool] | None = None,
        timeout: float = 15.0,
    ) -> list[Call]:
        """Block until `count` matching calls were recorded (work done after an ack)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [
                    c for c in self.calls if c.method == method and (where is None or where(c))
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"no {count}× {method} within {timeout}s; calls: {seen}")
                self._lock.wait(left)

    def reply_to(self, sent: Reply, count: int = 1, timeout: float = 15.0) -> Call:
        """The `count`-th answer to request `sent` (a command or a click): the message in its
        acknowledgement, else what was posted to its response_url; that request's own answer,
        never one trailing from an earlier step."""
        assert sent.response_url, "this request carried no response_url"
        body = sent.json() if sent.body and sent.body.startswith(b"{") else None
        if count == 1 and isinstance(body, dict) and (body.get("text") or body.get("blocks")):
            # Slack shows a message sent in the acknowledgement like one posted to the
            # response_url (the bot answers there when the answer is at hand).
            return Call("ack", body, sent.body, {}, url=sent.response_url)
        found = self.wait_for("response_url", count, lambda c: c.url == sent.response_url,
                              timeout=timeout)  # fmt: skip
        return found[count - 1]

    def updated(self, view_id: str, count: int = 1, timeout: float = 15.0) -> Call:
        """The `count`-th views.update of this modal (never another modal's)."""
        found = self.wait_for("views.update", count, lambda c: c.args.get("view_id") == view_id,
                              timeout=timeout)  # fmt: skip
        return found[count - 1]

    def dms(self, user_id: str, count: int = 1, timeout: float = 15.0) -> list[Call]:
        """The messages posted in the bot's DM with `user_id` (never another person's), once
        there are at least `count`."""
        channel = "D" + user_id[1:]  # as conversations.open answers here
        return self.wait_for("chat.postMessage", count,
                             lambda c: c.args.get("channel") == channel, timeout=timeout)

    def opened_by(self, sent: Reply, timeout: float = 15.0) -> Call:
        """The views.open that used the trigger of request `sent`."""
        assert sent.trigger_id, "this request carried no trigger_id"
        (found,) = self.wait_for(
            "views.open", 1, lambda c: c.args.get("trigger_id") == sent.trigger_id,
            timeout=timeout,
        )
        return found

    def apply_ack_view(self, view_id: str, view: Mapping[str, Any]) -> None:
        """What Slack does with `response_action: update` in a view_submission ack."""
        with self._lock:
            self.views[view_id] = {**view, "id": view_id, "hash": self.next_id("h")}

    # -- the Web API --------------------------------------------------------------------
    def _handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        args = _decode(headers.get("content-type", ""), raw)
        if "?" in path:
            # slack_sdk sends some methods' arguments (users.info) in the query string.
            query = parse_qs(path.split("?", 1)[1], keep_blank_values=True)
            args = {**{k: v[0] for k, v in query.items()}, **args}
        if path.startswith("/response/"):
            self._record(Call("response_url", args, raw, headers, url=f"{self.url}{path}"))
            return 200, {"ok": True}
        method = path.removeprefix("/api/").split("?")[0]
        call = Call(method, args, raw, headers)
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if method == "apps.connections.open":
            call.response = self._connections_open(token)
            self._record(call)
            return 200, call.response
        if method == "oauth.v2.access":
            with self._lock:
                call.response = self._oauth_v2_access(args, headers)
            self._record(call)
            return 200, call.response
        with self._lock:
            owner = self.tokens.get(token)
            if owner is not None and owner["expires_at"] and owner["expires_at"] <= time.time():
                owner = None
        if owner is None:
            self._record(call)
            return 200, {"ok": False, "error": "invalid_auth"}
        call.team_id = owner["team_id"]
        if method == "chat.postMessage":
            # A message sent to a user id lands in the app's DM with that person (D…), and
            # Slack answers with that conversation: calls are recorded by where they landed.
            call.sent_channel = str(args.get("channel") or "")
            args = call.args = {**args, "channel": dm_of(call.sent_channel)}
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        with self._lock:
            if method in ("auth.test", "users.info", "usergroups.users.list", "users.list",
                          "usergroups.list"):
                args = {**args, "_owner": owner}
            answer = handler(args) if handler else {"ok": False, "error": "unknown_method"}
        call.response = answer
        self._record(call)
        return 200, answer

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()

    def _connections_open(self, token: str) -> dict[str, Any]:
        """Only an app-level token opens a Socket Mode connection, as on Slack."""
        if self.app_token is None or self.socket_url is None:
            return {"ok": False, "error": "unknown_method"}
        if token.startswith("xox"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_url}

    # -- OAuth ---------------------------------------------------------------------------
    def authorize(
        self,
        team_id: str,
        *,
        user_id: str = "U0INSTALLER",
        enterprise_id: str | None = None,
        org_wide: bool = False,
        rotating: bool = False,
        expires_in: int = 43200,
    ) -> str:
        """What Slack does when a person presses "Allow": a single-use code for the app's
        redirect URL."""
        code = f"code-{next(self._ids)}-{team_id}"
        with self._lock:
            self._codes[code] = {"team_id": team_id, "user_id": user_id,
                                 "enterprise_id": enterprise_id, "org_wide": org_wide,
                                 "rotating": rotating, "expires_in": expires_in}
        return code

    def _issue_token(self, grant: dict[str, Any]) -> dict[str, Any]:
        n = next(self._ids)
        team = grant["team_id"]
        token = f"xoxb-{n}-{team}-standin"
        owner = {"team_id": team, "enterprise_id": grant["enterprise_id"], "expires_at": None}
        answer: dict[str, Any] = {"access_token": token}
        if grant["rotating"]:
            token = "xoxe.xoxb-" + token.removeprefix("xoxb-")
            refresh = f"xoxe-1-{n}-{team}-refresh"
            owner["expires_at"] = time.time() + grant["expires_in"]
            self._refresh[refresh] = grant
            answer = {"access_token": token, "refresh_token": refresh,
                      "expires_in": grant["expires_in"]}
        self.tokens[token] = owner
        return answer

    def _oauth_v2_access(self, args: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        import base64

        basic = headers.get("authorization", "")
        if basic.startswith("Basic "):
            given = base64.b64decode(basic.removeprefix("Basic ")).decode().split(":", 1)
        else:
            given = [str(args.get("client_id") or ""), str(args.get("client_secret") or "")]
        if given != [self.client_id, self.client_secret]:
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("grant_type") == "refresh_token":
            grant = self._refresh.pop(str(args.get("refresh_token") or ""), None)
            if grant is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            # Slack's rotated tokens live 12 hours.
            grant = {**grant, "expires_in": 43200}
            return {"ok": True, "token_type": "bot", **self._issue_token(grant),
                    "team": {"id": grant["team_id"]}}
        grant = self._codes.pop(str(args.get("code") or ""), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        team, ent = grant["team_id"], grant["enterprise_id"]
        return {
            "ok": True, "app_id": APP_ID, "token_type": "bot", "scope": "commands,chat:write",
            "bot_user_id": BOT_USER_ID, **self._issue_token(grant),
            "team": None if grant["org_wide"] else {"id": team, "name": f"Team {team}"},
            "enterprise": {"id": ent, "name": f"Org {ent}"} if ent else None,
            "is_enterprise_install": grant["org_wide"],
            "authed_user": {"id": grant["user_id"]},
        }

    def revoke(self, team_id: str) -> None:
        """The workspace uninstalled the app: its tokens stop working."""
        with self._lock:
            for token in [t for t, o in self.tokens.items() if o["team_id"] == team_id]:
                del self.tokens[token]

    def expire(self, token: str) -> None:
        with self._lock:
            self.tokens[token]["expires_at"] = time.time() - 1

    def _api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        owner = args.get("_owner") or {"team_id": TEAM_ID, "enterprise_id": None}
        return {"ok": True, "url": "https://getkey-test.slack.com/", "team": "Test",
                "user": "getkey", "team_id": owner["team_id"], "user_id": BOT_USER_ID,
                "bot_id": "B0GETKEY", "enterprise_id": owner.get("enterprise_id"),
                "is_enterprise_install": False}

    def _api_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = str(args.get("usergroup") or "")
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroups[group])}

    def _api_usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "usergroups": [{"id": g, "handle": g.lower(), "name": f"Group {g}"}
                                           for g in self.usergroups]}

    def _api_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """The workspace's admins and deactivated accounts (the only people the stand-in
        knows anything about), one per page so callers must follow the cursor."""
        team = (args.get("_owner") or {}).get("team_id", TEAM_ID)
        known = sorted({u for t, u in self.admins | self.deactivated if t == team})
        start = int(args.get("cursor") or 0)
        page = known[start:start + 1]
        members = [{"id": u, "team_id": team, "deleted": (team, u) in self.deactivated,
                    "is_admin": (team, u) in self.admins, "is_owner": False, "is_bot": False}
                   for u in page]
        more = start + 1 < len(known)
        return {"ok": True, "members": members,
                "response_metadata": {"next_cursor": str(start + 1) if more else ""}}

    def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel") or not args.get("user"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "message_ts": f"{time.time():.6f}"}

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if any(channel == "D" + u[1:] for _, u in self.deactivated):
            return {"ok": False, "error": "account_inactive"}
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = f"{time.time():.6f}"
        return {"ok": True, "channel": args["channel"], "ts": ts,
                "message": {"text": args.get("text"), "blocks": args.get("blocks"), "ts": ts}}

    def _api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = args.get("trigger_id")
        if trigger not in self._triggers:
            return {"ok": False, "error": "invalid_trigger_id"}
        if self._triggers[trigger]:
            return {"ok": False, "error": "expired_trigger_id"}
        self._triggers[trigger] = True
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        view_id = self.next_id("V")
        self.views[view_id] = {**view, "id": view_id, "hash": self.next_id("h")}
        return {"ok": True, "view": self.views[view_id]}

    def _api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != self.views[view_id]["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        self.views[view_id] = {**view, "id": view_id, "hash": self.next_id("h")}
        return {"ok": True, "view": self.views[view_id]}

    def _api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = args.get("user_id")
        view = args.get("view")
        if not user or not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        self.home[user] = {**view, "id": self.next_id("V"), "hash": self.next_id("h")}
        return {"ok": True, "view": self.home[user]}

    def _api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users") or "")
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": "D" + users.split(",")[0][1:]}}

    def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = args.get("user")
        if not user:
            return {"ok": False, "error": "user_not_found"}
        team = (args.get("_owner") or {}).get("team_id", TEAM_ID)
        admin = (team, user) in self.admins
        return {"ok": True, "user": {"id": user, "team_id": team, "name": user.lower(),
                                     "real_name": "Test Person", "tz": "Europe/Paris",
                                     "tz_offset": 3600, "is_bot": False,
                                     "deleted": (team, user) in self.deactivated,
                                     "is_admin": admin, "is_owner": False}}


# -- Slack's side towards the app -------------------------------------------------------
@dataclass
class Reply:
    status: int
    body: bytes
    # Where Slack told the app to answer this request and the trigger it issued: the way to
    # wait for *this* request's answer, not whatever came first (standin.reply_to/opened_by).
    response_url: str = ""
    trigger_id: str = ""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


_shared: list[httpx.Client] = []
_shared_lock = threading.Lock()


def _client() -> httpx.Client:
    # One client for the process: building one costs tens of milliseconds (SSL context),
    # which would otherwise dominate every measured request.
    with _shared_lock:
        if not _shared:
            _shared.append(httpx.Client(trust_env=False))
        return _shared[0]


def visible_text(node: object) -> str:
    """Every piece of text a person would see in a message or view, one per line."""
    out: list[str] = []

    def walk(item: object) -> None:
        if isinstance(item, dict):
            if item.get("type") in ("plain_text", "mrkdwn") and isinstance(item.get("text"), str):
                out.append(item["text"])
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for child in item:
                walk(child)

    walk(node)
    return "\n".join(out)


def find_element(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    """(block_id, element) of the interactive element with this action_id."""
    for block in blocks:
        elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("action_id") == action_id:
                return str(block.get("block_id") or "b"), element
    raise AssertionError(f"no element {action_id!r} in the message")


MANIFEST = Path(__file__).resolve().parent.parent / "manifest.json"
_ESCAPED = re.compile(r"<([@#])([UWC][A-Z0-9]+)(?:\|([^>]*))?>")


def command_escapes(command: str) -> bool:
    """The manifest's `should_escape` for a slash command (Slack's default: false)."""
    manifest = json.loads(MANIFEST.read_text())
    for entry in manifest.get("features", {}).get("slash_commands", []):
        if entry.get("command") == command:
            return bool(entry.get("should_escape", False))
    raise KeyError(command)


def unescaped(text: str) -> str:
    """What Slack sends with escaping off: the names as typed, `@pat`, `#general`."""
    return _ESCAPED.sub(lambda m: m.group(1) + (m.group(3) or m.group(2)), text)


class SlackSender:
    """Sends signed requests to the app exactly as Slack does."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        standin: SlackStandIn,
        *,
        user_id: str = "U0PERSON1",
        team_id: str = TEAM_ID,
        channel_id: str = CHANNEL_ID,
        enterprise_id: str | None = None,
    ) -> None:
        self.app_url = app_url.rstrip("/") + "/slack/events"
        self.enterprise_id = enterprise_id
        self.verifier = SignatureVerifier(signing_secret)
        self.standin = standin
        self.user_id = user_id
        self.team_id = team_id
        self.channel_id = channel_id

    def as_user(self, user_id: str) -> SlackSender:
        return SlackSender(self.app_url.removesuffix("/slack/events"), self.verifier.signing_secret,
                           self.standin, user_id=user_id, team_id=self.team_id,
                           channel_id=self.channel_id, enterprise_id=self.enterprise_id)

    def in_team(self, team_id: str, enterprise_id: str | None = None) -> SlackSender:
        """The same person's requests as coming from another workspace (or Grid org)."""
        return SlackSender(self.app_url.removesuffix("/slack/events"), self.verifier.signing_secret,
                           self.standin, user_id=self.user_id, team_id=team_id,
                           channel_id=self.channel_id, enterprise_id=enterprise_id)

    def to(self, app_url: str) -> SlackSender:
        """The same person, sending to another instance of the app (behind a load balancer)."""
        return SlackSender(app_url, self.verifier.signing_secret, self.standin,
                           user_id=self.user_id, team_id=self.team_id,
                           channel_id=self.channel_id, enterprise_id=self.enterprise_id)

    # -- transport ----------------------------------------------------------------------
    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sig = signature or self.verifier.generate_signature(timestamp=ts, body=body)
        send = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sig,
            "Connection": "close",
            **(headers or {}),
        }
        reply = _client().post(self.app_url, content=body.encode(), headers=send, timeout=timeout)
        return Reply(reply.status_code, reply.content)

    def post_form(self, fields: Mapping[str, str], **kw: Any) -> Reply:
        reply = self.post(urlencode(fields), "application/x-www-form-urlencoded", **kw)
        reply.response_url = str(fields.get("response_url") or "")
        reply.trigger_id = str(fields.get("trigger_id") or "")
        return reply

    def post_payload(self, payload: Mapping[str, Any], **kw: Any) -> Reply:
        reply = self.post_form({"payload": json.dumps(payload)}, **kw)
        reply.response_url = str(payload.get("response_url") or "")
        reply.trigger_id = str(payload.get("trigger_id") or "")
        return reply

    # -- what a person does -------------------------------------------------------------
    def command_fields(self, text: str, command: str = "/getkey") -> dict[str, str]:
        return {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": "getkey-test",
            "channel_id": self.channel_id,
            "channel_name": "general",
            "user_id": self.user_id,
            "user_name": self.user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.standin.response_url(),
            "trigger_id": self.standin.issue_trigger(),
            **({"enterprise_id": self.enterprise_id} if self.enterprise_id else {}),
        }

    def command(self, text: str = "", *, escape: bool | None = None, **kw: Any) -> Reply:
        """Run `/getkey text`. Tests write mentions the way Slack escapes them
        (`<@U…|pat>`); like Slack, the stand-in sends them so only when the manifest sets
        `should_escape` for the command (or `escape` says so), else as the person typed
        them (`@pat`)."""
        if escape is None:
            escape = command_escapes("/getkey")
        return self.post_form(self.command_fields(text if escape else unescaped(text)), **kw)

    def answer(
        self, text: str = "", *, fields: Mapping[str, str] | None = None, timeout: float = 15.0
    ) -> dict[str, Any]:
        """The ephemeral answer to `/getkey <text>` (or to the command `fields`), wherever the
        bot put it: Slack takes the message in the command's acknowledgement or posted to its
        response_url."""
        reply = self.post_form(dict(fields or self.command_fields(text)))
        assert reply.status == 200, reply.body
        return check_message(self.standin.reply_to(reply, timeout=timeout).args)

    def _interaction_base(self, kind: str) -> dict[str, Any]:
        return {
            "type": kind,
            "user": {"id": self.user_id, "username": self.user_id.lower(), "team_id": self.team_id},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "trigger_id": self.standin.issue_trigger(),
            "team": {"id": self.team_id, "domain": "getkey-test"},
            "enterprise": {"id": self.enterprise_id} if self.enterprise_id else None,
            "is_enterprise_install": False,
        }

    def click(
        self,
        message_blocks: list[dict[str, Any]],
        action_id: str,
        *,
        option_value: str | None = None,
        **kw: Any,
    ) -> Reply:
        """Press a button (or choose `option_value` in a select) in an ephemeral message."""
        block_id, element = find_element(message_blocks, action_id)
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": element["type"],
            "action_ts": f"{time.time():.6f}",
        }
        if element["type"] == "button":
            action["value"] = element.get("value")
        elif element["type"] == "static_select":
            option = next(o for o in element["options"] if o["value"] == option_value)
            action["selected_option"] = option
        payload = {
            **self._interaction_base("block_actions"),
            "container": {"type": "message", "message_ts": "1700000000.000100",
                          "channel_id": self.channel_id, "is_ephemeral": True},
            "channel": {"id": self.channel_id, "name": "general"},
            "response_url": self.standin.response_url(),
            "actions": [action],
            "state": {"values": {}},
        }
        return self.post_payload(payload, **kw)

    def view_payload(self, view_id: str, values: Mapping[str, str | None]) -> dict[str, Any]:
        """A view_submission for the modal as the stand-in holds it; `values` by input block_id."""
        view = self.standin.views[view_id]
        state: dict[str, Any] = {}
        for block in view.get("blocks") or []:
            if block.get("type") != "input":
                continue
            element = block["element"]
            value = values.get(block["block_id"])
            entry: dict[str, Any] = {"type": element["type"]}
            if element["type"] == "static_select":
                entry["selected_option"] = (
                    next(o for o in element["options"] if o["value"] == value) if value else None
                )
            elif element["type"] == "datepicker":
                entry["selected_date"] = value  # YYYY-MM-DD, None when nothing was picked
            else:
                entry["value"] = value
            state[block["block_id"]] = {element["action_id"]: entry}
        return {
            **self._interaction_base("view_submission"),
            "view": {
                **view,
                "team_id": self.team_id,
                "app_id": APP_ID,
                "bot_id": "B0GETKEY",
                "root_view_id": view_id,
                "previous_view_id": None,
                "state": {"values": state},
            },
            "response_urls": [],
        }

    def submit(self, view_id: str, values: Mapping[str, str | None], **kw: Any) -> Reply:
        """Submit the modal; applies an `update` ack to the stand-in's view, as Slack does."""
        payload = self.view_payload(view_id, values)
        return self.deliver_submission(payload, **kw)

    def deliver_submission(self, payload: Mapping[str, Any], **kw: Any) -> Reply:
        reply = self.post_payload(payload, **kw)
        ack = reply.json() if reply.status == 200 and reply.body else None
        if isinstance(ack, dict) and ack.get("response_action") == "update":
            self.standin.apply_ack_view(payload["view"]["id"], ack["view"])
        return reply

    def event(self, event: Mapping[str, Any], **kw: Any) -> Reply:
        body = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": APP_ID,
            "event": dict(event),
            "type": "event_callback",
            "event_id": self.standin.next_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team_id, "user_id": BOT_USER_ID,
                                "enterprise_id": self.enterprise_id,
                                "is_bot": True, "is_enterprise_install": False}],
            **({"enterprise_id": self.enterprise_id} if self.enterprise_id else {}),
        }
        return self.post(json.dumps(body), "application/json", **kw)

    def app_home_opened(self, **kw: Any) -> Reply:
        return self.event({"type": "app_home_opened", "user": self.user_id,
                           "channel": "D" + self.user_id[1:], "tab": "home",
                           "event_ts": f"{time.time():.6f}"}, **kw)


# -- what the person sees, validated ------------------------------------------------------
VIEW_METHODS = ("views.open", "views.update", "views.publish")
MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "response_url")


def check_message(body: dict[str, Any]) -> dict[str, Any]:
    """A message body (ack, response_url, chat.*) must parse with slack_sdk and fit the limits."""
    from slack_sdk.models.blocks import Block

    assert body.get("text") or body.get("blocks"), "a message needs text or blocks"
    blocks = body.get("blocks") or []
    assert all(Block.parse(b) is not None for b in blocks)
    validate_blocks(blocks, surface="message")
    return body


def check_view(view: dict[str, Any]) -> dict[str, Any]:
    from slack_sdk.models.views import View

    View(**{k: v for k, v in view.items() if k not in ("id", "hash")}).to_dict()
    return validate_view({k: v for k, v in view.items() if k not in ("id", "hash")})


def check_everything_sent(standin: SlackStandIn) -> int:
    """Validate every view and message the bot sent through the stand-in; returns the count."""
    count = 0
    for call in list(standin.calls):
        if call.method in VIEW_METHODS:
            check_view(call.args["view"])
            count += 1
        elif call.method in MESSAGE_METHODS:
            check_message(call.args)
            count += 1
    return count
