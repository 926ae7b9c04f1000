"""Wix's site list API as documented: Authorization without 'Bearer', wix-account-id."""

from __future__ import annotations

from tests.platforms.server import PlatformServer, Request, Response

ACCOUNT = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
SITE = "0b9a8c7d-1e2f-4a3b-9c8d-7e6f5a4b3c2d"
KEY = "IST.eyJraWQiOiJQb3pIX2FDMiIsImFsZyI6IlJTMjU2In0.eyJkYXRhIjoie319.c2lnbmF0dXJlLXBhcnQ"
LIMITED_KEY = KEY[:-4] + "LIMT"


def good_values() -> dict[str, str]:
    return {"api_key": KEY, "account_id": ACCOUNT, "site_id": ""}


class WixServer(PlatformServer):
    flow_id = "wix"

    def rate_limited(self, req: Request) -> Response:
        # Wix documents no rate-limit headers, only "wait a minute".
        return Response(429, {"message": "Rate limit exceeded",
                              "details": {"applicationError": {"code": "RESOURCE_EXHAUSTED"}}})

    def handle(self, req: Request) -> Response:
        if req.path != "/site-list/v2/sites/query" or req.method != "POST":
            return Response(404, {"message": "Not Found"})
        if req.host != "www.wixapis.com":
            return Response(404, {"message": "unknown host"})
        auth = req.headers.get("authorization", "")
        if auth not in (KEY, LIMITED_KEY):
            return Response(401, {"message": "UNAUTHENTICATED",
                                  "details": {"applicationError": {"code": "UNAUTHENTICATED"}}})
        if req.headers.get("wix-account-id") != ACCOUNT or auth == LIMITED_KEY:
            return Response(403, {"message": "PERMISSION_DENIED",
                                  "details": {"applicationError": {"code": "PERMISSION_DENIED"}}})
        return Response(200, {"sites": [{"id": SITE, "name": "plant-shop",
                                         "displayName": "The Plant Shop"}],
                              "metadata": {"hasNext": False}})


SERVER = WixServer
