"""Lightspeed eCom's guide (steps, fields, troubleshooting) and the verification of a key."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from flows.base import (
    Failure,
    Field,
    Flow,
    Purpose,
    Step,
    Trouble,
    VerifyError,
    VerifyResult,
    field_error,
)
from flows.http import PlatformHttp, Reply
from flows.lightspeed_ecom.api import AREAS, CLUSTER_NAMES, CLUSTERS, WRITE, error_of
from flows.lightspeed_ecom.credentials import (
    CREDENTIAL,
    LANGUAGE,
    clean_key,
    clean_language,
    clean_secret,
)


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
            clean=clean_key,
            shape=CREDENTIAL.pattern,
        ),
        Field(
            "api_secret",
            "API secret",
            hint="Shown right below the API key.",
            example="0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c",
            secret=True,
            max_length=300,
            clean=clean_secret,
            shape=CREDENTIAL.pattern,
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
            clean=clean_language,
            shape=LANGUAGE.pattern,
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
        status, message = error_of(reply)
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
            status, message = error_of(probe)
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
