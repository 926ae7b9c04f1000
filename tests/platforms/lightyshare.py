"""Lightyshare's token-secured API as documented: Bearer (or legacy ?token=) auth on
lightyshare.com, 401 {"error": "Invalid or missing token", "code": "AUTH_INVALID_TOKEN"},
403 {"error": "Access denied to this resource"}, X-API-Version on every API answer.

In front of the API sits the web server's router: a path it does not route gets its own 404,
with none of the API's headers and whatever token was sent. `route_missing` plays the product
route moved away, so even the verification's request meets the router."""

from __future__ import annotations

import re

from tests.platforms.server import PlatformServer, Request, Response

LIVE = "lsh_live_sk_9f8e7d6c5b4a39281706"
TEST = "lsh_test_sk_0a1b2c3d4e5f60718293"
REVOKED = "lsh_live_sk_revoked000000000000"
# Accepted by this server, but it answers 401 in the older body shape (no "code").
OLD_SHAPE_REJECT = "lsh_live_sk_oldbody00000000000"
API_VERSION = "2025-01-15"
# Products each token's user owns; any other existing id belongs to someone else (403).
OWN_PRODUCT = 4242
OTHER_PRODUCT = 777


ACCOUNT = "pat@plantshop.example"
ROUTER_404 = Response(404, {"error": "Not Found"}, {"Content-Type": "application/json"})


def good_values() -> dict[str, str]:
    return {"token": LIVE, "account": ACCOUNT}


class LightyshareServer(PlatformServer):
    flow_id = "lightyshare"

    def __init__(self) -> None:
        super().__init__()
        # Tests set this to change how an authenticated request for product 0 is answered
        # (e.g. the documented 403, or a web page from a moved route).
        self.missing_product: Response | None = None
        self.route_missing = False

    def rate_limited(self, req: Request) -> Response:
        # Lightyshare documents no rate-limit headers.
        return Response(429, {"error": "Too many requests"})

    def handle(self, req: Request) -> Response:
        if req.host != "lightyshare.com":
            return Response(404, b"<html>unknown host</html>", {"Content-Type": "text/html"})
        m = re.fullmatch(r"/api/token-secured/product/(\d+)", req.path)
        if not m or req.method != "GET" or self.route_missing:
            return ROUTER_404
        auth = req.headers.get("authorization", "")
        tok = auth[7:] if auth.startswith("Bearer ") else (req.query.get("token") or [""])[0]
        if tok == OLD_SHAPE_REJECT:
            return Response(401, {"error": "Invalid or missing token"})
        if tok not in (LIVE, TEST):
            return Response(401, {"error": "Invalid or missing token",
                                  "code": "AUTH_INVALID_TOKEN"})
        headers = {"X-API-Version": API_VERSION}
        product = int(m.group(1))
        if product == OWN_PRODUCT:
            return Response(200, {"product": {"id": product, "title": "Sony FX3", "rent": 90,
                                              "online": True, "quantity": 1}}, headers)
        if product == OTHER_PRODUCT:
            return Response(403, {"error": "Access denied to this resource"}, headers)
        if self.missing_product is not None:
            return self.missing_product
        return Response(404, {"error": "Product not found"}, headers)


def missing_permission_values() -> list[dict[str, str]]:
    """None: Lightyshare does not report what a token may do."""
    return []


SERVER = LightyshareServer
