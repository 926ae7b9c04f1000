"""BigCommerce: a store-level API account (store hash + static access token).

Verification reads the store information, then probes one read-only endpoint per scope the
seed asks for: BigCommerce has no endpoint that lists a token's scopes, and a 403 from an
endpoint is the only way to learn that its scope is missing. When the store information itself
is refused, the webhook list (readable with any token, it needs no scope) tells a missing scope
apart from a store hash that does not belong to the token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

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
from flows.http import PlatformHttp, Reply, raise_for_common

API_HOST = "api.bigcommerce.com"

# Observed store hashes are 9-10 lowercase letters and digits (older stores: digits only);
# the bounds are loose so an unusual real hash is never refused by format alone.
_HASH = re.compile(r"[A-Za-z0-9]{4,16}")
# Observed access tokens are 30-31 lowercase letters and digits. [I]
_TOKEN = re.compile(r"[A-Za-z0-9]{20,60}")
_CLIENT_SECRET = re.compile(r"[a-f0-9]{64}")
# Also a bare "stores/{hash}/v3" copied without the host.
_API_PATH = re.compile(r"(?:api\.bigcommerce\.com/|^/?)stores/([^/\s?#]+)", re.I)
_CONTROL_PANEL = re.compile(r"(?:https?://)?store-([^./\s]+)\.mybigcommerce\.com", re.I)
# Labels in the credentials .txt the pop-up downloads (and in the pop-up itself).
_LABEL_LINE = re.compile(
    r"^\s*(ACCESS[ _]TOKEN|CLIENT[ _]NAME|NAME|API[ _]PATH|CLIENT[ _]ID|CLIENT[ _]SECRET)"
    r"\s*(?::\s*(.*?))?\s*$",
    re.I,
)




@dataclass(frozen=True)
class Scope:
    """One OAuth scope as the API account form names it, and a cheap GET that needs it."""

    name: str
    path: str
    required: bool


# From the migration guide (seed 001): the scopes marked "(required)" must be there; the
# others decide which data can be moved, so their absence is a warning, not a failure.
# Endpoints from BigCommerce's scope table; Channel 1 is the store's default storefront. [I]
SCOPES: tuple[Scope, ...] = (
    Scope("Information & Settings", "/v2/store", True),
    # Pages V3: BigCommerce lists /v2/pages as deprecated in favour of it.
    Scope("Content", "/v3/content/pages?limit=1", True),
    Scope("Marketing", "/v2/coupons?limit=1", True),
    Scope("Channel Settings", "/v3/channels?limit=1", True),
    Scope("Channel Listings", "/v3/channels/1/listings?limit=1", True),
    Scope("Products", "/v3/catalog/products?limit=1", False),
    Scope("Customers", "/v3/customers?limit=1", False),
    Scope("Orders", "/v2/orders?limit=1", False),
)
INFO_SCOPE = SCOPES[0]

# Writing: BigCommerce has no way to list an account's scopes, so each one is tried with a
# write that cannot change anything: a body with nothing in it (no fields to update, an empty
# batch, or an object missing every required field). We assume, as every documented 403 body
# suggests, that the scope is checked before the body: 403 means the scope is read-only;
# a 2xx, 400 or 422 means Modify was granted and the empty body was refused or did nothing. [I]
WRITE_PROBES: dict[str, tuple[str, str, object]] = {
    "Information & Settings": ("PUT", "/v3/settings/store/profile", {}),
    "Content": ("POST", "/v3/content/pages", []),
    "Marketing": ("POST", "/v2/coupons", {}),
    "Channel Settings": ("POST", "/v3/channels", {}),
    "Channel Listings": ("POST", "/v3/channels/1/listings", []),
    "Products": ("POST", "/v3/catalog/products", {}),
    "Customers": ("POST", "/v3/customers", []),
    "Orders": ("POST", "/v2/orders", {}),
}
MODIFY = ": Modify"


def _hash_from(text: str) -> str | None:
    """The store hash inside a pasted API path or control panel address, if there is one."""
    for pattern in (_API_PATH, _CONTROL_PANEL):
        m = pattern.search(text)
        if m:
            return m.group(1)
    return None


def _clean_hash(raw: str) -> str:
    value = unwrap(raw)
    found = _hash_from(value)
    if found is not None:
        value = found
    elif looks_like_url(value) or "." in value or "/" in value:
        raise FieldError(
            "That address does not contain the store hash. Paste the API PATH "
            "(https://api.bigcommerce.com/stores/…/v3/), your control panel address "
            "(store-….mybigcommerce.com), or just the hash."
        )
    if any(ch.isspace() for ch in value):
        raise FieldError("The store hash has no spaces; paste it again as one word.")
    if _CLIENT_SECRET.fullmatch(value) or (len(value) > 16 and _TOKEN.fullmatch(value)):
        raise FieldError(
            "This looks like a token or client ID, not the store hash. The hash is the short "
            "code after /stores/ in the API PATH."
        )
    if not _HASH.fullmatch(value):
        raise FieldError(
            "A store hash is a short code of letters and digits, such as abc123xyz: the part "
            "after /stores/ in the API PATH."
        )
    return value


def _strip_label(value: str) -> str:
    # A line copied from the .txt file or a header dump: "ACCESS TOKEN: …", "X-Auth-Token: …".
    m = re.match(r"^(?:access[ _]token|x-auth-token)\s*:\s*", value, re.I)
    return value[m.end():] if m else value


def _clean_token(raw: str) -> str:
    text = unwrap(raw)
    if sum(1 for line in text.splitlines() if _LABEL_LINE.match(line)) > 1:
        raise FieldError(
            "This is the whole credentials file. Paste it into the credentials file box "
            "instead, or copy only the ACCESS TOKEN value here."
        )
    value = token(_strip_label(text), "The access token")
    if looks_like_url(value) or "bigcommerce.com" in value.lower():
        raise FieldError(
            "That is a web address (probably the API PATH). Paste the ACCESS TOKEN here and "
            "the API PATH in the store hash box."
        )
    if _CLIENT_SECRET.fullmatch(value):
        raise FieldError(
            "This looks like the CLIENT SECRET (64 hexadecimal characters). getkey needs the "
            "ACCESS TOKEN, a shorter value shown above it."
        )
    if not _TOKEN.fullmatch(value):
        raise FieldError(
            "A BigCommerce access token is about 30 letters and digits, without dashes or "
            "other symbols. Copy the ACCESS TOKEN value again from the pop-up or the .txt file."
        )
    return value


def parse_credentials_file(text: str) -> dict[str, str]:
    """Labelled values from the downloaded .txt ("LABEL: value" per line) or from text copied
    out of the pop-up, where a label may sit on its own line above its value."""
    found: dict[str, str] = {}
    pending: str | None = None
    for line in text.replace("\r", "\n").split("\n"):
        line = unwrap(line)
        if not line:
            continue
        m = _LABEL_LINE.match(line)
        if m:
            label = m.group(1).upper().replace("_", " ")
            value = (m.group(2) or "").strip()
            if value:
                found.setdefault(label, value)
                pending = None
            else:
                pending = label
        elif pending:
            found.setdefault(pending, line)
            pending = None
    return found


def _clean_file(raw: str) -> str:
    """Return "hash:token" picked out of the file; `check_together` spreads it over the fields.

    The client ID and secret are deliberately dropped: REST calls do not need them, and
    what is not kept cannot leak.
    """
    found = parse_credentials_file(raw)
    if not found:
        raise FieldError(
            "This does not look like the BigCommerce credentials file: it should contain lines "
            "such as ACCESS TOKEN: … and API PATH: …. Paste the whole file, or leave this box "
            "empty and fill in the store hash and access token."
        )
    if "ACCESS TOKEN" not in found:
        raise FieldError(
            "The pasted text has no ACCESS TOKEN line. Paste the whole .txt file that "
            "BigCommerce downloaded when the API account was saved."
        )
    try:
        tok = _clean_token(found["ACCESS TOKEN"])
    except FieldError as exc:
        raise FieldError(f"In the pasted file, the ACCESS TOKEN is not usable: {exc}") from None
    store_hash = ""  # the store hash box may hold it instead
    if "API PATH" in found:
        try:
            store_hash = _clean_hash(found["API PATH"])
        except FieldError:
            raise FieldError(
                "In the pasted file, the API PATH does not contain a store hash "
                "(it should look like https://api.bigcommerce.com/stores/…/v3/)."
            ) from None
    return f"{store_hash}:{tok}"


class BigCommerceFlow(Flow):
    id = "bigcommerce"
    name = "BigCommerce"
    aliases = ("bc", "big commerce")
    summary = (
        "A store-level API account: the store hash (from the API path) and the access token. "
        "You can paste the credentials .txt file instead."
    )
    api_base = f"https://{API_HOST}"
    hosts = (API_HOST,)
    # Tokens never expire; rotating means a new API account, so remind twice a year.
    rotation_days = 180
    identity_fields = ("store_hash",)
    # The seed guide: read-only scopes to move data out, Modify on every scope to move it in.
    needs = {
        Purpose.READ: tuple(s.name for s in SCOPES if s.required),
        Purpose.WRITE: tuple(s.name + MODIFY for s in SCOPES),
    }
    purpose_field = "access_token"
    purpose_fix = {
        Purpose.WRITE: "Scopes of an existing API account cannot be changed: create a new "
        "API account with *Modify* on every scope, paste its token, then delete the old one.",
    }
    revoke_steps = (
        Step(
            "Open the store-level API accounts",
            "In the control panel go to Settings › Store-level API accounts (older control "
            "panels: Advanced Settings › API Accounts).",
        ),
        Step(
            "Delete the account",
            "Find the account by the name it was given, open its menu and choose *Delete*. "
            "Its token stops working at once; a token cannot be switched off any other way.",
        ),
        Step(
            "Check what it owned",
            "Webhooks the account created are deleted with it; scripts and metafields it made "
            "belong to it too, so check nothing else relied on them.",
        ),
    )
    steps = (
        Step(
            "Open the store-level API accounts",
            "In the BigCommerce control panel go to Settings › Store-level API accounts "
            "(older control panels: Advanced Settings › API Accounts) and click "
            "*Create API account* (*+ Create API Token*).",
        ),
        Step(
            "Pick the token type and a name",
            "Choose *V2/V3 API token* (not Stencil-CLI) and give the account a name of at "
            "least 4 characters, such as the project it is for.",
        ),
        Step(
            "Set the scopes",
            "Content, Information & Settings, Marketing, Channel Settings and Channel Listings "
            "are required; also set Products, Customers and Orders so that data can be read. "
            "Choose *read-only* when data is moved out of BigCommerce, *modify* when it is "
            "moved in. Scopes cannot be changed later: a wrong choice means a new account.",
        ),
        Step(
            "Save and keep the credentials",
            "Click *Save*. A pop-up shows the credentials once and your browser downloads a "
            ".txt file with the same values. Once the pop-up is closed it cannot be shown "
            "again, so keep the file until getkey has verified the token.",
        ),
        Step(
            "Give getkey the token and the store hash",
            "Paste the whole .txt file into the credentials file box, or copy ACCESS TOKEN "
            "and API PATH separately. The client ID and client secret are not needed: "
            "leave them out.",
        ),
    )
    fields = (
        Field(
            "credentials_file",
            "Credentials file (optional)",
            hint="The whole .txt file BigCommerce downloaded, or the pop-up's text. "
            "Fills in the two boxes below.",
            example="ACCESS TOKEN: … CLIENT NAME: … API PATH: https://api.bigcommerce.com/…",
            required=False,
            secret=True,
            multiline=True,
            clean=_clean_file,
            # Not a platform format: the file is consumed into "hash:token" (hash possibly
            # empty, when the box below holds it), which check_together spreads over the
            # two fields below and then empties; the shape is exactly that intermediate.
            shape=f"(?:{_HASH.pattern})?:{_TOKEN.pattern}",
        ),
        Field(
            "store_hash",
            "Store hash or API path",
            hint="The API PATH from the pop-up, or the code after store- in your control "
            "panel address. Not needed if you pasted the file.",
            example="https://api.bigcommerce.com/stores/abc123xyz/v3/",
            required=False,
            clean=_clean_hash,
            shape=_HASH.pattern,
        ),
        Field(
            "access_token",
            "Access token",
            hint="The ACCESS TOKEN value, about 30 letters and digits. Not needed if you "
            "pasted the file.",
            example="a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p",
            required=False,
            secret=True,
            clean=_clean_token,
            shape=_TOKEN.pattern,
        ),
    )
    troubleshooting = (
        Trouble(
            "The credentials pop-up was closed before copying the token",
            "It cannot be reopened. Use the .txt file your browser downloaded; if that is "
            "gone too, create a new API account and delete the old one.",
        ),
        Trouble(
            "401 Unauthorized",
            "The token was mistyped, belongs to another store, or its API account was "
            "deleted. Check that the token and API PATH come from the same pop-up or file. "
            "The CLIENT ID looks like a token but does not work as one.",
        ),
        Trouble(
            "403 \"You don't have a required scope\"",
            "The API account lacks a scope. Scopes of an existing account cannot be edited: "
            "create a new account with the scopes listed in the guide and delete the old one.",
        ),
        Trouble(
            "The Create API account button is missing",
            "Only the store owner or a user with the right to manage API accounts sees it. "
            "Ask the store owner to create the account.",
        ),
        Trouble(
            "A migration into BigCommerce fails on writes",
            "The account was created with read-only scopes. Create a new one with *modify* "
            "on every scope.",
        ),
    )

    def check_together(self, values: dict[str, str]) -> dict[str, str]:
        packed = values.get("credentials_file", "")
        if packed:
            file_hash, _, file_token = packed.partition(":")
            for key, from_file, what in (
                ("store_hash", file_hash, "store hash"),
                ("access_token", file_token, "access token"),
            ):
                typed = values.get(key, "")
                if typed and from_file and typed != from_file:
                    raise field_error(
                        f"The {what} here differs from the one in the pasted file. "
                        "Clear this box or the file so that only one is used.",
                        key,
                    )
                values[key] = typed or from_file
            # The file's job is done; its other contents (client secret) are not kept.
            values["credentials_file"] = ""
        if not values.get("store_hash"):
            raise field_error(
                "Enter the store hash or API PATH, or paste the credentials file.", "store_hash"
            )
        if not values.get("access_token"):
            raise field_error(
                "Enter the access token, or paste the credentials file.", "access_token"
            )
        return values

    # -- verification -------------------------------------------------------------------
    def verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        store_hash = values["store_hash"]
        base = f"https://{API_HOST}/stores/{store_hash}"
        headers = {"X-Auth-Token": values["access_token"], "Accept": "application/json"}

        def get(path: str) -> Reply:
            reply = http.request(self, "GET", base + path, headers=headers, raise_common=False)
            if reply.status == 503:
                raise self._unavailable()
            raise_for_common(reply)
            # One rejection ends the verification: never send a refused token again.
            if reply.status == 401:
                raise self._bad_token()
            return reply

        info = self._store_info(get)
        granted: list[str] = [INFO_SCOPE.name] if info is not None else []
        missing: list[str] = [] if info is not None else [INFO_SCOPE.name]
        unknown: list[str] = []
        for scope in SCOPES[1:]:
            reply = get(scope.path)
            if reply.status in (200, 204):
                granted.append(scope.name)
            elif reply.status == 403:
                missing.append(scope.name)
            else:
                unknown.append(scope.name)

        return self._result(self._found(info, store_hash), granted, missing, unknown)

    def _store_info(self, get: Callable[[str], Reply]) -> dict[str, Any] | None:
        """The store's information (None when the token may not read it, the store exists)."""
        store = get(INFO_SCOPE.path)
        if store.status == 200:
            return store.json_object()
        if store.status == 404:
            raise self._wrong_hash()
        if store.status != 403:
            raise self._unexpected(store)
        hooks = get("/v3/hooks")
        if hooks.status in (403, 404):
            # Webhooks need no scope, so a refusal here is about the store, not the token.
            raise self._wrong_hash()
        if hooks.status != 200:
            raise self._unexpected(hooks)
        hooks.json_object()
        return None

    def _result(
        self, found: dict[str, Any], granted: list[str], missing: list[str], unknown: list[str]
    ) -> VerifyResult:
        """The outcome from the scopes granted, missing and not confirmed."""
        required_missing = tuple(
            s.name for s in SCOPES if s.required and s.name in missing
        )
        optional_missing = [s.name for s in SCOPES if not s.required and s.name in missing]
        warnings = [
            f"{name} is not granted: that data cannot be read with this token."
            for name in optional_missing
        ]
        if unknown:
            warnings.append(
                "Could not confirm these scopes (the store answered unexpectedly): "
                + ", ".join(unknown)
                + "."
            )
        if required_missing:
            return VerifyResult.failed(
                Failure.MISSING_PERMISSION,
                "The token works but its API account lacks "
                + ", ".join(required_missing)
                + ". Scopes cannot be added to an existing account: create a new API account "
                "with these scopes ticked, paste its token, then delete the old account.",
                field="access_token",
                granted=tuple(granted),
                missing=required_missing + tuple(optional_missing),
                warnings=tuple(warnings),
                **found,
            )
        return VerifyResult(
            ok=True,
            granted=tuple(granted),
            missing=tuple(optional_missing),
            warnings=tuple(warnings),
            **found,  # type: ignore[arg-type]
        )

    def granted_for(
        self, purpose: Purpose, values: Mapping[str, str], http: PlatformHttp,
        result: VerifyResult,
    ) -> tuple[str, ...]:
        if purpose is not Purpose.WRITE:
            return result.granted
        base = f"https://{API_HOST}/stores/{values['store_hash']}"
        headers = {"X-Auth-Token": values["access_token"], "Accept": "application/json"}
        granted = list(result.granted)
        for name, (method, path, body) in WRITE_PROBES.items():
            reply = http.request(self, method, base + path, headers=headers, json_body=body)
            if reply.status == 401:
                raise self._bad_token()
            if reply.status != 403 and (reply.status < 300 or reply.status in (400, 422)):
                granted.append(name + MODIFY)
        return tuple(granted)

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def _found(info: Mapping[str, Any] | None, store_hash: str) -> dict[str, Any]:
        """What the store information tells: name, address and plan."""
        if info is None:
            return {"account": f"store {store_hash}"}
        name = info.get("name")
        domain = info.get("domain")
        url = info.get("secure_url") or (f"https://{domain}" if domain else None)
        plan = info.get("plan_name")
        environment = None
        if isinstance(plan, str) and plan:
            environment = f"{plan} plan" + (" (trial)" if info.get("plan_is_trial") is True else "")
        return {
            "store_name": str(name) if name else None,
            "store_url": str(url) if url else None,
            "account": f"store {store_hash}",
            "environment": environment,
        }

    def _bad_token(self) -> VerifyError:
        return VerifyError(
            Failure.BAD_CREDENTIAL,
            "BigCommerce did not accept this access token for this store. It may be mistyped, "
            "come from another store, be the CLIENT ID instead of the ACCESS TOKEN, or its API "
            "account may have been deleted. Copy both values from the same pop-up or file.",
            field="access_token",
        )

    def _unavailable(self) -> VerifyError:
        # BigCommerce answers 503 when the store is down for maintenance or suspended (for
        # example over billing): not a fault of the token, and not always temporary.
        return VerifyError(
            Failure.UNREACHABLE,
            "BigCommerce says this store is unavailable (HTTP 503): it is down for maintenance, "
            "or suspended, for example over an unpaid bill. Check the store's status in its "
            "control panel (or with the store owner), then verify again. The token itself was "
            "not judged.",
        )

    def _wrong_hash(self) -> VerifyError:
        return VerifyError(
            Failure.WRONG_IDENTIFIER,
            "BigCommerce found no store with this hash for this token. Copy the API PATH from "
            "the same pop-up or file as the token.",
            field="store_hash",
        )

    def _unexpected(self, reply: Reply) -> VerifyError:
        return VerifyError(
            Failure.UNEXPECTED, f"BigCommerce answered with an unexpected HTTP {reply.status}."
        )


FLOW = BigCommerceFlow()
