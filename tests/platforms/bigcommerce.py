"""BigCommerce's REST API as documented: X-Auth-Token, store hash in the path, 401 for a token
that is not valid for the store, 403 with "required scope" when a scope is missing, webhooks
readable by every token, v2 lists answering 204 when empty, X-Rate-Limit-* headers."""

from __future__ import annotations

import re

from tests.platforms.server import PlatformServer, Request, Response

HASH = "abc123xyz"
OTHER_HASH = "qrs789tuv"
# A path BigCommerce refuses outright: its docs say a 403 can also mean "URL requested is
# incorrect", which is how a store hash the token cannot reach may show up.
MISROUTED_HASH = "mis0r0ute"
# A store down for maintenance or suspended over billing.
SUSPENDED_HASH = "susp3nd3d"
TOKEN = "k3j9x2m7q8w1e4r6t5y0u9i8o7p6a5s"
# Same store, an API account created without Information & Settings and Marketing.
NO_INFO_TOKEN = "n0inf0scopes7q8w1e4r6t5y0u9i8o7"
# Same store, all required scopes but not Customers or Orders.
NO_CUSTOMERS_TOKEN = "n0cust0mers7q8w1e4r6t5y0u9i8o7p"
OTHER_STORE_TOKEN = "0therst0re2m7q8w1e4r6t5y0u9i8o7"
# Same store, every scope ticked but left at read-only (what a migration out of it needs).
READ_ONLY_TOKEN = "r3ad0nly2m7q8w1e4r6t5y0u9i8o7p6"
CLIENT_ID = "c1i3ntid9x2m7q8w1e4r6t5y0u9i8o7"
CLIENT_SECRET = "9f" * 32

ALL = frozenset({"info", "content", "marketing", "channels", "listings", "products",
                 "customers", "orders"})
TOKENS: dict[str, tuple[str, frozenset[str]]] = {
    TOKEN: (HASH, ALL),
    NO_INFO_TOKEN: (HASH, ALL - {"info", "marketing"}),
    NO_CUSTOMERS_TOKEN: (HASH, ALL - {"customers", "orders"}),
    OTHER_STORE_TOKEN: (OTHER_HASH, ALL),
    READ_ONLY_TOKEN: (HASH, ALL),
}
# Scopes set to Modify; every other granted scope is read-only.
MODIFY: dict[str, frozenset[str]] = {TOKEN: ALL, OTHER_STORE_TOKEN: ALL}
# Write endpoints (method, path after /stores/{hash}) and the scope each needs at Modify.
WRITES: dict[tuple[str, str], str] = {
    ("PUT", "/v3/settings/store/profile"): "info",
    ("POST", "/v3/content/pages"): "content",
    ("POST", "/v2/coupons"): "marketing",
    ("POST", "/v3/channels"): "channels",
    ("POST", "/v3/channels/1/listings"): "listings",
    ("POST", "/v3/catalog/products"): "products",
    ("POST", "/v3/customers"): "customers",
    ("POST", "/v2/orders"): "orders",
}

# Path (after /stores/{hash}) -> scope it needs; None = default scope (every token).
ROUTES: list[tuple[re.Pattern[str], str | None, object]] = [
    (re.compile(r"/v2/store"), "info", None),
    # Pages V3 (the deprecated /v2/pages is not served: a probe there would be a 404).
    (re.compile(r"/v3/content/pages"), "content", {"data": [], "meta": {}}),
    (re.compile(r"/v2/coupons"), "marketing", []),  # empty v2 list -> 204
    (re.compile(r"/v3/channels"), "channels",
     {"data": [{"id": 1, "name": "Plant Shop", "type": "storefront"}], "meta": {}}),
    (re.compile(r"/v3/channels/\d+/listings"), "listings", {"data": [], "meta": {}}),
    (re.compile(r"/v3/catalog/products"), "products",
     {"data": [{"id": 77, "name": "Fern"}], "meta": {}}),
    (re.compile(r"/v3/customers"), "customers", {"data": [], "meta": {}}),
    (re.compile(r"/v2/orders"), "orders", [{"id": 100}]),
    (re.compile(r"/v3/hooks"), None, {"data": [], "meta": {}}),
]

STORE_INFO = {
    "id": HASH,
    "account_uuid": "0b6d1c5e-8a2f-4c7e-9d3b-1f2e3d4c5b6a",
    "domain": "plantshop.example",
    "secure_url": "https://plantshop.example",
    "control_panel_base_url": f"https://store-{HASH}.mybigcommerce.com",
    "status": "live",
    "name": "The Plant Shop",
    "admin_email": "owner@plantshop.example",
    "plan_name": "Standard",
    "plan_level": "Standard",
    "plan_is_trial": False,
    "store_id": 1001234,
    "features": {"stencil_enabled": True},
}

RATE_HEADERS = {
    "X-Rate-Limit-Time-Window-Ms": "30000",
    "X-Rate-Limit-Requests-Quota": "150",
}


def good_values() -> dict[str, str]:
    return {"credentials_file": "", "store_hash": HASH, "access_token": TOKEN}


def credentials_file(token: str = TOKEN, store_hash: str = HASH) -> str:
    """The .txt the pop-up downloads, in the layout BigCommerce documents."""
    return (
        f"ACCESS TOKEN: {token}\n"
        "CLIENT NAME: getkey migration\n"
        f"API PATH: https://api.bigcommerce.com/stores/{store_hash}/v3/\n"
        f"CLIENT ID: {CLIENT_ID}\n"
        f"CLIENT SECRET: {CLIENT_SECRET}\n"
    )


def _v3_error(status: int, title: str) -> dict[str, object]:
    return {"status": status, "title": title,
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": {}}


class BigCommerceServer(PlatformServer):
    flow_id = "bigcommerce"

    def __init__(self) -> None:
        super().__init__()
        self.requests_left = 150
        # Writes that would have changed the store: a verification must never make one.
        self.writes: list[tuple[str, str]] = []

    def rate_limited(self, req: Request) -> Response:
        # BigCommerce tells how long until the 30-second window resets, in milliseconds.
        return Response(429, _v3_error(429, "Too many requests"),
                        {**RATE_HEADERS, "X-Rate-Limit-Time-Reset-Ms": "12500",
                         "X-Rate-Limit-Requests-Left": "0"})

    def handle(self, req: Request) -> Response:
        if req.host != "api.bigcommerce.com":
            return Response(404, {"message": "unknown host"})
        m = re.fullmatch(r"/stores/([^/]+)(/.*)", req.path)
        if not m or (req.method != "GET" and (req.method, m.group(2)) not in WRITES):
            return Response(404, _v3_error(404, "Not Found"))
        store_hash, rest = m.groups()
        if store_hash == MISROUTED_HASH:
            return Response(403, _v3_error(
                403, "Unauthorized Access. You do not have permission to make this request."))
        if store_hash == SUSPENDED_HASH:
            # Maintenance or suspension (billing): BigCommerce answers 503 for the store.
            return Response(503, b"Service Unavailable", {"Content-Type": "text/plain"})
        if store_hash not in (HASH, OTHER_HASH):
            return Response(404, _v3_error(404, "Store not found"))
        self.requests_left -= 1
        headers = {**RATE_HEADERS, "X-Rate-Limit-Time-Reset-Ms": "29000",
                   "X-Rate-Limit-Requests-Left": str(self.requests_left)}
        entry = TOKENS.get(req.headers.get("x-auth-token", ""))
        if entry is None or entry[0] != store_hash:
            return Response(401, _v3_error(
                401, "Unauthorized - the v3 Auth client ID or token in the request are not a "
                "valid combination for this store."), headers)
        if req.headers.get("accept") != "application/json":
            # v2 answers XML unless JSON is asked for.
            return Response(200, b"<?xml version='1.0'?><store/>",
                            {**headers, "Content-Type": "application/xml"})
        scopes = entry[1]
        if req.method != "GET":
            return self._write(req, WRITES[(req.method, rest)], headers)
        for pattern, scope, body in ROUTES:
            if pattern.fullmatch(rest):
                if scope is not None and scope not in scopes:
                    return Response(403, _v3_error(
                        403, "You don't have a required scope to access the endpoint"), headers)
                if scope == "info":
                    return Response(200, STORE_INFO, headers)
                if body == []:
                    return Response(204, b"", headers)
                return Response(200, body, headers)
        return Response(404, _v3_error(404, "Not Found"), headers)


    def _write(self, req: Request, scope: str, headers: dict[str, str]) -> Response:
        token = req.headers.get("x-auth-token", "")
        if scope not in MODIFY.get(token, frozenset()):
            return Response(403, _v3_error(
                403, "You don't have a required scope to access the endpoint"), headers)
        body = req.json() if req.body else None
        if body in ({}, []):
            # Nothing to create or change: validation refuses it, the store is untouched.
            return Response(422, _v3_error(422, "The request payload is not valid"), headers)
        self.writes.append((req.method, req.path))
        return Response(201, {"data": {}, "meta": {}}, headers)


def missing_permission_values() -> list[dict[str, str]]:
    """Values this stand-in answers as "token works, scopes missing"."""
    return [{"credentials_file": "", "store_hash": HASH, "access_token": NO_INFO_TOKEN}]


SERVER = BigCommerceServer
