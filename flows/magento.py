"""Magento 2 / Adobe Commerce: an integration's four values, signed with OAuth 1.0a.

What this relies on (Adobe's developer documentation, developer.adobe.com/commerce/webapi):
- get-started/authentication/gs-authentication-token: activating an integration generates a
  consumer key, consumer secret, access token and access token secret; integration tokens last
  until revoked. Since 2.4.4 the access token alone is refused as a bearer token unless
  Stores › Configuration › Services › OAuth › Consumer Settings › "Allow OAuth Access Tokens to
  be used as standalone Bearer tokens" is Yes, which Adobe does not recommend.
- get-started/authentication/gs-authentication-oauth: integrations authenticate with OAuth 1.0a,
  and the merchant picks the resources the integration may use.
- Magento's source (magento/magento2), for what the pages leave out: `Oauth::
  getSupportedSignatureMethods()` lists HMAC-SHA256 only; `Helper\\Signature\\Hmac` signs
  scheme://host[:port]/path with the query's and the oauth_* parameters (RFC 5849); the four
  values are 32 characters of digits and lower-case letters (`Helper\\Oauth::LENGTH_*`,
  `generateRandomString`); `RequestValidator` refuses a route whose ACL resource is missing with
  "The consumer isn't authorized to access %resources." (401 there, 403 in Adobe's oauth-errors
  table: both read alike); `Token\\Provider` and `Oauth` name what is wrong with a key, token or
  signature; `/V1/store/storeConfigs` needs Magento_Backend::store (rate limits: a 429).

Verification reads the store configuration (base URL, locale, currencies), then probes one list
endpoint per resource a migration reads. Magento answers a missing resource and unusable values
with the same 401, so after a 401 from the store configuration one readable resource proves
the values work.

Unconfirmed: that every 2.4.x release answers an OAuth failure with the specific message (read
from the source, not the documentation); the Admin labels of the resources across versions.
With GETKEY_MAGENTO_API_URL set, the signature covers the URL actually requested.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from flows import oauth1
from flows import store_url as typed
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

_VALUE = re.compile(r"[A-Za-z0-9]{32}")
_LABELS = ("access token secret", "consumer secret", "consumer key", "access token")
_DENIED = re.compile(r"consumer (?:isn't|is not) authori[sz]ed to access", re.I)
FOUR = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


@dataclass(frozen=True)
class Resource:  # an ACL resource as the integration's API tab shows it, and a GET needing it
    label: str
    path: str
    required: bool


_PAGE = "searchCriteria%5BpageSize%5D=1"
STORE_CONFIG = "/rest/V1/store/storeConfigs"
RESOURCES: tuple[Resource, ...] = (
    Resource("Stores › Settings › All Stores", STORE_CONFIG, True),
    Resource("Catalog › Inventory › Products", f"/rest/V1/products?{_PAGE}", True),
    Resource("Catalog › Inventory › Categories", f"/rest/V1/categories/list?{_PAGE}", True),
    Resource("Customers", f"/rest/V1/customers/search?{_PAGE}", False),
    Resource("Sales › Operations › Orders", f"/rest/V1/orders?{_PAGE}", False),
)


STEPS = (
    Step("Open the integrations",
         "In the Magento Admin go to System › Extensions › Integrations and click "
         "*Add New Integration*."),
    Step("Name it and confirm with your password",
         "On *Integration Info* give it a name that says who uses it. Leave Callback URL and "
         "Identity link URL empty: they are for apps that install themselves. Enter your own "
         "Admin password under *Your Password*."),
    Step("Tick the resources",
         "On the *API* tab set Resource Access to *Custom* and tick Stores › Settings › All "
         "Stores, Catalog › Inventory › Products and Categories, Customers › All Customers "
         "and Sales › Operations › Orders (or choose *All* if the job needs everything). "
         "Then click *Save*."),
    Step("Activate it",
         "In the list, click *Activate* beside the integration, then *Allow*. A window shows "
         "the consumer key, consumer secret, access token and access token secret."),
    Step("Give getkey the address and the four values",
         "Enter the store's https:// address and paste each value into its own box. They stay "
         "visible later under *Integration Details* when you edit the integration."),
)
TROUBLESHOOTING = (
    Trouble("\"The consumer isn't authorized to access %resources\"",
            "A resource is not ticked. Tick it on the integration's API tab, save, then click "
            "*Reauthorize*: that issues a new access token and secret, so paste those."),
    Trouble("\"The signature is invalid\"",
            "The consumer secret or the access token secret is wrong, or the integration was "
            "reauthorized since you copied them. Copy all four again from Integration Details."),
    Trouble("Only the access token was given and it is refused",
            "Since 2.4.4 Magento refuses an integration's access token on its own unless "
            "Stores › Configuration › Services › OAuth › Consumer Settings › Allow OAuth Access "
            "Tokens to be used as standalone Bearer tokens is Yes. Paste all four values "
            "instead: getkey signs each request with them, which works either way."),
    Trouble("The store address is refused, or nothing answers at it",
            "getkey needs the https:// base URL of the store (Stores › Configuration › General › "
            "Web › Base URLs (Secure)). Plain http:// is refused so the values never travel "
            "unencrypted. Add the folder if Magento is installed in one."),
    Trouble("Adobe Commerce as a Cloud Service (SaaS)",
            "Its REST API takes Adobe IMS credentials from the Adobe Developer Console, not "
            "integrations. getkey covers integrations: Adobe Commerce on cloud infrastructure "
            "or on premises, and Magento Open Source."),
    Trouble("No Activate button, or a token that stopped working",
            "Activating needs the Admin role's right to manage integrations. A deleted or "
            "reauthorized integration's old tokens no longer work: copy the current ones."),
)
REVOKE_STEPS = (
    Step("Delete the integration",
         "In the Magento Admin go to System › Extensions › Integrations and delete it (the bin "
         "icon in its row); its tokens stop working at once."),
    Step("Or issue new tokens",
         "To keep the integration but retire the copy others hold, click *Reauthorize*: the "
         "old access token and secret stop working and new ones are shown."),
)
# Magento's own words for what is wrong (Token\\Provider, Oauth): the field at fault, and why.
# (Length errors cannot reach it: each value was checked to be 32 characters.)
_PROBLEMS: tuple[tuple[str, str, str], ...] = (
    ("consumer having the specified key does not exist", "consumer_key",
     "No integration on this store has this consumer key: it is mistyped, comes from another "
     "store, or the integration was deleted."),
    ("token is not associated with the specified consumer", "access_token",
     "The access token belongs to a different integration than the consumer key. Copy all four "
     "values from the same Integration Details."),
    ("access token has been revoked", "access_token",
     "This access token was revoked (the integration was reauthorized or removed). Copy the "
     "current values from Integration Details."),
    ("specified token does not exist", "access_token",
     "The store has no such access token: it is mistyped or was replaced by a Reauthorize."),
    ("signature is invalid", "consumer_secret",
     "The store rejected the signature: the consumer secret or the access token secret is "
     "wrong. Copy all four values again from the same Integration Details."),
)


def _oauth_problem(message: str) -> VerifyError | None:
    lowered = message.lower()
    for needle, key, detail in _PROBLEMS:
        if needle in lowered:
            return VerifyError(Failure.BAD_CREDENTIAL, detail, field=key)
    return None


def _refused(values: Mapping[str, str]) -> VerifyError:
    if values.get("consumer_key"):
        return VerifyError(
            Failure.BAD_CREDENTIAL,
            "The store refused these values on every call. They may come from different "
            "integrations or another store, the integration may not be active (click Activate "
            "under System › Extensions › Integrations), or no resource is ticked on its API tab.",
            field="consumer_key")
    return VerifyError(
        Failure.BAD_CREDENTIAL,
        "The store refused the access token on its own. Since Magento 2.4.4 an integration's "
        "access token is accepted alone only if Stores › Configuration › Services › OAuth › "
        "Consumer Settings › Allow OAuth Access Tokens to be used as standalone Bearer tokens "
        "is Yes. Paste all four values from Integration Details instead (getkey signs each "
        "request with them, which works whatever that setting), or ask the store's admin to "
        "turn the option on. If it is on, the token is mistyped or was revoked.",
        field="access_token")


def _cut(segments: list[str]) -> list[str]:
    # A pasted Admin page or REST address ends where the store's own folder does.
    ends = [i for i, s in enumerate(segments) if re.match(r"(?i)(rest|soap|graphql)$|admin", s)]
    return segments[: ends[0]] if ends else segments


def _cleaner(label: str) -> Callable[[str], str]:
    def clean(raw: str) -> str:
        text = unwrap(raw)
        found = [name for name in _LABELS if re.search(rf"\b{name}\b", text, re.I)]
        if len(found) > 1 and "\n" in text:
            raise FieldError("This is several values at once. Paste each of the four values "
                             "from Integration Details into its own box.")
        m = re.match(rf"^({'|'.join(_LABELS)})\s*[:=]?\s*", text, re.I)
        if m:
            if m.group(1).lower() != label:
                raise FieldError(f"This is the {m.group(1).lower()}; paste it in its own box.")
            text = text[m.end():]
        value = token(text, f"The {label}")
        if value.startswith("eyJ") and value.count(".") == 2:
            raise FieldError(
                "This is an admin or customer token, which expires within hours. getkey needs "
                "the integration's values from System › Extensions › Integrations."
            )
        if looks_like_url(value):
            raise FieldError(f"That is a web address. Paste the {label} here.")
        if not _VALUE.fullmatch(value):
            raise FieldError(
                f"The {label} is 32 letters and digits, as shown under Integration Details. "
                "Copy it again, whole."
            )
        return value

    return clean


def _value_field(key: str, label: str, required: bool, hint: str) -> Field:
    return Field(key, label.capitalize(), hint=hint, example="a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6",
                 required=required, secret=True, max_length=300, clean=_cleaner(label),
                 shape=_VALUE.pattern)


def _message(reply: Reply) -> str:
    """Magento's error text with its %placeholders filled in from `parameters`."""
    body = reply.json_or_empty()
    message = str(body.get("message") or "")
    params = body.get("parameters")
    if isinstance(params, list):  # positional: %1, %2…
        params = {str(i): value for i, value in enumerate(params, 1)}
    if isinstance(params, dict):
        for name, value in params.items():
            message = message.replace(f"%{name}", str(value))
    return message


class MagentoFlow(Flow):
    id = "magento"
    name = "Magento"
    aliases = ("adobe commerce", "magento 2", "magento2", "magento open source")
    summary = (
        "The store's https:// address and the four values of an integration made under "
        "System › Extensions › Integrations (consumer key and secret, access token and secret)."
    )
    api_base = ""  # none of its own: every call goes to the address the person typed
    hosts = typed.TYPED_STORE
    # Integration tokens never expire; Adobe warns a leaked one gives lasting, unnoticed access.
    rotation_days = 90
    identity_fields = ("store_url",)
    steps = STEPS
    troubleshooting = TROUBLESHOOTING
    revoke_steps = REVOKE_STEPS
    # Magento's ACL does not separate reading from writing: a resource ticked for the
    # integration is usable both ways, so writing needs every resource a migration touches.
    needs = {Purpose.WRITE: tuple(r.label for r in RESOURCES)}
    purpose_field = "access_token"
    purpose_fix = {
        Purpose.WRITE: "Edit the integration's API tab under System › Extensions › Integrations, "
        "tick those resources, save and reauthorize it, then paste the new access token.",
    }
    fields = (
        Field("store_url", "Store address", hint="The store's https:// base URL, with its "
              "folder if Magento is installed in one.", example="https://shop.example.com",
              max_length=300, clean=partial(typed.clean_store_url, product="Magento", cut=_cut),
              shape=typed.SHAPE),
        _value_field("consumer_key", "consumer key", False,
                     "From Integration Details. Needed, like the two secrets, unless the store "
                     "accepts the access token alone."),
        _value_field("consumer_secret", "consumer secret", False, "From Integration Details."),
        _value_field("access_token", "access token", True,
                     "From Integration Details. Alone, it works only where the store allows it "
                     "as a bearer token."),
        _value_field("access_token_secret", "access token secret", False,
                     "From Integration Details."),
    )

    def check_together(self, values: dict[str, str]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for key in FOUR:
            value = values.get(key, "")
            if value and value in seen:
                raise field_error(f"This is the same value as the {seen[value]}; each of the "
                                  "four differs.", key)
            seen[value] = self.field(key).label.lower()
        given = [k for k in FOUR if values.get(k)]
        if given != ["access_token"] and len(given) != 4:
            raise field_error("Fill in all four values from Integration Details (or only the "
                              "access token, if the store allows it alone).",
                              next(k for k in FOUR if not values.get(k)))
        return values

    def verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        base = values["store_url"]
        view = typed.bound_to(self, base)
        store = self._get(http, view, values, base + STORE_CONFIG)
        info: dict[str, Any] | None = None
        if store.status == 200:
            info = self._store_info(store)
        elif store.status in (401, 403):
            self._raise_unless_denied(store, values)
        elif store.status == 404:
            raise typed.no_api_at("Magento", f"No Magento REST API answered at {base}/rest/. "
                                  "Check the store address: its base URL, with its folder if "
                                  "Magento is installed in one (add /index.php if the store's "
                                  "addresses contain it).")
        else:
            raise VerifyError(Failure.UNEXPECTED, f"Magento answered an unexpected {store.status}.")
        granted, missing, unknown = self._probe(http, view, values, base, store)
        if not granted:
            raise _refused(values)
        return self._result(values, base, info, granted, missing, unknown)

    def _get(self, http: PlatformHttp, view: typed.StoreHost, values: Mapping[str, str],
             url: str) -> Reply:
        if values.get("consumer_key"):
            creds = oauth1.Credentials(values["consumer_key"], values["consumer_secret"],
                                       values["access_token"], values["access_token_secret"])
            # Signed over the URL really requested (GETKEY_MAGENTO_API_URL may replace the host).
            auth = oauth1.authorization_header("GET", http.target_url(view, url), creds)
        else:
            auth = f"Bearer {values['access_token']}"
        reply = http.request(view, "GET", url, raise_common=False,
                             headers={"Authorization": auth, "Accept": "application/json"})
        if 300 <= reply.status < 400:
            raise typed.redirect_error(reply, "store_url")
        raise_for_common(reply)
        return reply

    def _raise_unless_denied(self, reply: Reply, values: Mapping[str, str]) -> None:
        """A 401 that names an OAuth problem ends here; "not authorized" needs the probes."""
        if not reply.json_or_empty():
            raise typed.front_door_error(reply, "store_url")
        message = _message(reply)
        if _DENIED.search(message):
            return
        raise _oauth_problem(message) or _refused(values)

    def _probe(self, http: PlatformHttp, view: typed.StoreHost, values: Mapping[str, str],
               base: str, store: Reply) -> tuple[list[str], list[str], list[str]]:
        granted: list[str] = []
        missing: list[str] = []
        unknown: list[str] = []
        for resource in RESOURCES:
            reply = store if resource.path == STORE_CONFIG else self._get(
                http, view, values, base + resource.path)
            message = _message(reply) if reply.status in (401, 403) else ""
            if reply.status == 200:
                granted.append(resource.label)
            elif _DENIED.search(message):
                missing.append(resource.label)  # by its Admin label, as `needs` names it
            else:
                unknown.append(resource.label)
        return granted, missing, unknown

    @staticmethod
    def _store_info(reply: Reply) -> dict[str, Any]:
        configs = reply.json()
        if not isinstance(configs, list) or not configs or not isinstance(configs[0], dict):
            raise VerifyError(Failure.UNEXPECTED,
                              "Magento answered without the store's configuration.")
        views = [c for c in configs if isinstance(c, dict)]
        return next((c for c in views if c.get("code") == "default"), views[0])

    def _result(self, values: Mapping[str, str], base: str, info: Mapping[str, Any] | None,
                granted: list[str], missing: list[str], unknown: list[str]) -> VerifyResult:
        found = _found(info, base)
        required = {r.label for r in RESOURCES if r.required}
        required_missing = tuple(m for m in missing if m in required)
        warnings = [f"{m} is not granted: that data cannot be read with this integration."
                    for m in missing if m not in required_missing]
        if unknown:
            warnings.append("Could not confirm these resources (the store answered "
                            "unexpectedly): " + ", ".join(unknown) + ".")
        if not values.get("consumer_key"):
            warnings.append(
                "This access token works alone only because the store allows integration "
                "tokens as bearer tokens. With all four values getkey keeps working if that "
                "option is turned off.")
        if required_missing:
            return VerifyResult.failed(
                Failure.MISSING_PERMISSION,
                "The integration works but lacks " + ", ".join(required_missing) + ". Tick "
                "them on the integration's API tab, save, then click Reauthorize in the list "
                "and paste the new access token and secret.",
                field="access_token", granted=tuple(granted), missing=tuple(missing),
                warnings=tuple(warnings), **found)
        return VerifyResult(ok=True, granted=tuple(granted), missing=tuple(missing),
                            warnings=tuple(warnings), **found)


def _found(info: Mapping[str, Any] | None, base: str) -> dict[str, Any]:
    host = base.split("://", 1)[1].split("/", 1)[0]
    if info is None:
        return {"store_name": host, "store_url": base}
    url = str(info.get("secure_base_url") or info.get("base_url") or base).rstrip("/")
    locale, currency = info.get("locale"), info.get("base_currency_code")
    details = [f"locale {locale}" if locale else "", f"currency {currency}" if currency else ""]
    account = f"store view {info['code']}" if info.get("code") else None
    return {"store_name": host, "store_url": url, "account": account,
            "environment": ", ".join(d for d in details if d) or None}


FLOW = MagentoFlow()
