"""WooCommerce on WordPress, as WooCommerce's authentication class and WordPress's REST server
answer: Basic auth ck:cs (over HTTPS), 401 "Consumer secret is invalid." for a known key with a
wrong secret, an unknown key (or one whose user was deleted) left unauthenticated so the route
says 401 `woocommerce_rest_cannot_view`, 403 for a signed-in user without manage_woocommerce,
the key's read/write permission checked before routing, `rest_no_route` for a method or route
that does not exist, the REST index needing no key, and sites with Plain permalinks: there
/wp-json/ is a 404 or the home page, and only `?rest_route=` reaches the API (where WooCommerce
before 11.1 ignores keys)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from tests.platforms.server import PlatformServer, Request, Response

SHOP_HOST = "shop.example.com"
STORE_URL = f"https://{SHOP_HOST}"
FOLDER_HOST = "example.org"  # WordPress installed in /shop
PLAIN_HOST = "plain.example.com"  # Plain permalinks, WooCommerce 11.1+: 404 on /wp-json/
OLD_PLAIN_HOST = "oldplain.example.com"  # Plain, older WooCommerce; /wp-json/ shows the home page
BLOG_HOST = "blog.example.com"  # WordPress without WooCommerce
SITE_NAME = "Maison Fougère"


@dataclass(frozen=True)
class Site:
    plain: bool = False
    woocommerce: bool = True
    keys_on_rest_route: bool = True
    folder: str = ""
    plain_wp_json_status: int = 404


SITES = {
    SHOP_HOST: Site(),
    FOLDER_HOST: Site(folder="/shop"),
    PLAIN_HOST: Site(plain=True),
    OLD_PLAIN_HOST: Site(plain=True, keys_on_rest_route=False, plain_wp_json_status=200),
    BLOG_HOST: Site(woocommerce=False),
}


@dataclass(frozen=True)
class Key:
    key: str
    secret: str
    permissions: str  # read, write or read_write, as WooCommerce stores them
    role: str | None  # None: the WordPress user was deleted


def _key(n: str, permissions: str, role: str | None) -> Key:
    return Key("ck_" + (n * 40)[:40], "cs_" + (n[::-1] * 40)[:40], permissions, role)


READ_WRITE = _key("4f1c", "read_write", "administrator")
READ_ONLY = _key("9a0b", "read", "shop_manager")
WRITE_ONLY = _key("7e2d", "write", "administrator")
CUSTOMER = _key("3c5e", "read_write", "customer")
ORPHAN = _key("b6a8", "read_write", None)
KEYS = {k.key: k for k in (READ_WRITE, READ_ONLY, WRITE_ONLY, CUSTOMER, ORPHAN)}

HOME_PAGE = b"<!DOCTYPE html><html><head><title>Maison Foug\xc3\xa8re</title></head></html>"
_HTML = {"Content-Type": "text/html; charset=UTF-8"}
_REALM = ('Basic realm="WooCommerce API. Use a consumer key in the username field and a '
          'consumer secret in the password field."')


def good_values(host: str = SHOP_HOST, key: Key = READ_WRITE) -> dict[str, str]:
    return {"store_url": f"https://{host}", "consumer_key": key.key,
            "consumer_secret": key.secret}


def missing_permission_values() -> list[dict[str, str]]:
    return [good_values(key=WRITE_ONLY), good_values(key=CUSTOMER)]


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None,
           ) -> Response:
    return Response(status, {"code": code, "message": message, "data": {"status": status}},
                    headers or {})


def _status_report(host: str, site: Site) -> dict[str, object]:
    home = f"https://{host}{site.folder}"
    return {"environment": {"home_url": home, "site_url": home, "version": "9.4.2",
                            "wp_version": "6.7.1", "secure_connection": True},
            "database": {"wc_database_version": "9.4.2"}, "active_plugins": [],
            "settings": {"currency": "EUR"}, "security": {"secure_connection": True}}


class WooCommerceServer(PlatformServer):
    flow_id = "woocommerce"

    def handle(self, req: Request) -> Response:
        site = SITES.get(req.host)
        if site is None or not req.path.startswith(site.folder + "/"):
            return Response(404, b"<html><body>Not Found</body></html>", _HTML)
        path = req.path[len(site.folder):]
        if path.startswith("/wp-json"):
            if site.plain:
                return Response(site.plain_wp_json_status, HOME_PAGE, _HTML)
            return self._rest(req, site, path[len("/wp-json"):] or "/", via_query=False)
        if path == "/" and "rest_route" in req.query:
            return self._rest(req, site, req.query["rest_route"][0], via_query=True)
        return Response(200, HOME_PAGE, _HTML)

    def _rest(self, req: Request, site: Site, route: str, via_query: bool) -> Response:
        route = "/" + route.strip("/")
        if route == "/":
            namespaces = ["oembed/1.0", "wp/v2"] + (["wc/v3"] if site.woocommerce else [])
            return Response(200, {"name": SITE_NAME, "description": "Ferns and mosses",
                                  "url": f"https://{req.host}{site.folder}",
                                  "namespaces": namespaces})
        role = None
        key = None
        honours_keys = site.woocommerce and (not via_query or site.keys_on_rest_route)
        if honours_keys and route.startswith("/wc/"):
            key, wrong_secret = self._authenticate(req)
            if wrong_secret:
                return _error(401, "woocommerce_rest_authentication_error",
                              "Consumer secret is invalid.", {"WWW-Authenticate": _REALM})
            role = key.role if key else None
        if key is not None and role is not None:  # rest_pre_dispatch, before any routing
            need = "read" if req.method == "GET" else "write"
            if key.permissions not in (need, "read_write"):
                return _error(401, "woocommerce_rest_authentication_error",
                              f"The API key provided does not have {need} permissions.")
        if not (site.woocommerce and route == "/wc/v3/system_status" and req.method == "GET"):
            return _error(404, "rest_no_route",
                          "No route was found matching the URL and request method.")
        if role in ("administrator", "shop_manager"):
            return Response(200, _status_report(req.host, site))
        return _error(403 if role else 401, "woocommerce_rest_cannot_view",
                      "Sorry, you cannot list resources.")

    @staticmethod
    def _authenticate(req: Request) -> tuple[Key | None, bool]:
        header = req.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return None, False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        key = KEYS.get(user)
        if key is None:
            return None, False  # unknown key: the request stays unauthenticated
        return (key, False) if password == key.secret else (None, True)


SERVER = WooCommerceServer
