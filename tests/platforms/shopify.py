"""Shopify's Admin API as documented: the client-credentials grant at
/admin/oauth/access_token (form-encoded, 400 `app_not_installed` / `shop_not_permitted`), tokens
in X-Shopify-Access-Token, shop.json under a dated version, the unversioned access_scopes.json
(a versioned path is a 404), 401 with Shopify's "[API] Invalid API key…" text and its
WWW-Authenticate header, 402 for a frozen shop, 404 for an unknown one, 429 with
`Retry-After: 2.0` and the call-limit header."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

from flows.shopify import API_VERSION
from tests.platforms.server import PlatformServer, Request, Response

SHOP = "plant-shop"
OTHER_SHOP = "other-shop"  # exists, but the app is not installed there
FOREIGN_SHOP = "client-shop"  # owned by another organization than the app's
FROZEN_SHOP = "frozen-shop"

CLIENT_ID = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"
CLIENT_SECRET = "shpss_" + "5f" * 16
# Same organization, an app whose version lacks customers and content.
NARROW_CLIENT_ID = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
NARROW_SECRET = "shpss_" + "7a" * 16
# An app whose scopes only read.
READER_CLIENT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
READER_SECRET = "shpss_" + "3c" * 16
LEGACY_TOKEN = "shpat_" + "c0ffee00" * 4
STOREFRONT_TOKEN = "a3" * 16  # 32 hex characters without a prefix: a Storefront API token

FULL = ("write_products", "write_inventory", "read_locations", "write_customers",
        "write_orders", "write_content", "read_all_orders")


@dataclass(frozen=True)
class App:
    secret: str
    scopes: tuple[str, ...]


APPS = {
    CLIENT_ID: App(CLIENT_SECRET, FULL),
    NARROW_CLIENT_ID: App(NARROW_SECRET, ("write_products", "read_inventory", "read_locations",
                                          "read_orders")),
    READER_CLIENT_ID: App(READER_SECRET, ("read_products", "read_inventory", "read_locations",
                                          "read_customers", "read_orders", "read_content")),
}
INSTALLED = {SHOP: set(APPS), FOREIGN_SHOP: set(APPS)}

SHOP_INFO = {
    "id": 548380009,
    "name": "The Plant Shop",
    "email": "owner@plantshop.example",
    "domain": "plantshop.example",
    "myshopify_domain": f"{SHOP}.myshopify.com",
    "plan_name": "shopify_plus",
    "plan_display_name": "Shopify Plus",
    "currency": "EUR",
}
INVALID = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
CALL_LIMIT = "X-Shopify-Shop-Api-Call-Limit"


def good_values() -> dict[str, str]:
    return {"shop": SHOP, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "access_token": ""}


def legacy_values(token: str = LEGACY_TOKEN) -> dict[str, str]:
    return {"shop": SHOP, "client_id": "", "client_secret": "", "access_token": token}


def alternative_good_values() -> dict[str, str]:
    """The other way in (a legacy token), for the shared per-field paste tests."""
    return legacy_values()


def missing_permission_values() -> list[dict[str, str]]:
    return [{**good_values(), "client_id": NARROW_CLIENT_ID, "client_secret": NARROW_SECRET}]


class ShopifyServer(PlatformServer):
    flow_id = "shopify"

    def __init__(self) -> None:
        super().__init__()
        # token -> (shop, scopes); the legacy token was issued by an admin-made app.
        self.tokens: dict[str, tuple[str, tuple[str, ...]]] = {LEGACY_TOKEN: (SHOP, FULL)}
        self.minted: list[str] = []

    def rate_limited(self, req: Request) -> Response:
        return Response(429, {"errors": "Exceeded 2 calls per second for api client. Reduce "
                                        "request rates to resume uninterrupted service."},
                        {"Retry-After": "2.0", CALL_LIMIT: "40/40"})

    def handle(self, req: Request) -> Response:
        m = re.fullmatch(r"([a-z0-9-]+)\.myshopify\.com", req.host)
        if not m or m.group(1) not in (SHOP, OTHER_SHOP, FOREIGN_SHOP, FROZEN_SHOP):
            return Response(404, {"errors": "Not Found"})
        shop = m.group(1)
        if shop == FROZEN_SHOP:
            return Response(402, {"errors": "Unavailable Shop"})
        if req.path == "/admin/oauth/access_token" and req.method == "POST":
            return self._grant(req, shop)
        entry = self.tokens.get(req.headers.get("x-shopify-access-token", ""))
        if entry is None or entry[0] != shop:
            return Response(401, INVALID,
                            {"WWW-Authenticate": 'Basic Realm="Shopify API Authentication"'})
        headers = {CALL_LIMIT: "1/40"}
        if req.path == f"/admin/api/{API_VERSION}/shop.json" and req.method == "GET":
            return Response(200, {"shop": SHOP_INFO}, headers)
        if req.path == "/admin/oauth/access_scopes.json" and req.method == "GET":
            return Response(200, {"access_scopes": [{"handle": h} for h in entry[1]]}, headers)
        return Response(404, {"errors": "Not Found"}, headers)

    def _grant(self, req: Request, shop: str) -> Response:
        if not req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return Response(400, {"error": "invalid_request"})
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        app = APPS.get(form.get("client_id", ""))
        if form.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type"})
        if app is None or app.secret != form.get("client_secret"):
            return Response(400, {"error": "invalid_client",
                                  "error_description": "Client authentication failed."})
        if shop == FOREIGN_SHOP:
            return Response(400, {"error": "shop_not_permitted", "error_description":
                                  "Client credentials cannot be performed on this shop."})
        if form["client_id"] not in INSTALLED.get(shop, set()):
            return Response(400, {"error": "app_not_installed", "error_description":
                                  "The application is not installed on this shop."})
        minted = "shpat_" + secrets.token_hex(16)
        self.tokens[minted] = (shop, app.scopes)
        self.minted.append(minted)
        return Response(200, json.dumps({"access_token": minted, "scope": ",".join(app.scopes),
                                         "expires_in": 86399}))


SERVER = ShopifyServer
