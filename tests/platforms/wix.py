"""Wix's site list API as documented: Authorization without 'Bearer', wix-account-id, cursor
paging (`cursorPaging.limit` / `.cursor` in, `pagingMetadata.hasNext` / `.cursors.next` out),
at most 1,000 sites in all ("The maximum number of sites that can be retrieved by calling Query
Sites is 1,000"), and the documented `id` filter (`{"id": "…"}` or `{"id": {"$eq": "…"}}`)."""

from __future__ import annotations

import uuid

from tests.platforms.server import PlatformServer, Request, Response

ACCOUNT = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
SITE = "0b9a8c7d-1e2f-4a3b-9c8d-7e6f5a4b3c2d"
KEY = "IST.eyJraWQiOiJQb3pIX2FDMiIsImFsZyI6IlJTMjU2In0.eyJkYXRhIjoie319.c2lnbmF0dXJlLXBhcnQ"
LIMITED_KEY = KEY[:-4] + "LIMT"
# An agency account with 1,050 sites: more than Query Sites will ever list.
BIG_ACCOUNT = "7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
BIG_SITES = [(str(uuid.UUID(int=0xA6E0C7 << 96 | n, version=4)), f"Client shop {n}")
             for n in range(1, 1051)]
MAX_LIMIT = 100
MAX_SITES = 1000


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
        account = req.headers.get("wix-account-id")
        if account not in (ACCOUNT, BIG_ACCOUNT) or auth == LIMITED_KEY:
            return Response(403, {"message": "PERMISSION_DENIED",
                                  "details": {"applicationError": {"code": "PERMISSION_DENIED"}}})
        sites = ([(SITE, "The Plant Shop")] if account == ACCOUNT else BIG_SITES)
        query = (req.json() or {}).get("query") or {}
        wanted = (query.get("filter") or {}).get("id")
        if isinstance(wanted, dict):
            wanted = wanted.get("$eq")
        if wanted is not None:
            sites = [(sid, name) for sid, name in sites if sid == wanted]
        sites = sites[:MAX_SITES]
        paging = query.get("cursorPaging") or {}
        limit = int(paging.get("limit") or 50)
        if not 1 <= limit <= MAX_LIMIT:
            return Response(400, {"message": "INVALID_ARGUMENT"})
        start = int(paging.get("cursor") or 0)
        page = sites[start:start + limit]
        has_next = start + limit < len(sites)
        return Response(200, {
            "sites": [{"id": sid, "name": name.lower().replace(" ", "-"), "displayName": name}
                      for sid, name in page],
            "pagingMetadata": {"count": len(page), "hasNext": has_next,
                               "cursors": {"next": str(start + limit) if has_next else None}},
        })


def missing_permission_values() -> list[dict[str, str]]:
    """Values the platform answers with "authenticated, but lacks a permission": none, since
    Wix does not report a key's permissions."""
    return []


SERVER = WixServer
