"""Magento 2's REST API as its source answers: routes matched before authentication (404
"Request does not match any route."), OAuth 1.0a checked in Magento's order (consumer key,
nonce and timestamp, token, then the HMAC-SHA256 signature over scheme://host[:port]/path plus
the oauth_* and query parameters), bearer use of an access token only when the store allows it,
and 401 "The consumer isn't authorized to access %resources." for a route whose ACL resource
the caller lacks, guests included.

The signature is checked here with code of its own, written after Magento's
`Helper\\Signature\\Hmac` (PHP's ksort and rawurlencode), not with flows.oauth1, so that a
mistake shared by the signer and the checker cannot pass unnoticed. The URL checked is the one
the request actually reached (this server's own address), as Magento computes it from the
request it receives.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote, unquote

from tests.platforms.server import PlatformServer, Request, Response

STORE_HOST = "shop.example.com"
STORE_URL = f"https://{STORE_HOST}"

ALL = frozenset({"Magento_Backend::store", "Magento_Catalog::products",
                 "Magento_Catalog::categories", "Magento_Customer::customer",
                 "Magento_Sales::actions_view"})


def _v(seed: str) -> str:
    """A 32-character value of digits and lower-case letters, as Magento generates them."""
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


class Integration:
    def __init__(self, name: str, resources: frozenset[str], *, revoked: bool = False) -> None:
        self.consumer_key, self.consumer_secret = _v(name + "ck"), _v(name + "cs")
        self.token, self.token_secret = _v(name + "at"), _v(name + "ts")
        self.resources = resources
        self.revoked = revoked

    def values(self) -> dict[str, str]:
        return {"store_url": STORE_URL, "consumer_key": self.consumer_key,
                "consumer_secret": self.consumer_secret, "access_token": self.token,
                "access_token_secret": self.token_secret}


FULL = Integration("full", ALL)
NO_CATALOG = Integration("nocatalog", ALL - {"Magento_Catalog::products",
                                             "Magento_Catalog::categories"})
NO_STORES = Integration("nostores", ALL - {"Magento_Backend::store"})
NO_SALES = Integration("nosales", ALL - {"Magento_Customer::customer",
                                         "Magento_Sales::actions_view"})
NOTHING_TICKED = Integration("nothing", frozenset())
REVOKED = Integration("revoked", ALL, revoked=True)
OTHER = Integration("other", ALL)
INTEGRATIONS = (FULL, NO_CATALOG, NO_STORES, NO_SALES, NOTHING_TICKED, REVOKED, OTHER)

STORE_CONFIGS = [
    {"id": 1, "code": "default", "website_id": 1, "locale": "en_US",
     "base_currency_code": "USD", "default_display_currency_code": "USD",
     "timezone": "America/Chicago", "weight_unit": "lbs",
     "base_url": f"http://{STORE_HOST}/", "base_link_url": f"http://{STORE_HOST}/",
     "base_static_url": f"http://{STORE_HOST}/static/",
     "base_media_url": f"http://{STORE_HOST}/media/",
     "secure_base_url": f"{STORE_URL}/", "secure_base_link_url": f"{STORE_URL}/",
     "secure_base_static_url": f"{STORE_URL}/static/",
     "secure_base_media_url": f"{STORE_URL}/media/"},
    {"id": 2, "code": "fr", "website_id": 1, "locale": "fr_FR",
     "base_currency_code": "USD", "default_display_currency_code": "EUR",
     "timezone": "Europe/Paris", "weight_unit": "kgs",
     "base_url": f"http://{STORE_HOST}/fr/", "secure_base_url": f"{STORE_URL}/fr/"},
]
_LIST = {"items": [], "search_criteria": {"filter_groups": [], "page_size": 1}, "total_count": 0}
# Route (after /rest/V1) -> ACL resource and body, as in each module's webapi.xml.
ROUTES: dict[str, tuple[str, object]] = {
    "/store/storeConfigs": ("Magento_Backend::store", STORE_CONFIGS),
    "/products": ("Magento_Catalog::products",
                  {**_LIST, "items": [{"id": 1, "sku": "fern", "name": "Fern"}], "total_count": 1}),
    "/categories/list": ("Magento_Catalog::categories", _LIST),
    "/customers/search": ("Magento_Customer::customer", _LIST),
    "/orders": ("Magento_Sales::actions_view", _LIST),
}
DENIED = "The consumer isn't authorized to access %resources."


def _raw(value: str) -> str:
    return quote(value, safe="-_.~")  # PHP's rawurlencode


def magento_signature(url: str, query: dict[str, list[str]], params: dict[str, str],
                      consumer_secret: str, token_secret: str, method: str) -> str:
    """Helper\\Signature\\Hmac::sign, step by step: `url` is scheme://host[:port]/path."""
    merged = dict(params)
    merged.update({name: values[-1] for name, values in query.items()})
    normalized = "&".join(f"{_raw(k)}={_raw(v)}" for k, v in sorted(merged.items())
                          if k != "oauth_signature")
    base = f"{method.upper()}&{_raw(url)}&{_raw(normalized)}"
    key = f"{_raw(consumer_secret)}&{_raw(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()


def _oauth_params(header: str) -> dict[str, str]:
    """Request::_processHeader: everything after "OAuth ", oauth_* pairs, quotes trimmed."""
    found: dict[str, str] = {}
    for item in header[header.lower().index("oauth ") + 6:].split(","):
        name, sep, value = item.strip().partition("=")
        if sep and name.startswith("oauth_"):
            found[unquote(name)] = unquote(value.strip('"'))
    return found


def _error(status: int, message: str, **parameters: str) -> Response:
    return Response(status, {"message": message, "parameters": parameters or []})


def good_values() -> dict[str, str]:
    return FULL.values()


def missing_permission_values() -> list[dict[str, str]]:
    return [NO_CATALOG.values()]


class MagentoServer(PlatformServer):
    flow_id = "magento"

    def __init__(self) -> None:
        super().__init__()
        self.bearer_allowed = False
        self.nonces: set[tuple[str, str]] = set()
        # A staging site behind its own HTTP password, before Magento sees anything.
        self.password_protected = False
        # Adobe's OAuth error table gives 403 for "permission_denied"; the source answers 401.
        self.denied_status = 401

    def rate_limited(self, req: Request) -> Response:
        # Adobe's rate-limiting page: 429 with this body and no Retry-After.
        return Response(429, {"message": "Too Many Requests", "trace": None},
                        {"Pragma": "no-cache", "Cache-Control": "no-store"})

    def handle(self, req: Request) -> Response:
        if self.password_protected:
            return Response(401, b"<html><title>401 Unauthorized</title></html>",
                            {"Content-Type": "text/html",
                             "WWW-Authenticate": 'Basic realm="Staging"'})
        if req.host != STORE_HOST:
            return Response(404, b"<html>Unknown site</html>", {"Content-Type": "text/html"})
        if not req.path.startswith("/rest/V1/") or req.method != "GET":
            return Response(404, b"<html>404 Not Found</html>", {"Content-Type": "text/html"})
        route = ROUTES.get(req.path[len("/rest/V1"):])
        if route is None:
            return _error(404, "Request does not match any route.")
        acl, body = route
        caller = self._authenticate(req)
        if isinstance(caller, Response):
            return caller
        if caller is None or acl not in caller.resources:
            return _error(self.denied_status, DENIED, resources=acl)
        return Response(200, body)

    def _authenticate(self, req: Request) -> Integration | Response | None:
        header = req.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
            found = next((i for i in INTEGRATIONS if i.token == token and not i.revoked), None)
            return found if self.bearer_allowed else None  # a guest, when not allowed
        if "oauth " not in header.lower():
            return None
        return self._oauth(req, _oauth_params(header))

    def _oauth(self, req: Request, params: dict[str, str]) -> Integration | Response:
        required = ("oauth_consumer_key", "oauth_signature", "oauth_signature_method",
                    "oauth_nonce", "oauth_timestamp", "oauth_token")
        absent = [p for p in required if p not in params]
        if absent:
            return _error(400, f'"{absent[0]}" is required. Enter and try again.')
        if params["oauth_signature_method"] != "HMAC-SHA256":
            return _error(400, f"Signature method {params['oauth_signature_method']} "
                               "is not supported")
        key = params["oauth_consumer_key"]
        if len(key) != 32:
            return _error(401, "Consumer key is not the correct length")
        consumer = next((i for i in INTEGRATIONS if i.consumer_key == key), None)
        if consumer is None:
            return _error(401, "A consumer having the specified key does not exist")
        if not 0 < int(params["oauth_timestamp"] or 0) <= time.time() + 600:
            return _error(400, "Incorrect timestamp value in the oauth_timestamp parameter")
        if (key, params["oauth_nonce"]) in self.nonces:
            return _error(401, "The nonce is already being used by the consumer with ID 7")
        self.nonces.add((key, params["oauth_nonce"]))
        owner = next((i for i in INTEGRATIONS if i.token == params["oauth_token"]), None)
        if len(params["oauth_token"]) != 32:
            return _error(401, "The token length is invalid. Check the length and try again.")
        if owner is None:
            return _error(401, "Specified token does not exist")
        if owner is not consumer:
            return _error(401, "Token is not associated with the specified consumer")
        if owner.revoked:
            return _error(401, "Access token has been revoked")
        # The URL this request actually reached: this server's own scheme, host and port.
        expected = magento_signature(self.url + req.path, req.query, params,
                                     consumer.consumer_secret, owner.token_secret, req.method)
        if not hmac.compare_digest(expected, params["oauth_signature"]):
            return _error(401, "The signature is invalid. Verify and try again.")
        return owner


SERVER = MagentoServer
