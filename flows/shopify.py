"""Shopify: a Dev Dashboard app's client ID and secret, or a legacy custom app's Admin API token.

New custom apps (2026 on) come from the Dev Dashboard; their Admin API tokens are minted with
the client-credentials grant and expire within a day. getkey stores the client pair and mints a
token when one is needed (to verify; for a tool: `access_values`), so nobody renews anything.
Legacy admin-made apps' `shpat_…` tokens never expire: accepted, with a rotation reminder.

Sources (read 2026-12-03):
- shopify.dev …/authentication-authorization/client-secrets, …/client-credentials-grant:
  `POST https://{shop}.myshopify.com/admin/oauth/access_token`, form `grant_type=
  client_credentials&client_id=…&client_secret=…` → `{"access_token": "shpat_…", "scope": …,
  "expires_in": …}`; only for your own organization's apps on stores you own; the pair is in
  the app's Settings. help.shopify.com …/custom-apps (via ShopifySharp#1225): no new legacy
  custom apps from 2026-01-01. 24-hour lifetime: ShopifySharp 6.30.0 notes [third party].
- shopify.dev changelog 2020-04-01: Admin tokens `shpat_`/`shpca_`/`shppa_` + 32 characters,
  older 32-character ones still work; 2020-01-28: the app secret is `shpss_` + 32 (older: 32).
- shopify.dev AccessScope + changelog 2018-02-26: unversioned `/admin/oauth/access_scopes.json`
  → `{"access_scopes": [{"handle": …}]}`. usage/access-scopes: "Any scope that writes a
  resource also grants read access to it". usage/response-codes: 401, 402 frozen, 404, 423
  locked; admin-rest rate-limits: 429 with `Retry-After` seconds ("2.0").
- community.shopify.dev: the grant answers 400 `app_not_installed`, `shop_not_permitted`.
Unconfirmed [I]: the body for a wrong client secret (any other 400/401 reads as "pair
refused"); the client ID format (observed 32 hex); 404 for an unknown shop; whether minting
retires the previous token (assumed not, so no renewal opt-in is asked).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flows.base import (
    Failure,
    Field,
    FieldError,
    Flow,
    Purpose,
    Step,
    Trouble,
    VerifyError,
    VerifyResult,
    field_error,
)
from flows.cleaning import looks_like_url, token, unwrap
from flows.http import PlatformHttp, Reply

SHOP_DOMAIN = "myshopify.com"
API_VERSION = "2026-10"
# The guide's scopes. Reading is needed to move data out of the store; a write scope also grants
# the read one. Writing is needed only to move data in, so its absence is a warning.
READ_SCOPES = ("read_products", "read_inventory", "read_locations", "read_customers",
               "read_orders", "read_content")
WRITE_SCOPES = ("write_products", "write_inventory", "write_customers", "write_orders",
                "write_content")
# Orders older than 60 days need this one; without it a migration silently loses history.
ALL_ORDERS = "read_all_orders"
TOKEN_HOURS = 24

_HANDLE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_ADMIN_TOKEN = re.compile(r"shp(?:at|ca|pa)_[a-f0-9]{32}")
# Pre-2020 tokens had no prefix; a Storefront API token looks the same (see verify).
_BARE = re.compile(r"[a-f0-9]{32}")
_SECRET = re.compile(r"shpss_[a-f0-9]{32}")
# Observed client IDs are 32 hexadecimal characters; the bounds are loose on purpose. [I]
_CLIENT_ID = re.compile(r"[A-Za-z0-9]{16,64}")
_TOKEN_SHAPE, _SECRET_SHAPE = (f"{p.pattern}|{_BARE.pattern}" for p in (_ADMIN_TOKEN, _SECRET))


def _shop_from_address(value: str) -> str:
    try:
        parts = urlsplit(value if "://" in value else "https://" + value)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        host, parts = "", None
    if host == "admin.shopify.com" and parts is not None:
        m = re.match(r"/store/([^/?#]+)", parts.path)
        if m:
            return m.group(1)
        raise FieldError(
            "That admin address does not name a store. Copy it while your store's admin is "
            "open: it looks like admin.shopify.com/store/your-shop/…"
        )
    if host.endswith("." + SHOP_DOMAIN):
        return host[: -len(SHOP_DOMAIN) - 1]
    if host == "shopify.com" or host.endswith(".shopify.com"):
        raise FieldError(
            "That is one of Shopify's own addresses, not your store's. Use the store's "
            ".myshopify.com name, or its admin address (admin.shopify.com/store/…)."
        )
    raise FieldError(
        "That looks like the shop's own domain. The API only answers at the shop's "
        ".myshopify.com name: Settings › Domains in the Shopify admin lists it."
    )


def _clean_shop(raw: str) -> str:
    value = unwrap(raw).lower()
    if re.match(r"shp[a-z]{2}_", value):
        raise FieldError("This is a token or secret, not the shop name (your-shop).")
    if looks_like_url(value) or "." in value or "/" in value:
        value = _shop_from_address(value)
    if not _HANDLE.fullmatch(value):
        raise FieldError(
            "A shop name is one word of lowercase letters, digits and dashes, as in "
            "your-shop.myshopify.com. Paste the .myshopify.com address or the admin address."
        )
    return value


def _clean_client_id(raw: str) -> str:
    value = token(raw, "The client ID")
    if value.startswith("shpss_"):
        raise FieldError("This is the client secret. The client ID is shown above it, "
                         "without a prefix.")
    if re.match(r"shp[a-z]{2}_", value):
        raise FieldError("This is an access token, not the client ID. Copy the Client ID from "
                         "the app's Settings in the Dev Dashboard.")
    if not _CLIENT_ID.fullmatch(value):
        raise FieldError("The client ID is one run of letters and digits (usually 32). Copy it "
                         "again from the app's Settings in the Dev Dashboard.")
    return value


def _clean_secret(raw: str) -> str:
    value = token(raw, "The client secret")
    if re.match(r"shp(?:at|ca|pa)_", value):
        raise FieldError("This is an Admin API access token. Paste it in the access token box "
                         "below, or copy the Client secret from the app's Settings.")
    if not re.fullmatch(_SECRET_SHAPE, value):
        raise FieldError("A client secret is shpss_ followed by 32 characters (older apps: 32 "
                         "characters alone). Copy it again from the app's Settings.")
    return value


def _clean_token(raw: str) -> str:
    value = token(raw, "The access token")
    if value.startswith("shpss_"):
        raise FieldError(
            "This is an app's secret (shpss_), not an access token: it cannot call the Admin "
            "API by itself. Put it in the client secret box with the client ID."
        )
    if re.match(r"shp[a-z]{2}_", value) and not re.match(r"shp(?:at|ca|pa)_", value):
        raise FieldError(
            "This is not an Admin API access token (those start with shpat_, shpca_ or "
            "shppa_). Storefront and other tokens cannot read the store's admin data."
        )
    if not re.fullmatch(_TOKEN_SHAPE, value):
        raise FieldError("An Admin API access token is shpat_ followed by 32 characters. Copy "
                         "it again, whole.")
    return value


class ShopifyFlow(Flow):
    id = "shopify"
    name = "Shopify"
    aliases = ("shopify plus", "myshopify", "shopify admin", "shopify admin api")
    summary = ("A Dev Dashboard app's client ID and secret, from which getkey mints Admin API "
               "tokens itself (valid a day), or the Admin API token of an app made before 2026.")
    api_base = f"https://example.{SHOP_DOMAIN}"
    hosts = (f"*.{SHOP_DOMAIN}",)
    rotation_days = 90
    # A key for writing (an import, an integration) needs the guide's write scopes.
    needs = {Purpose.READ: READ_SCOPES, Purpose.WRITE: WRITE_SCOPES}
    purpose_fix = {Purpose.WRITE: "Add them to the app (Configuration › Admin API scopes for an "
                   "app made in the admin, or a new version under Access › Scopes, released and "
                   "approved), then verify again."}
    identity_fields = ("shop",)
    steps = (
        Step("Open the Dev Dashboard",
             "Sign in as the store owner (or a staff member allowed to develop apps) and open "
             "the Dev Dashboard: in the Shopify admin, Settings › Apps › *Develop apps*, then "
             "*Build apps in Dev Dashboard*. The app must belong to the same organization as "
             "the store, or Shopify will not give it tokens."),
        Step("Create the app",
             "Click *Create app*, name it after the job (say \"store migration\"), *Create*."),
        Step("Choose the scopes and release",
             "In the app's version, under *Access* › *Scopes*, add " + ", ".join(WRITE_SCOPES)
             + ", read_locations and read_all_orders (orders older than 60 days). Write scopes "
             "include reading; if data only leaves the store, the read_ versions are enough. "
             "Click *Release*."),
        Step("Install it on the store",
             "On the app's *Home* page click *Install app*, pick the store, approve the scopes."),
        Step("Copy the client ID and secret",
             "Open the app's *Settings* and copy the *Client ID* and the *Client secret* "
             "(shpss_…). getkey keeps these two and asks Shopify for a fresh token whenever one "
             "is needed; there is no token to copy."),
        Step("Give getkey the shop name",
             "The part before .myshopify.com, or paste the admin address "
             "(admin.shopify.com/store/your-shop). An app made in the admin before 2026 has an "
             "Admin API access token (shpat_…) instead: paste that, without a client pair."),
    )
    fields = (
        Field("shop", "Shop name (your-shop.myshopify.com)",
              hint="The part before .myshopify.com; the admin address works too.",
              example="your-shop", max_length=300, clean=_clean_shop, shape=_HANDLE.pattern),
        Field("client_id", "Client ID (Dev Dashboard app)", required=False,
              hint="From the app's Settings in the Dev Dashboard.",
              example="1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d", max_length=200,
              clean=_clean_client_id, shape=_CLIENT_ID.pattern),
        Field("client_secret", "Client secret (Dev Dashboard app)", required=False, secret=True,
              hint="Starts with shpss_. getkey mints the tokens with it.",
              example="shpss_…", max_length=200, clean=_clean_secret, shape=_SECRET_SHAPE),
        Field("access_token", "Or: Admin API access token (app made before 2026)",
              required=False, secret=True,
              hint="shpat_… from Develop apps › API credentials. Leave empty with a client pair.",
              example="shpat_…", max_length=200, clean=_clean_token, shape=_TOKEN_SHAPE),
    )
    troubleshooting = (
        Trouble("\"app_not_installed\"",
                "The app exists but is not installed on this store, or the shop name is "
                "another store's. Click *Install app* on the app's Home page in the Dev "
                "Dashboard, then verify again."),
        Trouble("\"shop_not_permitted\"",
                "Shopify mints tokens this way only for apps of the organization that owns the "
                "store. Create the app in the store owner's Dev Dashboard, not a partner's."),
        Trouble("401 \"Invalid API key or access token\"",
                "The token is mistyped, or was revoked when its app was uninstalled. A 32-"
                "character token without shpat_ is usually a Storefront API token, which cannot "
                "read admin data; shpss_ is an app secret, not a token."),
        Trouble("A scope is missing",
                "Add it to a new version of the app (Access › Scopes), release it and approve "
                "the update in the store. Legacy apps: Configuration › Admin API scopes, save."),
        Trouble("No \"Create an app\" button in Develop apps",
                "Since 1 January 2026 new custom apps are made in the Dev Dashboard; apps made "
                "earlier keep working and keep their token."),
        Trouble("429 Too Many Requests",
                "The Admin API allows a few requests per second per app and store. Wait the "
                "number of seconds Shopify gives, or pause other tools on the same app."),
    )
    revoke_steps = (
        Step("Uninstall the app from the store",
             "In the Shopify admin, Settings › Apps, open the app and choose *Uninstall*. Every "
             "token it was given stops working at once, legacy shpat_ tokens included."),
        Step("Or retire only the secret",
             "To keep the app, rotate its client secret in the app's Settings in the Dev "
             "Dashboard; the old secret can then no longer mint tokens."),
    )

    def check_together(self, values: dict[str, str]) -> dict[str, str]:
        pair = values.get("client_id"), values.get("client_secret")
        if any(pair) and values.get("access_token"):
            raise field_error(
                "Give either the client ID and secret (Dev Dashboard app) or an access token "
                "(app made before 2026), not both.", "access_token")
        if any(pair) and not all(pair):
            missing = "client_secret" if pair[0] else "client_id"
            raise field_error("The client ID and the client secret go together; enter both.",
                              missing)
        if not any(pair) and not values.get("access_token"):
            raise field_error(
                "Enter the client ID and secret from the Dev Dashboard, or the Admin API "
                "access token of an app made before 2026.", "client_id")
        return values

    def access_values(self, values: Mapping[str, str], http: PlatformHttp) -> dict[str, str]:
        """The stored values plus, for a client pair, `access_token` freshly minted and
        `access_token_expires_at` (ISO 8601, UTC). A legacy token is handed out as stored."""
        found = dict(values)
        if values.get("client_id") and values.get("client_secret"):
            minted, expires = self._mint(values, http)
            found["access_token"] = minted
            found["access_token_expires_at"] = expires.isoformat()
        return found

    def _mint(self, values: Mapping[str, str], http: PlatformHttp) -> tuple[str, datetime]:
        shop = values["shop"]
        reply = http.request(
            self, "POST", f"https://{shop}.{SHOP_DOMAIN}/admin/oauth/access_token",
            headers={"Accept": "application/json"},
            form={"grant_type": "client_credentials", "client_id": values["client_id"],
                  "client_secret": values["client_secret"]},
        )
        if reply.status != 200:
            raise self._grant_refused(reply, shop)
        data = reply.json_object()
        minted = data.get("access_token")
        if not isinstance(minted, str) or not minted:
            raise VerifyError(Failure.UNEXPECTED, "Shopify answered without an access token.")
        life = data.get("expires_in")
        life = life if isinstance(life, int) and life > 0 else TOKEN_HOURS * 3600
        return minted, datetime.now(UTC) + timedelta(seconds=life)

    # -- verification -------------------------------------------------------------------
    def verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        shop = values["shop"]
        legacy = not values.get("client_id")
        access = values["access_token"] if legacy else self._mint(values, http)[0]
        headers = {"X-Shopify-Access-Token": access, "Accept": "application/json"}
        base = f"https://{shop}.{SHOP_DOMAIN}/admin"
        reply = http.request(self, "GET", f"{base}/api/{API_VERSION}/shop.json", headers=headers)
        if reply.status != 200:
            raise self._refused(reply, shop, legacy, values.get("access_token", ""))
        info = reply.json_object().get("shop")
        if not isinstance(info, dict):
            raise VerifyError(Failure.UNEXPECTED, "Shopify answered without the shop's details.")
        found = self._found(info, shop)
        scopes = http.request(self, "GET", f"{base}/oauth/access_scopes.json", headers=headers)
        listed = scopes.json_object().get("access_scopes") if scopes.status == 200 else None
        if not isinstance(listed, list):
            return VerifyResult(ok=True, warnings=(
                "Shopify did not list this app's scopes, so they were not checked: make sure "
                "it has the ones in the guide.", *self._notes(legacy)), **found)
        handles = [str(s.get("handle")) for s in listed if isinstance(s, dict)]
        return self._judge(handles, legacy, found)

    def _judge(self, handles: list[str], legacy: bool, found: dict[str, Any]) -> VerifyResult:
        # A write scope includes its read scope.
        have = set(handles) | {"read_" + h[6:] for h in handles if h.startswith("write_")}
        missing = tuple(s for s in READ_SCOPES if s not in have)
        no_write = [s for s in WRITE_SCOPES if s not in have]
        warnings = list(self._notes(legacy))
        if ALL_ORDERS not in have:
            warnings.append(f"{ALL_ORDERS} is not granted: only orders from the last 60 days "
                            "can be read.")
        if no_write:
            warnings.append("Without " + ", ".join(no_write) + " data can be read but not "
                            "written: enough to move data out of this store, not into it.")
        granted = tuple(sorted(handles))
        if missing:
            where = ("the app's Configuration › Admin API scopes" if legacy else
                     "a new version of the app (Access › Scopes), release it and approve it")
            return VerifyResult.failed(
                Failure.MISSING_PERMISSION,
                f"The credential works but the app lacks {', '.join(missing)}. Add "
                f"{'it' if len(missing) == 1 else 'them'} in {where}, then verify again.",
                field="access_token" if legacy else "client_id",
                granted=granted, missing=missing, warnings=tuple(warnings), **found)
        return VerifyResult(ok=True, granted=granted, warnings=tuple(warnings), **found)

    @staticmethod
    def _notes(legacy: bool) -> tuple[str, ...]:
        if legacy:
            return ("This legacy token never expires: reinstall the app at times to rotate it.",)
        return (f"getkey keeps the client ID and secret and mints a fresh token (valid "
                f"{TOKEN_HOURS} hours) whenever a tool asks; nobody has to renew anything.",)

    @staticmethod
    def _found(info: Mapping[str, Any], shop: str) -> dict[str, Any]:
        domain = info.get("domain") or info.get("myshopify_domain")
        plan = info.get("plan_display_name") or info.get("plan_name")
        return {"store_name": str(info["name"]) if info.get("name") else None,
                "store_url": f"https://{domain}" if domain else None,
                "account": str(info.get("myshopify_domain") or f"{shop}.{SHOP_DOMAIN}"),
                "environment": f"{plan} plan" if plan else None}

    def _shop_state(self, reply: Reply, shop: str) -> VerifyError | None:
        if reply.status == 404:
            return VerifyError(Failure.WRONG_IDENTIFIER,
                               f"Shopify has no shop at {shop}.{SHOP_DOMAIN}. Check the shop "
                               "name: Settings › Domains in the admin shows it.", field="shop")
        if reply.status in (402, 423):
            state = "frozen (an unpaid bill)" if reply.status == 402 else "locked by Shopify"
            return VerifyError(Failure.NO_API_ACCESS, f"Shopify says the shop is {state}, so its "
                               "API is closed; the owner can sort it out in the admin.")
        return None

    def _grant_refused(self, reply: Reply, shop: str) -> VerifyError:
        if state := self._shop_state(reply, shop):
            return state
        code = str(reply.json_or_empty().get("error") or "")
        if "app_not_installed" in code:
            return VerifyError(Failure.WRONG_IDENTIFIER,
                               f"The app is not installed on {shop}. Click Install app on its "
                               "Home page in the Dev Dashboard (or check the shop name).",
                               field="shop")
        if "shop_not_permitted" in code:
            return VerifyError(Failure.NO_API_ACCESS,
                               "Shopify gives tokens this way only to apps of the organization "
                               "that owns the store. Create the app in the store owner's Dev "
                               "Dashboard and use its client ID and secret.", field="client_id")
        if reply.status in (400, 401, 403):
            return VerifyError(Failure.BAD_CREDENTIAL,
                               "Shopify refused this client ID and secret: one is mistyped, the "
                               "secret was rotated, or they belong to another app. Copy both "
                               "again from the app's Settings.", field="client_secret")
        return VerifyError(Failure.UNEXPECTED, f"Shopify answered with an unexpected HTTP "
                                               f"{reply.status} to the token request.")

    def _refused(self, reply: Reply, shop: str, legacy: bool, pasted: str) -> VerifyError:
        if state := self._shop_state(reply, shop):
            return state
        if reply.status == 401 and legacy:
            hint = (" A 32-character token without shpat_ is usually a Storefront API token, "
                    "which cannot read admin data." if _BARE.fullmatch(pasted) else "")
            return VerifyError(Failure.BAD_CREDENTIAL,
                               f"Shopify did not accept this access token for {shop}: it is "
                               "mistyped, from another store, or was revoked when its app was "
                               "uninstalled." + hint, field="access_token")
        if reply.status in (401, 403):
            return VerifyError(Failure.NO_API_ACCESS,
                               f"Shopify refused the shop's details (HTTP {reply.status}) to a "
                               "token it had just issued. Check that the app is installed and "
                               "released, then try again.")
        return VerifyError(Failure.UNEXPECTED, f"Shopify answered with HTTP {reply.status}.")


FLOW = ShopifyFlow()
