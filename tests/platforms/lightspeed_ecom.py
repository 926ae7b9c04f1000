"""Lightspeed eCom as documented: Basic auth key:secret, /{lang}/{resource}.json on two cluster
hosts, errors as {"error": {"code", "message"}}, rate limits per key in three windows."""

from __future__ import annotations

import base64

from tests.platforms.server import PlatformServer, Request, Response

EU_HOST = "api.webshopapp.com"
US_HOST = "api.shoplightspeed.com"

KEY = "3f2a9c1e7b8d4a6f0e5c2b1a9d8e7f6a"
SECRET = "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
# A key that may read only products and content.
PARTIAL_KEY = "5a5a5a5a1b1b1b1b2c2c2c2c3d3d3d3d"
# A key with every area switched off.
NOTHING_KEY = "6e6e6e6e7f7f7f7f8a8a8a8a9b9b9b9b"
# A key whose permission list names only some areas (the others left out of the answer).
UNLISTED_KEY = "7c7c7c7c8d8d8d8d9e9e9e9eafafafaf"
# A key set to Read and Write on every area (for importing into the shop).
WRITE_KEY = "8d8d8d8d9e9e9e9eafafafafb0b0b0b0"
# A key that exists on the US cluster only.
US_KEY = "0c0c0c0c1d1d1d1d2e2e2e2e3f3f3f3f"

# key -> (host, active languages, readable areas)
ACCOUNTS: dict[str, tuple[str, tuple[str, ...], frozenset[str]]] = {
    KEY: (EU_HOST, ("nl", "en", "en-gb"), frozenset(
        {"content", "products", "customers", "orders", "settings", "tracking"})),
    PARTIAL_KEY: (EU_HOST, ("nl", "en"), frozenset({"content", "products"})),
    NOTHING_KEY: (EU_HOST, ("nl",), frozenset()),
    UNLISTED_KEY: (EU_HOST, ("nl",), frozenset(
        {"content", "products", "customers", "orders", "settings", "tracking"})),
    WRITE_KEY: (EU_HOST, ("nl", "en"), frozenset(
        {"content", "products", "customers", "orders", "settings", "tracking"})),
    US_KEY: (US_HOST, ("us",), frozenset(
        {"content", "products", "customers", "orders", "settings", "tracking"})),
}
AREAS = ("content", "products", "customers", "orders", "settings", "tracking")
# Areas each key may also write; every other key is read-only.
WRITABLE: dict[str, frozenset[str]] = {WRITE_KEY: frozenset(AREAS)}
LIMIT_HEADERS = {
    "X-RateLimit-Limit": "300/3000/12000",
    "X-RateLimit-Remaining": "299/2999/11999",
    "X-RateLimit-Reset": "263/2063/23663",
}


def good_values() -> dict[str, str]:
    return {"api_key": KEY, "api_secret": SECRET, "cluster": "eu1", "language": "nl"}


def _error(code: int, message: str, req: Request) -> Response:
    return Response(code, {"error": {"code": code, "method": req.method,
                                     "request": req.path, "message": message}})


# Areas UNLISTED_KEY's permission answer names; the rest are simply absent.
UNLISTED_AREAS = ("content", "products", "orders")


class LightspeedEcomServer(PlatformServer):
    flow_id = "lightspeed-ecom"

    def __init__(self) -> None:
        super().__init__()
        # The 429's headers: Retry-After (as the clients read it) and the three windows'
        # slash-separated counts. Tests replace them to play an exhausted hourly window or a
        # reset given as a Unix time.
        self.limit_headers: dict[str, str] = {
            "Retry-After": "42", "X-RateLimit-Limit": "300/3000/12000",
            "X-RateLimit-Remaining": "0/2700/11700", "X-RateLimit-Reset": "42/1800/20000",
        }

    def rate_limited(self, req: Request) -> Response:
        return Response(429, {"error": {"code": 429, "message": "Too many requests."}},
                        dict(self.limit_headers))

    def _credentials(self, req: Request) -> tuple[str, str] | None:
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password

    def handle(self, req: Request) -> Response:
        if req.host not in (EU_HOST, US_HOST) or req.method != "GET":
            return Response(404, {"error": {"code": 404, "message": "Not found."}})
        creds = self._credentials(req)
        account = ACCOUNTS.get(creds[0]) if creds else None
        if not creds or account is None or creds[1] != SECRET or account[0] != req.host:
            return _error(401, "Access denied.", req)
        _, languages, readable = account
        lang, _, resource = req.path.lstrip("/").partition("/")
        if lang not in languages:
            return _error(404, "Unknown or inactive language.", req)
        if resource == "account.json":
            return Response(200, {"account": {
                "id": 4242, "appId": False, "apiKey": creds[0],
                "signout": {"resource": {"id": False, "url": "account/signout",
                                         "link": f"https://{req.host}/{lang}/account/signout.json"}},
            }}, LIMIT_HEADERS)
        if resource == "account/permissions.json":
            listed = UNLISTED_AREAS if creds[0] == UNLISTED_KEY else AREAS
            return Response(200, {"accountPermissions": {
                area: {"read": area in readable,
                       "write": area in WRITABLE.get(creds[0], frozenset())}
                for area in listed
            }}, LIMIT_HEADERS)
        if resource == "shop.json":
            if "settings" not in readable:
                return _error(403, "Permission denied.", req)
            return Response(200, {"shop": {
                "id": 4242, "status": "live", "subDomain": "plantshop",
                "mainDomain": "www.plantshop.nl", "email": "hello@plantshop.nl",
            }}, LIMIT_HEADERS)
        return _error(404, "Not found.", req)


def missing_permission_values() -> list[dict[str, str]]:
    """Values this stand-in answers as "key works, areas without Read"."""
    return [{**good_values(), "api_key": key} for key in (NOTHING_KEY, PARTIAL_KEY)]


SERVER = LightspeedEcomServer
