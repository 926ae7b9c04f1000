"""Wix: an account-level API key plus the account ID, checked with a site list query.

What each rule rests on (Wix developer docs):
- "The maximum number of sites that can be retrieved by calling Query Sites is 1,000."
  (dev.wix.com/docs/sdk/account-level-modules/sites/introduction). Paging can never reach a
  site past the first 1,000 of an agency account, so a known site ID is looked up with the
  documented `id` filter ("Both the Query Sites and Count Sites endpoints accept the following
  filters: id, folderId, ...", dev.wix.com/docs/rest/account-level/sites/sites/filter-sort):
  one call, whatever the number of sites.
- Site access: "When you create an API key, you choose which sites it can access: All sites
  [...]" or selected ones (dev.wix.com/docs/api-reference/articles/get-started/api-keys, "Site
  access"). Query Sites needs only the basic permission every key has, so verification cannot
  see a key limited to other sites; the guide asks for All sites (or this site), and the result
  says site access was not checked.
- Owners: "Account owners and co-owners can create API keys" and "Site-level calls only work
  with API keys generated from the site owner's account" (dev.wix.com/api/rest/getting-started/
  api-keys). So the key must be made in the account that owns the site; a co-owner switches to
  that account first. Wix does not say a co-owner's key is refused, and neither do we.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

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
    summary = (
        "An account-level API key with All Permissions and access to the site, created in the "
        "account that owns the site, plus that account's ID."
    )
    api_base = "https://www.wixapis.com"
    hosts = ("www.wixapis.com",)
    rotation_days = 180
    purpose_unchecked = {
        Purpose.WRITE: "Wix does not say which permissions an API key has, so getkey could "
        "only check that it works. Writing needs a key made with *All Permissions* (or the "
        "write permissions of each area the job touches).",
    }
    revoke_steps = (
        Step(
            "Open the API Keys page",
            "As the account owner or a co-owner, go to Account Settings › API Keys "
            "(manage.wix.com/account/api-keys).",
        ),
        Step(
            "Delete the key",
            "Find the key by its name, open its menu and choose *Delete*. A key cannot be "
            "paused: deleting it is what stops it working.",
        ),
    )
    identity_fields = ("account_id",)
    steps = (
        Step(
            "Open the account that owns the site",
            "Create the key in the account that owns the site: calls to a site only work with "
            "a key from its owner's account (co-owners: switch to that account first). Then go "
            "to Account Settings › API Keys (manage.wix.com/account/api-keys).",
        ),
        Step(
            "Generate a new key",
            "Click *Generate API Key* and give it a name you will recognise later, "
            "such as the project or the person it is for.",
        ),
        Step(
            "Choose the site access",
            "Under site access, pick *All sites*, or select the site the key is for. A key "
            "limited to other sites is refused on this one, and getkey cannot tell from outside "
            "which sites a key may reach.",
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
            "Site calls need a key created in the account that owns the site: if you are a "
            "co-owner, switch to that account and create the key there. Also check that the "
            "account ID is that same account's, that the key has All Permissions, and that its "
            "site access includes this site (or All sites).",
        ),
        Trouble(
            "The key cannot be generated: the SMS code for two-step verification never comes",
            "This is about the account's sign-in set-up (two-step verification), not about the "
            "API key. Only Wix Support can fix it; contact them, then generate the key again.",
        ),
        Trouble(
            "The emailed verification code never arrives",
            "The code goes to the account's email address. Check spam and wait a few minutes "
            "before asking for a new one.",
        ),
        Trouble(
            "401 Unauthenticated",
            "The key was mistyped, rotated or deleted. Generate a new one and paste it whole.",
        ),
    )

    # Query Sites returns at most 1,000 sites in all (Wix docs): a listing never goes past.
    PAGE_SIZE: ClassVar[int] = 50
    MAX_SITES: ClassVar[int] = 1000

    def verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        site_id = values.get("site_id") or ""
        if site_id:
            names, more = self._find_site(values, http, site_id)
        else:
            # The first page is enough to prove the key and the account.
            names, cursor = self._query_sites(values, http, None)
            more = cursor is not None
        if site_id and site_id not in names:
            raise VerifyError(
                Failure.WRONG_IDENTIFIER,
                "The key works, but the account has no site with this site ID. Copy it from "
                "the site's dashboard URL (after /dashboard/), or leave it empty.",
                field="site_id",
            )
        if site_id:
            store_name = names[site_id]
        elif len(names) == 1 and not more:
            store_name = next(iter(names.values()))
        elif more:
            store_name = f"more than {len(names)} sites"
        else:
            store_name = f"{len(names)} sites" if names else "no sites yet"
        warnings = [
            # The site list needs only the permission every key has, so it cannot tell
            # whether All Permissions was ticked; say so rather than imply it.
            "Wix does not say which permissions a key has: this check proves the key and the "
            "account, not that *All Permissions* was ticked. Make sure it was.",
            "Site access was not checked: Wix lists the account's sites to any key, so a key "
            "limited to other sites looks the same here. Make sure its site access is *All "
            "sites* or includes "
            + (f"{store_name}." if site_id else "the sites it is for."),
        ]
        if not names:
            warnings.append("The account has no sites yet: the key works but there is nothing "
                            "to read.")
        return VerifyResult(
            ok=True,
            store_name=store_name,
            account=values["account_id"],
            granted=("site list",),
            warnings=tuple(warnings),
        )

    def _find_site(
        self, values: Mapping[str, str], http: PlatformHttp, site_id: str
    ) -> tuple[dict[str, str], bool]:
        """One call filtered by the documented `id` filter. Should an answer ever list other
        sites instead (the filter not applied), page through what Query Sites can return."""
        names, cursor = self._query_sites(values, http, None, site_id=site_id)
        if site_id in names or not names:
            return names, False
        while cursor is not None and site_id not in names and len(names) < self.MAX_SITES:
            page, cursor = self._query_sites(values, http, cursor)
            names.update(page)
        return names, cursor is not None

    def _query_sites(
        self,
        values: Mapping[str, str],
        http: PlatformHttp,
        cursor: str | None,
        *,
        site_id: str = "",
    ) -> tuple[dict[str, str], str | None]:
        """One page of Query Sites: {site id: name}, and the cursor of the next page."""
        paging: dict[str, object] = {"limit": self.PAGE_SIZE}
        if cursor:
            paging["cursor"] = cursor
        query: dict[str, object] = {"cursorPaging": paging}
        if site_id:
            query["filter"] = {"id": {"$eq": site_id}}
        reply = http.request(
            self,
            "POST",
            "https://www.wixapis.com/site-list/v2/sites/query",
            headers={
                "Authorization": values["api_key"],
                "wix-account-id": values["account_id"],
                "Content-Type": "application/json",
            },
            json_body={"query": query},
        )
        _raise_for_status(reply.status)
        data = reply.json_object()
        sites = data.get("sites")
        if not isinstance(sites, list):
            raise VerifyError(Failure.UNEXPECTED, "Wix answered without a list of sites.")
        names = {
            str(s.get("id")): str(s.get("displayName") or s.get("name") or s.get("id"))
            for s in sites
            if isinstance(s, dict) and s.get("id")
        }
        # Wix's query APIs put paging in `pagingMetadata`; accept `metadata` too.
        meta = data.get("pagingMetadata") or data.get("metadata") or {}
        next_cursor = None
        if isinstance(meta, dict) and meta.get("hasNext") is True:
            cursors = meta.get("cursors")
            if isinstance(cursors, dict) and isinstance(cursors.get("next"), str):
                next_cursor = cursors["next"] or None
        return names, next_cursor

    def check_together(self, values: dict[str, str]) -> dict[str, str]:
        if values.get("site_id") and values["site_id"] == values.get("account_id"):
            raise field_error(
                "The site ID and the account ID are the same: the site ID comes from the "
                "site's dashboard URL.",
                "site_id",
            )
        return values


FLOW = WixFlow()


def _raise_for_status(status: int) -> None:
    """What a Query Sites answer other than 200 means, as the person's next step."""
    if status == 401:
        raise VerifyError(
            Failure.BAD_CREDENTIAL,
            "Wix did not accept this API key: it is mistyped, or it was rotated or deleted. "
            "Generate a new key and paste it whole.",
            field="api_key",
        )
    if status == 403:
        raise VerifyError(
            Failure.WRONG_IDENTIFIER,
            "Wix accepted the key but not for this account. Create the key in the account "
            "that owns the site (co-owners: switch to that account first), use that same "
            "account's ID, and give the key All Permissions.",
            field="account_id",
        )
    if status == 404:
        raise VerifyError(
            Failure.WRONG_IDENTIFIER,
            "Wix found no account with this ID. Copy it again from the API Keys page.",
            field="account_id",
        )
    if status != 200:
        raise VerifyError(
            Failure.UNEXPECTED, f"Wix answered with an unexpected HTTP {status}."
        )
