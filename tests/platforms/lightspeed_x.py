"""Lightspeed X-Series as documented: one host per store (<prefix>.retail.lightspeed.app, read
from the Host header), Bearer personal tokens scoped to one store, the 2.0 retailer endpoint
wrapped in `data`, and 429s whose Retry-After is an HTTP date."""

from __future__ import annotations

from email.utils import formatdate
from time import time

from tests.platforms.server import PlatformServer, Request, Response

DOMAIN = ".retail.lightspeed.app"
PREFIX = "plantshop"
TOKEN = "lsxs_pt_MxoU8IdsQ3rT7yWb2nK5vH9cZ1aL4eGj"
OTHER_PREFIX = "toolshop"
OTHER_TOKEN = "lsxs_pt_Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp"
SUSPENDED_PREFIX = "closedshop"
SUSPENDED_TOKEN = "lsxs_pt_Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0Kk"

STORES = {
    PREFIX: (TOKEN, "The Plant Shop", "active"),
    OTHER_PREFIX: (OTHER_TOKEN, "Tool Shop", "active"),
    SUSPENDED_PREFIX: (SUSPENDED_TOKEN, "Closed Shop", "suspended"),
}


def good_values() -> dict[str, str]:
    return {"domain_prefix": PREFIX, "token": TOKEN, "expires_on": ""}


class LightspeedXServer(PlatformServer):
    flow_id = "lightspeed-x"

    def rate_limited(self, req: Request) -> Response:
        return Response(429, {"error": "Too Many Requests", "message": "Rate limiting enforced"},
                        {"Retry-After": formatdate(time() + 20, usegmt=True),
                         "X-RateLimit-Limit": "350", "X-RateLimit-Remaining": "0"})

    def handle(self, req: Request) -> Response:
        host = req.host.split(":")[0]
        prefix = host[: -len(DOMAIN)] if host.endswith(DOMAIN) else ""
        store = STORES.get(prefix)
        if store is None:
            return Response(404, {"error": "Not Found", "message": "Store not found"})
        if req.path != "/api/2.0/retailer" or req.method != "GET":
            return Response(404, {"error": "Not Found"})
        token, name, status = store
        if req.headers.get("authorization") != f"Bearer {token}":
            return Response(401, {"error": "Unauthorized",
                                  "message": "The access token is invalid or has expired"})
        if status != "active":
            return Response(403, {"error": "Forbidden", "message": "Account is not active"})
        return Response(200, {"data": {
            "id": "0adfd74a-153e-11e9-fa42-67b5781ba1fb", "name": name, "domain_prefix": prefix,
            "currency": "NZD", "country": "NZ", "account_status": status,
            "created_at": "2019-01-10T23:02:01+00:00",
        }}, {"X-RateLimit-Limit": "350", "X-RateLimit-Remaining": "349"})


def missing_permission_values() -> list[dict[str, str]]:
    """None: personal tokens carry admin-level access, there is nothing to lack."""
    return []


SERVER = LightspeedXServer
