"""BigCommerce's guide (steps, fields, troubleshooting) and the verification of a token."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
from flows.bigcommerce.credentials import HASH, TOKEN, clean_file, clean_hash, clean_token
from flows.bigcommerce.scopes import INFO_SCOPE, MODIFY, SCOPES, WRITE_PROBES
from flows.http import PlatformHttp, Reply, raise_for_common

API_HOST = "api.bigcommerce.com"


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
            clean=clean_file,
            # Not a platform format: the file is consumed into "hash:token" (hash possibly
            # empty, when the box below holds it), which check_together spreads over the
            # two fields below and then empties; the shape is exactly that intermediate.
            shape=f"(?:{HASH.pattern})?:{TOKEN.pattern}",
        ),
        Field(
            "store_hash",
            "Store hash or API path",
            hint="The API PATH from the pop-up, or the code after store- in your control "
            "panel address. Not needed if you pasted the file.",
            example="https://api.bigcommerce.com/stores/abc123xyz/v3/",
            required=False,
            clean=clean_hash,
            shape=HASH.pattern,
        ),
        Field(
            "access_token",
            "Access token",
            hint="The ACCESS TOKEN value, about 30 letters and digits. Not needed if you "
            "pasted the file.",
            example="a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p",
            required=False,
            secret=True,
            clean=clean_token,
            shape=TOKEN.pattern,
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
