"""The OAuth install pages, served on the edge: GET /slack/install and GET
/slack/oauth_redirect, handled by Bolt's OAuth flow (bot.slack.oauth builds it)."""

from __future__ import annotations

from typing import Any

from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.http.edge import Request, Response, Route


def oauth_routes(flow: AsyncOAuthFlow) -> list[Route]:
    """GET /slack/install (the "Add to Slack" page, sets the state cookie) and GET
    /slack/oauth_redirect (Slack sends the installer back here), handled by Bolt's flow."""

    def bolt_request(request: Request) -> AsyncBoltRequest:
        return AsyncBoltRequest(body="", query=request.query_string, headers=request.headers)

    def response(bolt: Any) -> Response:
        headers = [(k, v) for k, values in bolt.headers.items()
                   if k.lower() != "content-length" for v in values]
        body = bolt.body if isinstance(bolt.body, bytes) else (bolt.body or "").encode()
        return Response(bolt.status, body, headers)

    async def install(request: Request) -> Response:
        return response(await flow.handle_installation(bolt_request(request)))

    async def redirect(request: Request) -> Response:
        return response(await flow.handle_callback(bolt_request(request)))

    return [Route(flow.install_path, install, ("GET",), max_body=0),
            Route(flow.redirect_uri_path, redirect, ("GET",), max_body=0)]
