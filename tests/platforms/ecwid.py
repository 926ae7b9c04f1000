"""Ecwid's REST API as documented: Bearer token, /api/v3/{storeId}/…, 403 INVALID_API_TOKEN for
a bad token (not 401), 404 STORE_NOT_FOUND, 402 for plans without API access, 429 with
Retry-After, and the token-info endpoint listing the app's permissions."""

from __future__ import annotations

import re

from tests.platforms.server import PlatformServer, Request, Response

STORE_ID = "12345678"
OTHER_STORE_ID = "87654321"
FREE_STORE_ID = "11110000"
SUSPENDED_STORE_ID = "22220000"

SECRET = "secret_EZWiLeBXWsGg82XH3SfSFfdw418QNBBM"
PUBLIC = "public_B6mT2teCE55zT2jAeffLjzNJ4se3gfPj"
# A default custom app: product and order access only, as Ecwid hands them out.
DEFAULT_SECRET = "secret_DefAuLtScoPes0000000000000000"
# Every required permission except read_store_profile, which Ecwid grants anyway.
NO_PROFILE_LISTED_SECRET = "secret_N0Pr0fileListed000000000000000"
OTHER_STORE_SECRET = "secret_0therSt0reT0ken000000000000000"
FREE_SECRET = "secret_FreePlanT0ken00000000000000000"
SUSPENDED_SECRET = "secret_SuspendedT0ken000000000000000"

# The permissions seed 003 lists, as Ecwid names them (kept here independently of the flow).
REQUIRED_SCOPES = (
    "read_customers read_brands create_catalog update_subscriptions read_discount_coupons "
    "create_discount_coupons update_catalog public_storefront customize_cart_calculation "
    "update_discount_coupons delete_staff read_store_limits create_customers read_catalog "
    "update_customers read_orders read_staff add_payment_method create_orders "
    "read_subscriptions update_orders read_store_profile add_shipping_method invite_staff "
    "update_store_profile"
).split()

DEFAULT_SCOPES = ["read_store_profile", "read_catalog", "update_catalog", "create_catalog",
                  "read_orders", "update_orders", "create_orders"]

TOKENS: dict[str, tuple[str, list[str]]] = {
    SECRET: (STORE_ID, [*REQUIRED_SCOPES, "read_invoices"]),
    DEFAULT_SECRET: (STORE_ID, DEFAULT_SCOPES),
    NO_PROFILE_LISTED_SECRET: (STORE_ID, [s for s in REQUIRED_SCOPES
                                          if s != "read_store_profile"]),
    OTHER_STORE_SECRET: (OTHER_STORE_ID, list(REQUIRED_SCOPES)),
    FREE_SECRET: (FREE_STORE_ID, list(REQUIRED_SCOPES)),
    SUSPENDED_SECRET: (SUSPENDED_STORE_ID, list(REQUIRED_SCOPES)),
}
# The public token reads only the storefront: its profile is limited, and it has no
# token-info access.
PUBLIC_TOKENS = {PUBLIC: STORE_ID}

PROFILE = {
    "generalInfo": {"storeId": int(STORE_ID), "storeUrl": "https://plantshop.company.site"},
    "account": {"accountName": "Pat Gardener", "accountEmail": "pat@plantshop.example"},
    "settings": {"storeName": "The Plant Shop", "closed": False},
    "formatsAndUnits": {"currency": "EUR"},
}


def good_values() -> dict[str, str]:
    return {"store_id": STORE_ID, "secret_token": SECRET}


def _error(status: int, code: str, message: str) -> Response:
    return Response(status, {"errorMessage": message, "errorCode": code, "args": {}})


class EcwidServer(PlatformServer):
    flow_id = "ecwid"

    def __init__(self) -> None:
        super().__init__()
        # Ecwid blocks a caller after repeated bad tokens; tests assert it never gets there.
        self.bad_token_calls = 0
        # The token-info endpoint is known only from Ecwid's own client, not its public docs:
        # this switch plays an Ecwid where it does not exist.
        self.token_info_missing = False

    def rate_limited(self, req: Request) -> Response:
        resp = _error(429, "RATE_LIMITED", "Access token of the app will be temporarily blocked")
        resp.headers["Retry-After"] = "20"
        return resp

    def handle(self, req: Request) -> Response:
        if req.host != "app.ecwid.com":
            return Response(404, {"message": "unknown host"})
        m = re.fullmatch(r"/api/v3/([^/]+)(/.*)", req.path)
        if not m or req.method != "GET":
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        store_id, rest = m.groups()
        if store_id not in {entry[0] for entry in TOKENS.values()}:
            return _error(404, "STORE_NOT_FOUND", f"Store {store_id} not found")
        auth = req.headers.get("authorization", "")
        bearer = auth[7:] if auth.startswith("Bearer ") else ""
        if PUBLIC_TOKENS.get(bearer) == store_id:
            if rest == "/profile":
                return Response(200, {"generalInfo": PROFILE["generalInfo"],
                                      "settings": {"storeName": "The Plant Shop"}})
            return _error(403, "INSUFFICIENT_APP_SCOPE", "Public token is not allowed here")
        entry = TOKENS.get(bearer)
        if entry is None or entry[0] != store_id:
            self.bad_token_calls += 1
            if self.bad_token_calls > 20:
                return self.rate_limited(req)
            return _error(403, "INVALID_API_TOKEN", "Invalid access token")
        if store_id == FREE_STORE_ID:
            return _error(402, "NOT_AVAILABLE_ON_CURRENT_PLAN",
                          "API is not available on Free plan")
        if store_id == SUSPENDED_STORE_ID:
            return _error(402, "STORE_IS_SUSPENDED", "Store is suspended")
        if rest == "/profile":
            return Response(200, PROFILE)
        if rest == "/application/token" and not self.token_info_missing:
            return Response(200, {"permissions": entry[1], "created": "2024-03-01 10:00:00 +0000",
                                  "expires": None})
        return _error(404, "NOT_FOUND", "Resource not found")


def missing_permission_values() -> list[dict[str, str]]:
    """Values this stand-in answers as "token works, permissions missing"."""
    return [{"store_id": STORE_ID, "secret_token": DEFAULT_SECRET}]


SERVER = EcwidServer
