"""Loopback stand-ins for the benchmarks, in their own process, on one asyncio loop so that
hundreds of simultaneous calls cost them next to nothing:

- Slack's Web API: answers every method the bot calls at once (`ok: true` with the fields it
  reads), accepts any view id, records what the benchmarks measure: calls per method, when
  each chat.postMessage arrived, when each view first showed a verified result.
- A platform (Wix's site list), answering correctly after --platform-delay seconds.

Control (for the benchmark process): GET /_bench/stats, /_bench/reset,
/_bench/opened?trigger_id=… (the modal views.open created for that trigger).
Timestamps are time.monotonic() (system-wide on Linux, so comparable with the caller's).

    python bench/standins.py --slack-port P --platform-port Q [--platform-delay 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

# What the platform stand-in calls the store: a result view that shows it is a verified result.
STORE_MARKER = "Bench Plant Shop"
WIX_KEY = "IST.eyJraWQiOiJQb3pIX2FDMiIsImFsZyI6IlJTMjU2In0.eyJkYXRhIjoie319.c2lnbmF0dXJlLXBhcnQ"
WIX_ACCOUNT = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
WIX_SITE = "0b9a8c7d-1e2f-4a3b-9c8d-7e6f5a4b3c2d"


class Slack:
    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.posted_at: list[float] = []
        # Slack takes about one message a second per conversation: the last post to each DM
        # (a user id and its D… channel are one conversation) and how many came sooner.
        self.last_in: dict[str, float] = {}
        self.too_soon = 0
        self.results: dict[str, float] = {}  # view_id -> first views.update with a result
        self.updates: Counter[str] = Counter()  # view_id -> views.update calls
        self.opened: dict[str, dict[str, Any]] = {}  # trigger_id -> view as opened

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.read()
        args: dict[str, Any] = dict(request.query)
        if raw:
            if "json" in (request.content_type or ""):
                try:
                    data = json.loads(raw)
                    args.update(data if isinstance(data, dict) else {})
                except ValueError:
                    pass
            else:
                args.update(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
        self.counts[method] += 1
        answer = self.answer(method, args, raw)
        if not answer.get("ok"):
            self.errors[f"{method}:{answer.get('error')}"] += 1
        return web.json_response(answer)

    def answer(self, method: str, args: dict[str, Any], raw: bytes) -> dict[str, Any]:
        now = time.monotonic()
        if method == "auth.test":
            return {"ok": True, "url": "https://bench.slack.com/", "team": "Bench",
                    "user": "getkey", "team_id": "T0BENCH01", "user_id": "U0BOTUSER",
                    "bot_id": "B0BENCH01", "is_enterprise_install": False}
        if method == "chat.postMessage":
            self.posted_at.append(now)
            channel = str(args.get("channel") or "D0")
            if channel[:1] in ("U", "W"):
                channel = "D" + channel[1:]
            last = self.last_in.get(channel)
            # A little slack for the two processes' clocks and the transport.
            if last is not None and now - last < 0.95:
                self.too_soon += 1
            self.last_in[channel] = now
            ts = f"{time.time():.6f}"
            return {"ok": True, "channel": channel, "ts": ts,
                    "message": {"text": "", "ts": ts}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{time.time():.6f}"}
        if method == "conversations.open":
            users = str(args.get("users") or "U0")
            return {"ok": True, "channel": {"id": "D" + users.split(",")[0][1:]}}
        if method == "users.info":
            user = str(args.get("user") or "U0")
            return {"ok": True, "user": {"id": user, "team_id": "T0BENCH01", "name": user.lower(),
                                         "real_name": "Bench Person", "tz": "Europe/Paris",
                                         "tz_offset": 3600, "is_bot": False,
                                         "deleted": False}}
        if method in ("views.open", "views.push", "views.update", "views.publish"):
            view = args.get("view")
            if isinstance(view, str):
                try:
                    view = json.loads(view)
                except ValueError:
                    view = None
            if not isinstance(view, dict):
                return {"ok": False, "error": "invalid_arguments"}
            view_id = str(args.get("view_id") or f"V{next(self.ids):08d}")
            full = {**view, "id": view_id, "hash": f"h{next(self.ids):08d}"}
            if method == "views.open" and args.get("trigger_id"):
                self.opened[str(args["trigger_id"])] = full
            if method == "views.update":
                self.updates[view_id] += 1
                if view_id not in self.results and STORE_MARKER.encode() in raw:
                    self.results[view_id] = now
            return {"ok": True, "view": full}
        return {"ok": True}

    async def response_url(self, request: web.Request) -> web.Response:
        await request.read()
        self.counts["response_url"] += 1
        return web.json_response({"ok": True})

    async def control(self, request: web.Request) -> web.Response:
        what = request.match_info["what"]
        if what == "reset":
            self.reset()
            return web.json_response({"ok": True})
        if what == "opened":
            view = self.opened.get(request.query.get("trigger_id", ""))
            return web.json_response({"ok": view is not None, "view": view})
        if what == "stats":
            return web.json_response(
                {
                    "counts": dict(self.counts),
                    "errors": dict(self.errors),
                    "posted_at": self.posted_at if request.query.get("posted") else [],
                    "posted": len(self.posted_at),
                    "too_soon": self.too_soon,
                    "first_post": self.posted_at[0] if self.posted_at else None,
                    "last_post": self.posted_at[-1] if self.posted_at else None,
                    "results": self.results if request.query.get("results") else {},
                    "result_count": len(self.results),
                    "updates": sum(self.updates.values()),
                }
            )
        raise web.HTTPNotFound()


class Platform:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls = 0

    async def sites(self, request: web.Request) -> web.Response:
        await request.read()
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.headers.get("Authorization") != WIX_KEY:
            return web.json_response({"message": "UNAUTHENTICATED"}, status=401)
        if request.headers.get("wix-account-id") != WIX_ACCOUNT:
            return web.json_response({"message": "PERMISSION_DENIED"}, status=403)
        return web.json_response(
            {"sites": [{"id": WIX_SITE, "name": "bench", "displayName": STORE_MARKER}],
             "metadata": {"hasNext": False}}
        )

    async def root(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "calls": self.calls})


async def main(args: argparse.Namespace) -> None:
    slack, platform = Slack(), Platform(args.platform_delay)
    slack_app = web.Application(client_max_size=8 * 1024 * 1024)
    slack_app.router.add_post("/api/{method}", slack.api)
    slack_app.router.add_get("/api/{method}", slack.api)
    slack_app.router.add_post("/response/{rest:.*}", slack.response_url)
    slack_app.router.add_get("/_bench/{what}", slack.control)
    platform_app = web.Application()
    platform_app.router.add_post("/site-list/v2/sites/query", platform.sites)
    platform_app.router.add_get("/", platform.root)
    runners = []
    for app, port in ((slack_app, args.slack_port), (platform_app, args.platform_port)):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
        runners.append(runner)
    print(f"stand-ins ready: slack {args.slack_port}, platform {args.platform_port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slack-port", type=int, required=True)
    parser.add_argument("--platform-port", type=int, required=True)
    parser.add_argument("--platform-delay", type=float, default=0.0)
    asyncio.run(main(parser.parse_args()))
