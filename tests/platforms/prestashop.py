"""PrestaShop's webservice as its dispatcher and WebserviceRequest answer: the key taken from
Basic auth (or ?ws_key=, which getkey must never use), a bare "401 Unauthorized" when no key
reached PHP, 503 code 22 when the webservice is off (checked before the key), 401 codes 20/21
for an unknown, inactive or permission-less key, 403 code 132 for a key not attached to this
shop, and /api/ listing the key's resources with get/put/post/delete/head attributes, in XML
(the JSON form lists names only)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from tests.platforms.server import PlatformServer, Request, Response

SHOP_HOST = "shop.example.com"
SHOP_URL = f"https://{SHOP_HOST}"
SHOP_NAME = "Maison Fougère"
READ = frozenset({"GET", "HEAD"})
ALL = frozenset({"GET", "PUT", "POST", "DELETE", "HEAD"})
RESOURCES = ("addresses", "categories", "combinations", "customers", "images", "order_details",
             "orders", "products", "stock_availables")


@dataclass
class Key:
    value: str
    permissions: dict[str, frozenset[str]]
    active: bool = True
    shops: set[int] = field(default_factory=lambda: {1})


FULL = Key("GK7WQ2M9XA4RT8BZ3NC6VD1PL5HJ0YEU", dict.fromkeys(RESOURCES, ALL))
READ_ONLY = Key("R3AD0NLYQ9N2ARSHWCXLT74KUKSSK34B", dict.fromkeys(RESOURCES, READ))
NO_ORDERS = Key("N0ORDERSQ9N2ARSHWCXLT74KUKSSK34B",
                {r: READ for r in RESOURCES if r not in ("orders", "order_details", "images")})
NO_PERMISSIONS = Key("N0PERMSXQ9N2ARSHWCXLT74KUKSSK34B", {})
INACTIVE = Key("INACT1VEQ9N2ARSHWCXLT74KUKSSK34B", dict.fromkeys(RESOURCES, ALL), active=False)
OTHER_SHOP = Key("0THERSH0PN2ARSHWCXLT74KUKSSK34BF", dict.fromkeys(RESOURCES, ALL), shops={2})
KEYS = {k.value: k for k in (FULL, READ_ONLY, NO_ORDERS, NO_PERMISSIONS, INACTIVE, OTHER_SHOP)}

_HEADERS = {"Content-Type": "text/xml;charset=utf-8", "PSWS-Version": "8.1.7",
            "X-Powered-By": "PrestaShop Webservice"}
_REALM = ('Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key '
          'as the login. No password required."')


def good_values() -> dict[str, str]:
    return {"shop_url": SHOP_URL, "key": FULL.value}


def missing_permission_values() -> list[dict[str, str]]:
    return [{"shop_url": SHOP_URL, "key": NO_ORDERS.value},
            {"shop_url": SHOP_URL, "key": NO_PERMISSIONS.value}]


def _xml_errors(status: int, *errors: tuple[int, str], headers: dict[str, str] | None = None,
                ) -> Response:
    items = "".join(f"<error>\n<code><![CDATA[{code}]]></code>\n<message><![CDATA[{message}]]>"
                    "</message>\n</error>\n" for code, message in errors)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<prestashop '
            f'xmlns:xlink="http://www.w3.org/1999/xlink">\n<errors>\n{items}</errors>\n'
            "</prestashop>\n")
    return Response(status, body, {**_HEADERS, **(headers or {})})


def _resource_list(key: Key) -> Response:
    base = f"{SHOP_URL}/api/"
    rows = []
    for name in sorted(key.permissions):
        flags = " ".join(f'{m.lower()}="{str(m in key.permissions[name]).lower()}"'
                         for m in ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD"))
        rows.append(f'<{name} xlink:href="{base}{name}" {flags}>\n'
                    f'<description xlink:href="{base}{name}" {flags}>The {name}</description>\n'
                    f'<schema xlink:href="{base}{name}?schema=blank" type="blank"/>\n'
                    f"</{name}>\n")
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<prestashop '
            f'xmlns:xlink="http://www.w3.org/1999/xlink">\n<api shopName="{SHOP_NAME}">\n'
            + "".join(rows) + "</api>\n</prestashop>\n")
    return Response(200, body, _HEADERS)


class PrestaShopServer(PlatformServer):
    flow_id = "prestashop"

    def __init__(self) -> None:
        super().__init__()
        self.enabled = True
        # Apache running PHP as CGI/FastCGI without the documented workaround.
        self.strips_authorization = False
        # A firewall or CDN in front of the shop that turns the request away.
        self.firewall = False

    def rate_limited(self, req: Request) -> Response:
        # PrestaShop itself does not rate-limit; a host or proxy in front of it does.
        return Response(429, b"Too Many Requests", {"Content-Type": "text/plain",
                                                    "Retry-After": "30"})

    def handle(self, req: Request) -> Response:
        if self.firewall:
            return Response(403, b"<html><body>Access denied</body></html>",
                            {"Content-Type": "text/html"})
        if req.host != SHOP_HOST or not re.fullmatch(r"/api/?", req.path):
            return Response(404, b"<html><body>Page not found</body></html>",
                            {"Content-Type": "text/html"})
        key = self._key(req)
        if key is None:  # webservice/dispatcher.php, before anything else
            return Response(401, b"401 Unauthorized", {"Content-Type": "text/html",
                                                       "WWW-Authenticate": _REALM})
        if not self.enabled:
            return _xml_errors(503, (22, "The PrestaShop webservice is disabled. Please "
                                         "activate it in the PrestaShop Back Office"))
        return self._answer(key.strip())

    def _key(self, req: Request) -> str | None:
        header = "" if self.strips_authorization else req.headers.get("authorization", "")
        m = re.match(r"Basic\s+(.*)$", header, re.I)
        if m:
            return base64.b64decode(m.group(1)).decode("utf-8", "replace").split(":")[0]
        return req.query.get("ws_key", [None])[0]

    def _answer(self, value: str) -> Response:
        realm = {"WWW-Authenticate": _REALM}
        if not value:
            return _xml_errors(401, (17, "Authentication key is empty"), headers=realm)
        if len(value) != 32:
            return _xml_errors(401, (18, "Invalid authentication key format"), headers=realm)
        key = KEYS.get(value)
        errors: list[tuple[int, str]] = []
        if key is None or not key.active:
            errors.append((20, "Authentification key is not active"))
        if key is None or not key.active or not key.permissions:
            errors.append((21, "No permission for this authentication key"))
        if errors or key is None:
            return _xml_errors(401, *errors, headers=realm)
        if 1 not in key.shops:
            return _xml_errors(403, (132, "No permission for this key on this shop"))
        return _resource_list(key)


SERVER = PrestaShopServer
