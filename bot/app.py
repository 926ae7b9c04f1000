"""build_app(services) → the Bolt app, with every listener module registered.

Sync `App` with process_before_response=False: the ack is the HTTP response and listeners keep
running afterwards on the listener executor (a verification takes seconds). Bolt's default
executor has 5 threads, which a handful of slow platform checks would exhaust, hence the
configurable pool.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

import bot.listeners
from bot.logs import install_redaction
from bot.services import Services

log = logging.getLogger("bot.requests")


def describe(body: dict[str, Any] | None) -> dict[str, Any]:
    """What a request is, without any value the person typed."""
    body = body or {}
    if "command" in body:
        return {"kind": "command", "target": body.get("command")}
    kind = body.get("type") or "unknown"
    out: dict[str, Any] = {"kind": kind}
    if kind == "block_actions":
        out["target"] = ",".join(str(a.get("action_id")) for a in body.get("actions") or [])
    elif kind in ("view_submission", "view_closed"):
        out["target"] = (body.get("view") or {}).get("callback_id")
    elif kind == "event_callback":
        out["target"] = (body.get("event") or {}).get("type")
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    if team:
        out["team"] = team
    if user:
        out["user"] = user
    return out


class GetkeyApp(App):
    """Bolt's App plus one structured log line per request (HTTP and Socket Mode alike)."""

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        resp = super().dispatch(req)
        info = describe(req.body)
        if "command" in (req.body or {}):
            info.update(team=req.body.get("team_id"), user=req.body.get("user_id"))
        retry = (req.headers.get("x-slack-retry-num") or [None])[0]
        log.info(
            "slack request",
            extra={
                **info,
                "status": resp.status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                **({"retry": retry} if retry else {}),
            },
        )
        return resp


def listener_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules(bot.listeners.__path__)
        if not info.name.startswith("_")
    )


def build_app(services: Services, *, token_verification: bool = True) -> App:
    install_redaction()
    settings = services.settings
    signing_secret = settings.secret("slack_signing_secret")
    app = GetkeyApp(
        name="getkey",
        client=services.client,
        signing_secret=signing_secret,
        # Socket Mode payloads arrive over an authenticated websocket and carry no signature.
        request_verification_enabled=bool(signing_secret),
        token_verification_enabled=token_verification,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(
            max_workers=settings.getkey_listener_threads, thread_name_prefix="getkey-listener"
        ),
    )

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        # Type only: exception texts can quote request or response bodies.
        log.error("listener failed", extra={**describe(body), "error": type(error).__name__})

    for name in listener_modules():
        module = importlib.import_module(f"bot.listeners.{name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app, services)
    return app
