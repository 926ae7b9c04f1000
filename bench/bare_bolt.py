"""A bare Bolt app: the yardstick getkey is compared with, on the same kind of server.

It does the least a Slack app can: acks `/getkey` with a small ephemeral message; for a modal
submission, acks with a "Verifying…" view, then asks the platform stand-in (one HTTP call, as
getkey's check does) and shows the result with views.update.

    python bench/bare_bolt.py async --port P   # AsyncApp on uvicorn
    python bench/bare_bolt.py sync --port P [--process-before-response]   # App on waitress

Environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL, BENCH_PLATFORM_URL.
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

SITES_PATH = "/site-list/v2/sites/query"
FORM = re.compile(".*")
MESSAGE = {"response_type": "ephemeral", "text": "Hello from a bare Bolt app."}
VERIFYING = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Verifying"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Verifying…"}}],
}


def fields(view: dict[str, Any]) -> tuple[str, str]:
    """(api key, account id) from the submitted state, whatever the block ids."""
    found: list[str] = []
    for block in ((view.get("state") or {}).get("values") or {}).values():
        for element in block.values():
            if isinstance(element, dict) and isinstance(element.get("value"), str):
                found.append(element["value"])
    key = next((v for v in found if v.startswith("IST.")), "")
    account = next((v for v in found if v.count("-") == 4), "")
    return key, account


def result_view(answer: dict[str, Any]) -> dict[str, Any]:
    names = ", ".join(str(s.get("displayName")) for s in answer.get("sites") or [])
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Verified"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"✅ {names}"}}],
    }


def async_app(port: int) -> None:
    import aiohttp
    import uvicorn
    from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(
        client=AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"],
                              base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    )
    session: list[aiohttp.ClientSession] = []

    @app.command("/getkey")
    async def command(ack: AsyncAck) -> None:
        await ack(**MESSAGE)

    @app.view(FORM)
    async def submitted(ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient) -> None:
        await ack(response_action="update", view=VERIFYING)
        if not session:
            session.append(aiohttp.ClientSession())
        key, account = fields(view)
        async with session[0].post(
            os.environ["BENCH_PLATFORM_URL"] + SITES_PATH,
            headers={"Authorization": key, "wix-account-id": account},
            json={"query": {}},
        ) as reply:
            answer = await reply.json()
        await client.views_update(view_id=view["id"], view=result_view(answer))

    uvicorn.run(AsyncSlackRequestHandler(app), host="127.0.0.1", port=port,
                log_level="warning", access_log=False)


def sync_app(port: int, process_before_response: bool) -> None:
    import httpx
    import waitress
    from slack_bolt import Ack, App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    app = App(
        client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=process_before_response,
    )
    http = httpx.Client(trust_env=False)

    @app.command("/getkey")
    def command(ack: Ack) -> None:
        ack(**MESSAGE)

    @app.view(FORM)
    def submitted(ack: Ack, view: dict[str, Any], client: WebClient) -> None:
        ack(response_action="update", view=VERIFYING)
        key, account = fields(view)
        answer = http.post(
            os.environ["BENCH_PLATFORM_URL"] + SITES_PATH,
            headers={"Authorization": key, "wix-account-id": account},
            json={"query": {}},
        ).json()
        client.views_update(view_id=view["id"], view=result_view(answer))

    waitress.serve(SlackRequestHandler(app), host="127.0.0.1", port=port, _quiet=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("async-uvicorn", "sync-waitress", "async", "sync"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--process-before-response", action="store_true")
    args = parser.parse_args()
    if args.kind.startswith("async"):
        async_app(args.port)
    else:
        sync_app(args.port, args.process_before_response)
