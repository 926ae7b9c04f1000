"""Wix: an account-level API key plus the account ID, checked with a site list query."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flows.base import (
    Failure,
    Field,
    FieldError,
    Flow,
    Step,
    Trouble,
    VerifyError,
    VerifyResult,
    field_error,
)
from flows.cleaning import looks_like_url, token, uuid_value
from flows.http import PlatformHttp

_KEY_SHAPE = re.compile(r"(?:IST|JWS)\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# IDs are stored in uuid.UUID's canonical form, whatever form was pasted.
_UUID_SHAPE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _clean_key(raw: str) -> str:
    value = token(raw, "The API key")
    if looks_like_url(value):
        raise FieldError("That is a web address. Paste the API key itself, which starts with IST.")
    if value.startswith("eyJ") and value.count(".") == 2:
        raise FieldError(
            "The key is missing its 'IST.' start: copy the whole key from the pop-up, "
            "including the first four characters."
        )
    if not _KEY_SHAPE.fullmatch(value):
        raise FieldError(
            "A Wix API key starts with IST. followed by three dot-separated parts. "
            "Copy it again from the pop-up shown right after the key is generated."
        )
    return value


def _clean_account(raw: str) -> str:
    if raw.strip().startswith(("IST.", "JWS.")):
        raise FieldError("This looks like the API key. The account ID is a shorter 8-4-4-4-12 ID.")
    return uuid_value(raw, "The account ID")


def _clean_site(raw: str) -> str:
    return uuid_value(raw, "The site ID")


class WixFlow(Flow):
    id = "wix"
    name = "Wix"
    aliases = ("wix.com",)
    summary = "An account-level API key with All Permissions, plus your account ID."
    api_base = "https://www.wixapis.com"
    hosts = ("www.wixapis.com",)
    rotation_days = 180
    identity_fields = ("account_id",)
    steps = (
        Step(
            "Open the API Keys page",
            "Log in as the account owner and go to Account Settings › API Keys "
            "(manage.wix.com/account/api-keys). Co-owners can also do this; other roles cannot.",
        ),
        Step(
            "Generate a new key",
            "Click *Generate API Key* and give it a name you will recognise later, "
            "such as the project or the person it is for.",
        ),
        Step(
            "Tick All Permissions",
            "In Permissions, tick *All Permissions*. A migration or integration reads products, "
            "orders, customers and more; a narrower key fails half-way through.",
        ),
        Step(
            "Confirm with the emailed code",
            "Click *Generate Key*, then *Send Code*. Wix emails a 6-digit code to the account's "
            "address; enter it and click *Verify & Generate Key*.",
        ),
        Step(
            "Copy the key now",
            "The key is displayed only once. Copy it straight into getkey; if you lose it, "
            "you will have to generate a new one.",
        ),
        Step(
            "Copy the account ID",
            "The API Keys page also shows your account ID (an 8-4-4-4-12 ID). "
            "getkey needs both.",
        ),
    )
    fields = (
        Field(
            "api_key",
            "API key",
            hint="Starts with IST. and is several hundred characters long.",
            example="IST.eyJraWQi…",
            secret=True,
            multiline=True,
            clean=_clean_key,
            shape=_KEY_SHAPE.pattern,
        ),
        Field(
            "account_id",
            "Account ID",
            hint="Shown on the API Keys page, next to your keys.",
            example="1a2b3c4d-1234-5678-9abc-1234567890ab",
            clean=_clean_account,
            shape=_UUID_SHAPE,
        ),
        Field(
            "site_id",
            "Site ID (optional)",
            hint="Only if the key is for one site: the ID after /dashboard/ in the site's URL.",
            example="9f8e7d6c-1234-5678-9abc-1234567890ab",
            required=False,
            clean=_clean_site,
            shape=_UUID_SHAPE,
        ),
    )
    troubleshooting = (
        Trouble(
            "403 Forbidden when the key is used",
            "The key lacks a permission, or the account ID does not belong to the account that "
            "made the key. Regenerate it with All Permissions, from the site owner's account.",
        ),
        Trouble(
            "The verification code never arrives",
            "The code goes to the account's email address. Check spam; if nothing arrives, the "
            "account's sign-in set-up needs fixing, which only Wix Support can do.",
        ),
        Trouble(
            "401 Unauthenticated",
            "The key was mistyped, rotated or deleted. Generate a new one and paste it whole.",
        ),
    )

    def verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        reply = http.request(
            self,
            "POST",
            "https://www.wixapis.com/site-list/v2/sites/query",
            headers={
                "Authorization": values["api_key"],
                "wix-account-id": values["account_id"],
                "Content-Type": "application/json",
            },
            json_body={"query": {"cursorPaging": {"limit": 50}}},
        )
        if reply.status == 401:
            raise VerifyError(
                Failure.BAD_CREDENTIAL,
                "Wix did not accept this API key: it is mistyped, or it was rotated or deleted. "
                "Generate a new key and paste it whole.",
                field="api_key",
            )
        if reply.status == 403:
            raise VerifyError(
                Failure.WRONG_IDENTIFIER,
                "Wix accepted the key but not for this account: check that the account ID comes "
                "from the same account that generated the key, and that the key was made by the "
                "owner with All Permissions.",
                field="account_id",
            )
        if reply.status == 404:
            raise VerifyError(
                Failure.WRONG_IDENTIFIER,
                "Wix found no account with this ID. Copy it again from the API Keys page.",
                field="account_id",
            )
        if reply.status != 200:
            raise VerifyError(
                Failure.UNEXPECTED, f"Wix answered with an unexpected HTTP {reply.status}."
            )
        data = reply.json_object()
        sites = data.get("sites")
        if not isinstance(sites, list):
            raise VerifyError(Failure.UNEXPECTED, "Wix answered without a list of sites.")
        names = {
            str(s.get("id")): str(s.get("displayName") or s.get("name") or s.get("id"))
            for s in sites
            if isinstance(s, dict) and s.get("id")
        }
        site_id = values.get("site_id") or ""
        if site_id and site_id not in names:
            raise VerifyError(
                Failure.WRONG_IDENTIFIER,
                f"The key works, but none of the account's {len(names)} sites has this site ID. "
                "Copy it from the site's dashboard URL, or leave it empty.",
                field="site_id",
            )
        if site_id:
            store_name = names[site_id]
        elif len(names) == 1:
            store_name = next(iter(names.values()))
        else:
            store_name = f"{len(names)} sites" if names else "no sites yet"
        return VerifyResult(
            ok=True,
            store_name=store_name,
            account=values["account_id"],
            granted=("site list",),
            warnings=(
                ()
                if names
                else ("The account has no sites yet: the key works but there is nothing to read.",)
            ),
        )

    def check_together(self, values: dict[str, str]) -> dict[str, str]:
        if values.get("site_id") and values["site_id"] == values.get("account_id"):
            raise field_error(
                "The site ID and the account ID are the same: the site ID comes from the "
                "site's dashboard URL.",
                "site_id",
            )
        return values


FLOW = WixFlow()
