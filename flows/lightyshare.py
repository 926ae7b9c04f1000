"""Lightyshare: one `lsh_live_` / `lsh_test_` token, proved with an authenticated call.

Lightyshare documents no "who am I" endpoint, so verification asks for a product that does
not exist (id 0). The documented errors are 401 {"error": "Invalid or missing token"} and 403
{"error": "Access denied to this resource"} (developers.lightyshare.com/authentication); a 401
means the token itself was refused. Nothing in the docs says authentication runs before
routing, so a 404 proves the token only when it is the API's own answer: a JSON error body with
the X-API-Version header, which the docs say is always sent ("The API version used for each
request is always returned in the X-API-Version response header",
developers.lightyshare.com/concepts/versioning). A 404 without them (a web server's or router's
page) ends as "could not confirm". The token always travels in the Bearer header, never as
`?token=`, which Lightyshare still accepts but which ends up in proxy and server logs.

Identity ("the same store again"): "Each key is tied to a specific user account" (seed 002),
and the guide advises "Create separate tokens for different applications or environments".
Naming a credential by the account the token belongs to is what the other platforms do, but the
documented API never says which account that is: its only endpoints are product, bundle and
rental calls, and a product answer carries no owner (platform-apis.md §7, "I found no 'me',
account or list endpoint"). So the person names the account (the email they sign in with, or
the shop's name) in a non-secret field, and a credential is identified by environment + that
name: a new token for the same account replaces the old one (rotation), while an agency's two
clients keep one live token each. A fingerprint of the token would do the opposite (every
rotated token would look like a new account) and is a derivative of a secret we would rather
not store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

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
    mask,
)
from flows.cleaning import looks_like_url, token, unwrap
from flows.http import PlatformHttp, Reply

# lsh_<environment>_<unique string>: the docs say no more about the unique part than "a unique
# string", so anything a header or URL can carry is accepted (visible ASCII, no spaces) and
# Lightyshare's answer decides. Narrowing it would refuse tokens that work.
_SHAPE = re.compile(r"lsh_(live|test)_([!-~]+)")
_TOKEN_SHAPE = r"lsh_(?:live|test)_[!-~]+"
# Tokens of other platforms people keep in the same password manager.
_OTHER_PLATFORMS = (
    ("IST.", "a Wix API key"),
    ("JWS.", "a Wix API key"),
    ("secret_", "an Ecwid secret token"),
    ("public_", "an Ecwid public token"),
    ("shpat_", "a Shopify access token"),
    ("ck_", "a WooCommerce consumer key"),
    ("cs_", "a WooCommerce consumer secret"),
)
# "Authorization: Bearer …" or "LIGHTYSHARE_API_KEY=…" copied from a shell or a request log.
_LABELLED = re.compile(
    r"^(?:export\s+)?(?:authorization\s*:|[A-Za-z_][A-Za-z0-9_]*\s*=)\s*", re.I
)
VERIFY_URL = "https://lightyshare.com/api/token-secured/product/0"
_ACCOUNT_MAX = 200


def account_key(value: str) -> str:
    """The account name as identities compare it: case and spacing do not matter."""
    return " ".join(value.split()).casefold()


def environment_of(value: str) -> str | None:
    """'live' or 'test' for a cleaned token, None for anything else."""
    m = _SHAPE.fullmatch(value or "")
    return m.group(1) if m else None


def _from_url(text: str) -> str:
    """A request URL pasted whole (the docs show `…?token=lsh_…`): take the token out."""
    try:
        found = parse_qs(urlsplit(text).query).get("token", [])
    except ValueError:  # e.g. an unclosed "[" read as an IPv6 host
        found = []
    if found and found[0].startswith("lsh_"):
        return found[0]
    raise FieldError(
        "That is a web address. Paste the token itself, which starts with lsh_live_ or lsh_test_."
    )


def _clean_token(raw: str) -> str:
    text = unwrap(raw)
    if not text.startswith("lsh_"):  # a token may itself contain "=" or ":"
        text = _LABELLED.sub("", text, count=1)
    if looks_like_url(text):
        text = _from_url(text)
    value = token(text, "The token")
    if value.endswith(("...", "…")) or "…" in value:
        raise FieldError(
            "The token ends in '...': that is a shortened display, not the whole token. "
            "Create a new token and copy it in full from the pop-up."
        )
    for prefix, what in _OTHER_PLATFORMS:
        if value.startswith(prefix):
            raise FieldError(
                f"This looks like {what}, not a Lightyshare token. "
                "A Lightyshare token starts with lsh_live_ or lsh_test_."
            )
    if value.lower().startswith("lsh_") and not value.startswith("lsh_"):
        raise FieldError("The token starts with lsh_ in lower case; paste it exactly as shown.")
    if value.startswith("lsh_") and not value.startswith(("lsh_live_", "lsh_test_")):
        raise FieldError(
            "After lsh_ a Lightyshare token says live_ or test_. Copy the whole token again "
            "from Shop › API."
        )
    if value in ("lsh_live_", "lsh_test_"):
        raise FieldError(
            "Only the start of the token was pasted. Copy the whole token from the pop-up."
        )
    if not _SHAPE.fullmatch(value):
        raise FieldError(
            "A Lightyshare token starts with lsh_live_ (your real shop) or lsh_test_ "
            "(testing). Copy it from Shop › API in your Lightyshare dashboard."
        )
    return value


def _clean_account(raw: str) -> str:
    value = " ".join(unwrap(raw).split())
    if value.lower().startswith("lsh_") or "lsh_live_" in value or "lsh_test_" in value:
        raise FieldError(
            "This looks like the token. Here, name the Lightyshare account it belongs to, "
            "such as the email you sign in with."
        )
    if looks_like_url(value) and "lightyshare.com/api" in value.lower():
        raise FieldError("That is an API address. Name the account, such as its sign-in email.")
    if not any(ch.isalnum() for ch in value):
        raise FieldError("Name the account with letters or digits, such as its sign-in email.")
    return value


class LightyshareFlow(Flow):
    id = "lightyshare"
    name = "Lightyshare"
    summary = (
        "One API token from your Lightyshare dashboard. Live tokens (lsh_live_) reach your real "
        "shop, test tokens (lsh_test_) only test data; getkey shows which one you gave."
    )
    api_base = "https://lightyshare.com"
    hosts = ("lightyshare.com",)
    # No expiry exists; Lightyshare advises rotating regularly, so remind quarterly.
    rotation_days = 90
    purpose_unchecked = {
        Purpose.WRITE: "A Lightyshare token can do what the account that created it can, and "
        "getkey cannot test writing without changing something. Make sure that account may "
        "create and update products.",
    }
    revoke_steps = (
        Step(
            "Open the API settings",
            "In the Lightyshare owner dashboard go to Shop › API.",
        ),
        Step(
            "Revoke the token",
            "Find the token by the name it was given and click *Revoke* next to it: it stops "
            "working immediately.",
        ),
    )
    identity_fields = ("account",)
    steps = (
        Step(
            "Sign in as the right person",
            "The token can do exactly what its creator can do on Lightyshare (read, create, "
            "update, delete products and rentals). Sign in with the account whose access the "
            "integration should have.",
        ),
        Step(
            "Open the API page",
            "In your dashboard go to Shop › API (some screens call it Settings › API Tokens).",
        ),
        Step(
            "Create a token",
            "Click *Create New Token* and name it after the integration or person it is for, so "
            "you can revoke just that one later.",
        ),
        Step(
            "Check which kind you got",
            "A token starting lsh_live_ works on your real shop; one starting lsh_test_ only "
            "reaches test data. Use a test token while trying things out.",
        ),
        Step(
            "Copy it now",
            "The token is displayed only once. Copy it straight into getkey; if you lose it, "
            "create a new one and revoke the old.",
        ),
    )
    fields = (
        Field(
            "token",
            "API token",
            hint="Starts with lsh_live_ or lsh_test_, all on one line.",
            example="lsh_live_sk_1234567890abcdef",
            secret=True,
            max_length=500,
            clean=_clean_token,
            shape=_TOKEN_SHAPE,
        ),
        Field(
            "account",
            "Lightyshare account",
            hint="The email you sign in to Lightyshare with, or your shop's name. Lightyshare "
            "does not say which account a token belongs to; this keeps each account's token "
            "apart.",
            example="pat@plantshop.example",
            max_length=_ACCOUNT_MAX,
            clean=_clean_account,
            shape=r"\S(?:.*\S)?",
        ),
    )
    troubleshooting = (
        Trouble(
            "401 \"Invalid or missing token\" (AUTH_INVALID_TOKEN)",
            "The token is incomplete, mistyped or revoked. Copy it again in full; if it was "
            "revoked or lost, create a new one under Shop › API.",
        ),
        Trouble(
            "It works in testing but not on the real shop (or the other way round)",
            "lsh_test_ tokens only see test data and lsh_live_ tokens only live data. Create a "
            "token for the environment you actually need.",
        ),
        Trouble(
            "403 \"Access denied to this resource\" on some calls",
            "The token is fine but its creator cannot touch that product or rental. Create the "
            "token from an account that can, e.g. the shop owner.",
        ),
        Trouble(
            "A token may have leaked",
            "Click *Revoke* next to it under Shop › API: it stops working at once. Then create a "
            "new one and paste it here.",
        ),
    )

    def identity(self, values: Mapping[str, str]) -> str:
        # See the module docstring: the API names no account, so the person does.
        env = environment_of(values.get("token", ""))
        account = account_key(values.get("account", ""))
        return ":".join(p for p in (env, account) if p) or self.id

    def verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        secret = values["token"]
        env = environment_of(secret)
        if env is None:  # check() guarantees the shape; refuse rather than send junk
            raise VerifyError(
                Failure.UNEXPECTED, "The Lightyshare token was not checked before verifying.",
                field="token",
            )
        reply = http.request(
            self,
            "GET",
            VERIFY_URL,
            headers={"Authorization": f"Bearer {secret}", "Accept": "application/json"},
        )
        if reply.status == 401:
            # Old and new bodies (with or without "code": "AUTH_INVALID_TOKEN") mean the same.
            raise VerifyError(
                Failure.BAD_CREDENTIAL,
                f"Lightyshare refused this {env} token: it is incomplete, mistyped, or was "
                "revoked. Copy it again in full, or create a new one under Shop › API.",
                field="token",
            )
        if reply.status not in (200, 403, 404):
            raise VerifyError(
                Failure.UNEXPECTED,
                f"Lightyshare answered with an unexpected HTTP {reply.status}.",
            )
        if reply.status == 404 and not _api_answer(reply):
            raise VerifyError(
                Failure.UNEXPECTED,
                "Could not confirm the token: Lightyshare answered with a page that did not come "
                "from its API (HTTP 404 without the API's headers), which says nothing about the "
                "token. Try again later; if it persists, the API address may have moved.",
            )
        if reply.status == 200 or reply.body.strip():
            # Only the API's own JSON proves the token got past authentication: an HTML page
            # (maintenance, a moved route, a proxy) says nothing about the token.
            reply.json_object()
        version = (reply.headers.get("x-api-version") or "").strip()
        detail = "Lightyshare accepted the token"
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", version):
            detail += f" (API version {version})"
        warnings = [
            "Lightyshare does not report what a token may do: it can do whatever the account "
            "that created it can. Make sure that account has the access the integration needs.",
        ]
        if env == "test":
            warnings.insert(
                0, "This is a test token: it only reaches test data, never your live shop."
            )
        return VerifyResult(
            ok=True,
            detail=detail + ".",
            account=f"{values.get('account') or 'account not named'} ({env} token "
            f"{mask(secret)})",
            environment=env,
            warnings=tuple(warnings),
        )


def _api_answer(reply: Reply) -> bool:
    """The API's own answer: the X-API-Version header it always sends, and a JSON error."""
    version = (reply.headers.get("x-api-version") or "").strip()
    body = reply.json_or_empty()
    return bool(version) and isinstance(body.get("error"), str)


FLOW = LightyshareFlow()
