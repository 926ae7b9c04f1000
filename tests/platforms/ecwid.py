"""Ecwid's REST API as documented: Bearer token, /api/v3/{storeId}/…, 403 INVALID_API_TOKEN for
a bad token (not 401), 404 STORE_NOT_FOUND, 402 for plans without API access, 429 with
Retry-After, and the token-info endpoint listing the app's permissions.

It also blocks the caller as Ecwid documents (docs.ecwid.com/api-reference): "Ecwid will block
it for much longer after 20 requests per minute or a total of 600 requests with non-working
tokens per IP". Every caller is one address here; once blocked, every request gets 429 for
BLOCK_SECONDS. The clock is injectable so a test can play a day without waiting it."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

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
# Many stores' working tokens for re-check tests: store id -> token, all on STORE_ID's data.
EXTRA_STORES = {str(50_000_000 + n): f"secret_Store{n:04d}Token000000000000000000"
                for n in range(200)}
EXTRA_TOKENS: dict[str, tuple[str, list[str]]] = {
    token: (store, list(REQUIRED_SCOPES)) for store, token in EXTRA_STORES.items()
}
# The public token reads only the storefront: its profile is limited, and it has no
# token-info access.
PUBLIC_TOKENS = {PUBLIC: STORE_ID}

KNOWN_STORES = {entry[0] for entry in TOKENS.values()} | set(EXTRA_STORES)

PROFILE = {
    "generalInfo": {"storeId": int(STORE_ID), "storeUrl": "https://plantshop.company.site"},
    "account": {"accountName": "Pat Gardener", "accountEmail": "pat@plantshop.example"},
    "settings": {"storeName": "The Plant Shop", "closed": False},
    "formatsAndUnits": {"currency": "EUR"},
}


def good_values() -> dict[str, str]:
    return {"store_id": STORE_ID, "secret_token": SECRET}


BAD_PER_MINUTE = 20
BAD_TOTAL = 600
BLOCK_SECONDS = 6 * 3600.0


def _error(status: int, code: str, message: str) -> Response:
    return Response(status, {"errorMessage": message, "errorCode": code, "args": {}})


class EcwidServer(PlatformServer):
    flow_id = "ecwid"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.clock = clock
        self._lock = threading.Lock()
        # Ecwid blocks a caller after repeated bad tokens; tests assert it never gets there.
        self.bad_token_calls = 0
        self.bad_times: list[float] = []
        self.call_times: list[float] = []
        self.blocked_until: float | None = None
        # Tokens that worked once and no longer do (an app uninstalled or changed).
        self.revoked: set[str] = set()
        # The token-info endpoint is known only from Ecwid's own client, not its public docs:
        # this switch plays an Ecwid where it does not exist.
        self.token_info_missing = False

    def forget(self) -> None:
        """A clean slate for the next test on a shared server."""
        with self._lock:
            self.requests.clear()
            self.fault = None
            self.bad_token_calls = 0
            self.bad_times.clear()
            self.call_times.clear()
            self.blocked_until = None
            self.revoked.clear()
            self.token_info_missing = False

    @staticmethod
    def most_in_any_minute(times: list[float]) -> int:
        """The largest number of `times` inside one 60-second window."""
        ordered = sorted(times)
        best, start = 0, 0
        for end, at in enumerate(ordered):
            while ordered[start] <= at - 60.0:
                start += 1
            best = max(best, end - start + 1)
        return best

    def _count_bad(self, now: float) -> bool:
        """Counts one non-working-token call; True when it gets this caller blocked."""
        with self._lock:
            self.bad_token_calls += 1
            self.bad_times.append(now)
            recent = sum(1 for t in self.bad_times if t > now - 60.0)
            if recent > BAD_PER_MINUTE or len(self.bad_times) > BAD_TOTAL:
                self.blocked_until = now + BLOCK_SECONDS
                return True
            return False

    @property
    def blocked(self) -> bool:
        return self.blocked_until is not None and self.clock() < self.blocked_until

    def rate_limited(self, req: Request) -> Response:
        resp = _error(429, "RATE_LIMITED", "Access token of the app will be temporarily blocked")
        resp.headers["Retry-After"] = "20"
        return resp

    def handle(self, req: Request) -> Response:
        now = self.clock()
        with self._lock:
            self.call_times.append(now)
        if self.blocked:
            return self.rate_limited(req)
        if req.host != "app.ecwid.com":
            return Response(404, {"message": "unknown host"})
        m = re.fullmatch(r"/api/v3/([^/]+)(/.*)", req.path)
        if not m or req.method != "GET":
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        store_id, rest = m.groups()
        if store_id not in KNOWN_STORES:
            return _error(404, "STORE_NOT_FOUND", f"Store {store_id} not found")
        auth = req.headers.get("authorization", "")
        bearer = auth[7:] if auth.startswith("Bearer ") else ""
        if PUBLIC_TOKENS.get(bearer) == store_id:
            if rest == "/profile":
                return Response(200, {"generalInfo": PROFILE["generalInfo"],
                                      "settings": {"storeName": "The Plant Shop"}})
            return _error(403, "INSUFFICIENT_APP_SCOPE", "Public token is not allowed here")
        entry = TOKENS.get(bearer) or EXTRA_TOKENS.get(bearer)
        if entry is None or entry[0] != store_id or bearer in self.revoked:
            if self._count_bad(now):
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
