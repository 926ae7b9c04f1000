"""Lightspeed eCom (C-Series, formerly SEOshop): an API key and secret used with Basic auth on
one of two clusters, in one of the shop's languages. The permission list is read back so the
person learns which areas the key cannot read before a migration stops half-way.

What each rule rests on:
- Read on every area: the source guide (seed 000, "Lightspeed eCom" step 5) says "enable the
  API Key and set all permissions to Read". A key missing Read on any area is refused as
  missing permissions, naming each area, as BigCommerce's flow does; an area the permission
  list leaves out counts as missing, since nothing shows it can be read.
- Rate-limit headers carry one value per window, 5 minutes / hour / day: "X-RateLimit-Reset:
  263/2063/23663" (platform-apis.md §4, from the NickTacke client tested against the live API;
  [C-3p], not in Lightspeed's own pages). flows.http takes the window with nothing remaining
  and reads a value above 1e9 as a Unix time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
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

# The official PHP client's live servers. "live" was a legacy alias of eu1 and is not offered.
CLUSTERS: dict[str, str] = {
    "eu1": "api.webshopapp.com",
    "us1": "api.shoplightspeed.com",
}
CLUSTER_NAMES = {"eu1": "EU", "us1": "US"}

# The permission areas the API reports; labels are what the back office calls them.
WRITE = ": Write"
AREAS = {
    "content": "Content",
    "products": "Products",
    "customers": "Customers",
    "orders": "Orders",
    "settings": "Settings",
    "tracking": "Tracking",
}

# Key and secret formats are undocumented (assumption): one unbroken run of letters and digits,
# never short. Loosen here if a real key is ever refused.
_CREDENTIAL = re.compile(r"[A-Za-z0-9_-]{16,128}")
# The language is a path segment naming one of the shop's languages. The sources show two-letter
# codes (nl, en, de, us) but never say that is all there is; a regional code such as pt-br or
# en-gb is accepted too, and a language the shop lacks is refused by the API itself ("Unknown
# or inactive language"), which is the only authority on what the shop has switched on.
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,4})?")


def _clean_credential(raw: str, label: str) -> str:
    value = unwrap(raw)
    if looks_like_url(value):
        raise FieldError(
            f"That is a web address. Paste the {label} alone: it is shown under Details "
            "once the key is saved."
        )
    if ":" in value or "@" in value:
        raise FieldError(
            f"This looks like the key and the secret joined with a colon. Paste only the {label} "
            "here, and the other part in its own box."
        )
    value = token(value, f"The {label}")
    if not _CREDENTIAL.fullmatch(value):
        raise FieldError(
            f"The {label} is one long run of letters and digits, with nothing else around it. "
            "Copy it again from Settings › Developers."
        )
    return value


def _clean_key(raw: str) -> str:
    return _clean_credential(raw, "API key")


def _clean_secret(raw: str) -> str:
    return _clean_credential(raw, "API secret")


def _clean_language(raw: str) -> str:
    value = unwrap(raw).lower().replace("_", "-")
    if looks_like_url(value):
        # A shop address such as https://myshop.com/en/ carries the language as its first segment.
        try:
            parts = urlsplit(value if "://" in value else "https://" + value)
        except ValueError:  # e.g. an unclosed "[" read as an IPv6 host
            parts = urlsplit("")
        first = parts.path.strip("/").split("/", 1)[0]
        if _LANGUAGE.fullmatch(first):
            return first
        raise FieldError(
            "That is a web address without a language in it. Enter only the shop language's "
            "short code, such as nl, en or de."
        )
    value = value.strip("/ ")
    if _LANGUAGE.fullmatch(value):
        return value
    raise FieldError(
        "Enter the short code of a language your shop has switched on, such as nl, en, de, "
        "fr or us (or a regional one such as pt-br) — not the language's full name."
    )


def _error_of(reply: Reply) -> tuple[int, str]:
    """Lightspeed eCom reports errors as {"error": {"code", "message"}}, sometimes even with a
    2xx status; the official client treats both alike, and so do we."""
    body = reply.json_or_empty()
    error = body.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        status = code if isinstance(code, int) and 400 <= code < 600 else reply.status
        if status < 400:
            status = 400
        return status, str(error.get("message") or "")
    return reply.status, ""


class LightspeedEcomFlow(Flow):
    id = "lightspeed-ecom"
    name = "Lightspeed eCom (C-Series)"
    aliases = ("lightspeed-c", "lightspeed ecom", "lightspeed c-series", "seoshop", "c-series")
    summary = (
        "An API key and API secret from the back office with every area set to Read, plus your "
        "cluster (EU or US) and a shop language."
    )
    api_base = "https://api.webshopapp.com"
    hosts = tuple(CLUSTERS.values())
    family = "lightspeed"
    edition = "eCom (C-Series)"
    recognise = (
        "The online store's back office (formerly SEOshop), at an address ending in webshopapp.com "
        "(EU) or shoplightspeed.com (US), with Settings › Store Settings › Developers."
    )
    rotation_days = 180
    needs = {Purpose.WRITE: tuple(label + WRITE for label in AREAS.values())}
    purpose_fix = {
        Purpose.WRITE: "In Settings › Store Settings › Developers, open the key and set those "
        "areas to *Write* as well as *Read*, then save. The key and secret stay the same.",
    }
    revoke_steps = (
        Step(
            "Open the developer settings",
            "In the Lightspeed eCom back office go to Settings › Store Settings › Developers.",
        ),
        Step(
            "Switch the key off or delete it",
            "Open the key made for this job. Switching it off stops it at once and can be "
            "undone; *Delete* removes it for good.",
        ),
    )
    identity_fields = ("cluster", "language")
    steps = (
        Step(
            "Open the developer settings",
            "Log in to your Lightspeed eCom back office and go to Settings › Store Settings › "
            "Developers.",
        ),
        Step(
            "Create a key",
            "Click *New API Key*, give it a name that says who uses it (for example the "
            "migration project), and click *Save*.",
        ),
        Step(
            "Enable it and tick Read everywhere",
            "In the key's Settings area, switch the key on and set every permission to *Read*. "
            "Moving data out means reading products, customers, orders, content and settings; "
            "an area left off stops the work when it gets there. Write access is not needed.",
        ),
        Step(
            "Save and copy both values",
            "Click *Save*. The *API key* and the *API secret* then appear under Details. "
            "getkey needs both.",
        ),
        Step(
            "Note your cluster and a language",
            "If your back office address ends in webshopapp.com, your shop is on the EU cluster; "
            "if it ends in shoplightspeed.com, it is on the US cluster. The language is the "
            "short code of any language switched on in your shop (nl, en, de, us…).",
        ),
    )
    fields = (
        Field(
            "api_key",
            "API key",
            hint="Under Details, once the key is saved.",
            example="a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
            secret=True,
            max_length=300,
            clean=_clean_key,
            shape=_CREDENTIAL.pattern,
        ),
        Field(
            "api_secret",
            "API secret",
            hint="Shown right below the API key.",
            example="0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c",
            secret=True,
            max_length=300,
            clean=_clean_secret,
            shape=_CREDENTIAL.pattern,
        ),
        Field(
            "cluster",
            "Cluster",
            hint="Back office on webshopapp.com: EU. On shoplightspeed.com: US.",
            choices=(
                ("eu1", "EU (api.webshopapp.com)"),
                ("us1", "US (api.shoplightspeed.com)"),
            ),
        ),
        Field(
            "language",
            "Shop language",
            hint="The short code of a language switched on in your shop, e.g. nl or en.",
            example="nl",
            max_length=300,
            clean=_clean_language,
            shape=_LANGUAGE.pattern,
        ),
    )
    troubleshooting = (
        Trouble(
            "\"Access denied\" (401)",
            "The key or secret was mistyped, the key is switched off, or the shop is on the "
            "other cluster. Open the key in Settings › Developers, check it is enabled, copy "
            "both values again and pick the cluster that matches your back office address.",
        ),
        Trouble(
            "\"Unknown or inactive language\" (404)",
            "The language code is not switched on in this shop. Use one listed in your shop's "
            "language settings, such as nl or en.",
        ),
        Trouble(
            "Some data is missing after a migration",
            "An area was not set to Read. Edit the key, set every permission to Read and save; "
            "the key and secret stay the same.",
        ),
        Trouble(
            "429 Too Many Requests",
            "Each key may make 300 calls per 5 minutes, 3,000 per hour and 12,000 per day. "
            "Wait for the window to reset, or stop other tools that use the same key.",
        ),
    )

    def _get(self, http: PlatformHttp, values: Mapping[str, str], cluster: str, path: str,
             *, raise_common: bool = True) -> Reply:
        return http.request(
            self,
            "GET",
            f"https://{CLUSTERS[cluster]}/{values['language']}/{path}",
            headers={"Accept": "application/json"},
            auth=(values["api_key"], values["api_secret"]),
            raise_common=raise_common,
        )

    def granted_for(
        self, purpose: Purpose, values: Mapping[str, str], http: PlatformHttp,
        result: VerifyResult,
    ) -> tuple[str, ...]:
        """The permission list again, read for its write flags (one more call, only when the
        key is for writing)."""
        if purpose is not Purpose.WRITE:
            return result.granted
        reply = self._get(http, values, values["cluster"], "account/permissions.json")
        body = reply.json_or_empty() if reply.status == 200 else {}
        perms: Any = body.get("accountPermissions", body)
        if not isinstance(perms, dict):
            return result.granted
        writable = tuple(
            AREAS.get(area, str(area)) + WRITE for area, access in perms.items()
            if isinstance(access, dict) and access.get("write") is True
        )
        return (*result.granted, *writable)

    def verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        cluster = values["cluster"]
        reply = self._get(http, values, cluster, "account.json")
        status, message = _error_of(reply)
        if status == 401:
            self._rejected(http, values, cluster)
        if status == 404 and "language" in message.lower():
            raise VerifyError(
                Failure.WRONG_IDENTIFIER,
                f"The key works, but the shop has no active language '{values['language']}'. "
                "Use the code of a language switched on in your shop, such as nl or en.",
                field="language",
            )
        if status == 403:
            raise VerifyError(
                Failure.BAD_CREDENTIAL,
                "Lightspeed eCom knows this key but refuses it: it is probably switched off. "
                "Enable it in Settings › Developers, save, and try again.",
                field="api_key",
            )
        if status != 200:
            raise VerifyError(
                Failure.UNEXPECTED,
                f"Lightspeed eCom answered with an unexpected HTTP {status}.",
            )
        account = reply.json_object().get("account")
        if not isinstance(account, dict) or "id" not in account:
            raise VerifyError(Failure.UNEXPECTED, "Lightspeed eCom answered without an account.")
        account_id = str(account["id"])

        granted, missing, warnings = self._permissions(http, values, cluster)
        if missing:
            nothing = not granted
            return VerifyResult.failed(
                Failure.MISSING_PERMISSION,
                ("The key works but cannot read anything: every area is off. "
                 if nothing else
                 f"The key works but cannot read {', '.join(missing)}. ")
                + "A migration needs Read on every area: edit the key in Settings › "
                "Developers, set " + ("every permission" if nothing else "those") + " to Read "
                "and save (the key and secret stay the same).",
                field="api_key",
                account=account_id,
                granted=granted or (),
                missing=missing,
            )
        store_name, store_url = self._shop(http, values, cluster)
        return VerifyResult(
            ok=True,
            store_name=store_name,
            store_url=store_url,
            account=account_id,
            environment=f"{CLUSTER_NAMES[cluster]} cluster",
            granted=granted or (),
            missing=missing,
            warnings=warnings,
            identity=f"{cluster}:account-{account_id}" if account_id else None,
        )

    def _rejected(self, http: PlatformHttp, values: Mapping[str, str], cluster: str) -> None:
        """A 401 also means "wrong cluster": a key lives on one cluster only. One look at the
        other cluster (a different host, so not a retry of the rejected call) tells which."""
        other = next(c for c in CLUSTERS if c != cluster)
        try:
            probe = self._get(http, values, other, "account.json", raise_common=False)
            status, message = _error_of(probe)
        except VerifyError:
            status, message = 0, ""
        if status == 200 or (status == 404 and "language" in message.lower()):
            raise VerifyError(
                Failure.WRONG_IDENTIFIER,
                f"This key belongs to a shop on the {CLUSTER_NAMES[other]} cluster, not the "
                f"{CLUSTER_NAMES[cluster]} one. Pick {CLUSTER_NAMES[other]} as the cluster.",
                field="cluster",
            )
        raise VerifyError(
            Failure.BAD_CREDENTIAL,
            "Lightspeed eCom refused this key and secret: one of them is mistyped, or the key "
            "is switched off or deleted. Copy both again from Settings › Developers and check "
            "the key is enabled.",
            field="api_key",
        )

    def _permissions(
        self, http: PlatformHttp, values: Mapping[str, str], cluster: str
    ) -> tuple[tuple[str, ...] | None, tuple[str, ...], tuple[str, ...]]:
        """(granted, missing, warnings). granted is None when the list could not be read: the
        key already proved itself, so this only costs the warning, not the verification."""
        reply = self._get(http, values, cluster, "account/permissions.json", raise_common=False)
        body = reply.json_or_empty() if reply.status == 200 else {}
        perms: Any = body.get("accountPermissions", body)
        if not isinstance(perms, dict) or not perms or "error" in perms:
            return None, (), (
                "Could not read the key's permission list; check in Settings › Developers "
                "that every area is set to Read.",
            )
        granted: list[str] = []
        missing: list[str] = []
        # Every area the back office offers, plus any the API lists beyond them; an area the
        # answer leaves out is not known to be readable.
        for area in [*AREAS, *(a for a in perms if a not in AREAS)]:
            label = AREAS.get(area, str(area).replace("_", " ").capitalize())
            access = perms.get(area)
            if isinstance(access, dict) and access.get("read") is True:
                granted.append(label)
            else:
                missing.append(label)
        return tuple(granted), tuple(missing), ()

    def _shop(
        self, http: PlatformHttp, values: Mapping[str, str], cluster: str
    ) -> tuple[str | None, str | None]:
        reply = self._get(http, values, cluster, "shop.json", raise_common=False)
        shop = reply.json_or_empty().get("shop") if reply.status == 200 else None
        if not isinstance(shop, dict):
            return None, None
        domain = str(shop.get("mainDomain") or "").strip() or None
        sub = str(shop.get("subDomain") or "").strip() or None
        name = str(shop.get("title") or shop.get("name") or "").strip() or domain or sub
        url = f"https://{domain}" if domain and "." in domain and "/" not in domain else None
        return name, url

    def identity(self, values: Mapping[str, str]) -> str:
        """No field names the shop, and cluster + language alone would let two shops replace
        each other's credential. A short fingerprint of the key keeps them apart; it cannot be
        turned back into the key. (The shop itself is only known after verification.)"""
        key = values.get("api_key") or ""
        base = super().identity(values)
        if not key:
            return base
        return f"{base}:key-{hashlib.sha256(key.encode()).hexdigest()[:10]}"

    def check_together(self, values: dict[str, str]) -> dict[str, str]:
        if values.get("api_key") and values["api_key"] == values.get("api_secret"):
            raise field_error(
                "The API secret is the same as the API key: copy the secret, the second value "
                "under Details.",
                "api_secret",
            )
        return values


FLOW = LightspeedEcomFlow()
