"""WooCommerce: the store's https:// address and a REST API key (consumer key and secret).

The key travels as HTTP Basic auth, which WooCommerce accepts over HTTPS only; a plain http://
address is refused on the field and nothing is sent. Verification reads the system status (site
address, WooCommerce version), then learns whether the key may write from a harmless probe: a
POST to the same route, which has no POST handler. WooCommerce checks the key's own permission
before it looks for a route, so a read-only key gets "does not have write permissions" and a
read/write key gets "no route", and nothing is ever written.

What this relies on (read 2026-12-03):
- developer.woocommerce.com/docs/apis/rest-api/authentication: keys are made under WooCommerce ›
  Settings › Advanced › REST API › Add key, for a chosen WordPress user, with Read, Write or
  Read/Write access, and act with that user's roles and capabilities; "If the WordPress user
  associated with an API key is deleted, the API key will cease to function"; over HTTPS, Basic
  auth with the consumer key as user and the secret as password.
- developer.woocommerce.com/docs/getting-started-with-the-woocommerce-rest-api and
  woocommerce.com/document/woocommerce-rest-api: the /wp-json/wc/v3/ routes need permalinks
  other than "Plain" (Settings › Permalinks); the consumer secret is shown once.
- woocommerce/woocommerce, includes/class-wc-rest-authentication.php: Basic auth only when the
  request is over SSL; a known key with a wrong secret gets 401 `woocommerce_rest_authentication_
  error` "Consumer secret is invalid."; an unknown key leaves the request unauthenticated, so the
  route answers 401 `woocommerce_rest_cannot_view` "Sorry, you cannot list resources." (the
  same happens when the server strips the Authorization header); the key's permission is
  checked on `rest_pre_dispatch`, before routing: "The API key provided does not have read
  permissions." / "… write permissions." (401); since 11.1 keys are also honoured on
  `?rest_route=` addresses (Plain permalinks), earlier versions ignore them there.
- WooCommerce REST API docs (woocommerce.github.io/woocommerce-rest-api-docs), System status:
  `GET /wp-json/wc/v3/system_status` → `environment.home_url`, `site_url`, `version`,
  `wp_version`; it needs the manage_woocommerce capability (Administrator, Shop manager), else
  `woocommerce_rest_cannot_view` with 403 for a signed-in user.
- Key format ck_/cs_ + 40 hexadecimal characters: `wc_rand_hash()` (sha1) in WooCommerce's key
  generation; platform-apis §8b quotes the same from third-party examples.
Unconfirmed: whether deleting a user also deletes its keys (either way the key is refused as
unknown, which is how getkey words it); the exact body a security plugin or firewall sends.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
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
)
from flows.cleaning import looks_like_url, token, unwrap
from flows.http import PlatformHttp, Reply, raise_for_common
from flows.store_url import (
    SHAPE,
    TYPED_STORE,
    StoreHost,
    api_switched_off,
    bound_to,
    clean_store_url,
    front_door_error,
    no_api_at,
    redirect_error,
)

_KEY = re.compile(r"ck_[a-f0-9]{40}")
_SECRET = re.compile(r"cs_[a-f0-9]{40}")
STATUS = "wc/v3/system_status"
_NOT_PLAIN = ("Set WordPress's permalinks to anything but Plain (Settings › Permalinks, for "
              "example Post name, then Save changes)")
_HEADER_FIX = ("if the store runs PHP as CGI/FastCGI, the server drops the Authorization header "
               "unless its .htaccess has SetEnvIf Authorization \"(.*)\" HTTP_AUTHORIZATION=$1")


def _cut(segments: list[str]) -> list[str]:
    # A pasted admin, login or API address ends where the WordPress folder does.
    ends = [i for i, s in enumerate(segments)
            if re.fullmatch(r"(?i)wp-admin|wp-json|wp-login\.php|index\.php|wp-content", s)]
    return segments[: ends[0]] if ends else segments


def _clean_part(raw: str, prefix: str, other: str, what: str) -> str:
    text = unwrap(raw)
    m = re.match(r"(?i)^consumer[ _](?:key|secret)\s*[:=]\s*", text)
    value = token(text[m.end():] if m else text, f"The consumer {what}")
    if looks_like_url(value) or "/" in value:
        raise FieldError(f"That is a web address. Paste only the consumer {what} here; it "
                         f"starts with {prefix}.")
    if value.startswith(other):
        right = "secret" if what == "key" else "key"
        raise FieldError(f"This is the consumer {right} ({other}…). The consumer {what} starts "
                         f"with {prefix}; the two are shown one above the other.")
    pattern = _KEY if prefix == "ck_" else _SECRET
    if not pattern.fullmatch(value):
        raise FieldError(f"A consumer {what} is {prefix} followed by 40 characters (digits and "
                         "a to f). Copy it again, whole.")
    return value


class WooCommerceFlow(Flow):
    id = "woocommerce"
    name = "WooCommerce"
    aliases = ("woo", "woo commerce", "woocommerce rest api", "wordpress woocommerce")
    summary = ("The store's https:// address and a REST API key (consumer key ck_… and secret "
               "cs_…) from WooCommerce › Settings › Advanced › REST API.")
    api_base = ""  # none of its own: every call goes to the address the person typed
    hosts = TYPED_STORE
    # Keys never expire and act as the WordPress user they belong to: rotate them.
    rotation_days = 90
    identity_fields = ("store_url",)
    # `granted` says "read" and "write" as the write probe found them.
    needs = {Purpose.READ: ("read",), Purpose.WRITE: ("read", "write")}
    purpose_fix = {Purpose.WRITE: "Open the key under WooCommerce › Settings › Advanced › REST "
                   "API, set Permissions to Read/Write and save; key and secret stay the same."}
    purpose_field = "consumer_key"
    steps = (
        Step("Check the permalinks",
             "In WordPress, Settings › Permalinks must be anything but *Plain* (*Post name* is "
             "a good choice); click *Save Changes*. With Plain, the REST API's usual addresses "
             "do not exist."),
        Step("Open the REST API keys",
             "Go to WooCommerce › Settings › *Advanced* › *REST API* and click *Add key* "
             "(*Create an API key* when there is none yet)."),
        Step("Describe it, pick the user and the access",
             "Description: who uses the key and why. User: an *Administrator* or *Shop manager* "
             "account that will stay; the key acts with that user's rights and stops working "
             "if the user is deleted. Permissions: *Read/Write* (*Read* is enough to move data "
             "out of the store)."),
        Step("Generate and copy both values now",
             "Click *Generate API key*. Copy the *Consumer key* (ck_…) and the *Consumer secret* "
             "(cs_…) straight into getkey: the secret is shown this once."),
        Step("Give getkey the store's address",
             "Its https:// address, with the folder if WordPress lives in one (such as "
             "https://example.com/shop). A store without HTTPS cannot be used: over http:// "
             "the key would travel readable."),
    )
    fields = (
        Field("store_url", "Store address", hint="The store's https:// address, with its "
              "folder if WordPress is installed in one.", example="https://shop.example.com",
              max_length=300, clean=partial(clean_store_url, product="WooCommerce", cut=_cut),
              shape=SHAPE),
        Field("consumer_key", "Consumer key", hint="Starts with ck_.", example="ck_1a2b…",
              secret=True, max_length=200,
              clean=partial(_clean_part, prefix="ck_", other="cs_", what="key"),
              shape=_KEY.pattern),
        Field("consumer_secret", "Consumer secret", hint="Starts with cs_; shown only once.",
              example="cs_9f8e…", secret=True, max_length=200,
              clean=partial(_clean_part, prefix="cs_", other="ck_", what="secret"),
              shape=_SECRET.pattern),
    )
    troubleshooting = (
        Trouble("401 \"Consumer secret is invalid.\"",
                "The secret is mistyped or belongs to another key. It cannot be shown again: "
                "revoke the key and add a new one."),
        Trouble("401 \"Sorry, you cannot list resources.\"",
                "WooCommerce did not recognise the key: it is mistyped or revoked, its "
                "WordPress user was deleted, or the server stripped the Authorization header ("
                + _HEADER_FIX + ")."),
        Trouble("403 \"Sorry, you cannot list resources.\"",
                "The key works but its user is neither Administrator nor Shop manager. Edit "
                "the key and pick such a user, or change the user's role."),
        Trouble("A 404 or the home page instead of data",
                _NOT_PLAIN + ". Also check that WooCommerce is active on that site."),
        Trouble("\"The API key provided does not have write permissions.\"",
                "The key is Read only. Open it under REST API, set Permissions to Read/Write "
                "and save; the key and secret stay the same."),
        Trouble("A redirect, or a firewall page",
                "Enter the exact address the store opens at (with or without www). Security "
                "plugins and firewalls that block /wp-json/ must let it through."),
    )
    revoke_steps = (
        Step("Revoke the key in WooCommerce",
             "WooCommerce › Settings › Advanced › REST API: hover over the key's description "
             "and click *Revoke* (or open it and click *Revoke key*). It stops working at once."),
    )

    def verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        store = values["store_url"]
        where = bound_to(self, store)
        auth = (values["consumer_key"], values["consumer_secret"])
        host = urlsplit(store).hostname or store
        plain = False
        reply = self._send(http, where, "GET", f"{store}/wp-json/{STATUS}", auth)
        if reply.status == 404 or (reply.status == 200 and not _json(reply)):
            if _json(reply) and _code(reply) != "rest_no_route":
                raise self._unexpected(reply)
            if _json(reply):
                raise self._no_woocommerce(store)
            reply, plain = self._plain_permalinks(http, where, store, auth, reply), True
        if reply.status != 200:
            return self._refused(reply, host)
        status = reply.json_object()
        write = self._send(http, where, "POST", _route(store, STATUS, plain), auth)
        name = self._site_name(http, where, store, plain)
        return self._result(status, write, store, host, name, plain)

    # -- steps ------------------------------------------------------------------------------
    def _send(self, http: PlatformHttp, where: StoreHost, method: str, url: str,
              auth: tuple[str, str] | None) -> Reply:
        reply = http.request(where, method, url, auth=auth, raise_common=False,
                             headers={"Accept": "application/json"},
                             json_body={} if method == "POST" else None)
        if 300 <= reply.status < 400:
            raise redirect_error(reply, "store_url")
        raise_for_common(reply)
        return reply

    def _plain_permalinks(self, http: PlatformHttp, where: StoreHost, store: str,
                          auth: tuple[str, str], first: Reply) -> Reply:
        """/wp-json/ is not there: ask the same route the way Plain permalinks spell it."""
        reply = self._send(http, where, "GET", _route(store, STATUS, True), auth)
        if reply.status == 200 and _json(reply):
            return reply
        if _json(reply) and reply.status in (401, 403):
            raise api_switched_off(
                "With Plain permalinks, this store's WooCommerce API is out of reach",
                "Its permalinks are set to Plain, so WooCommerce's API has no /wp-json/ "
                "address and this WooCommerce version does not accept keys on the other one. "
                f"{_NOT_PLAIN}.", field="store_url")
        if _json(reply) and _code(reply) == "rest_no_route":
            raise self._no_woocommerce(store)
        if first.status == 200 or reply.status == 200:
            raise VerifyError(
                Failure.UNEXPECTED,
                "WooCommerce's API did not answer at this address: the store sent a web page "
                "instead of data. Check the address (the WordPress site itself, with its "
                "folder); a security plugin or firewall may also be blocking /wp-json/.",
                field="store_url")
        raise no_api_at(
            "WooCommerce",
            f"No WordPress REST API answered at {store}. Check the address (the WordPress site "
            "itself, with its folder if it has one).")

    def _site_name(self, http: PlatformHttp, where: StoreHost, store: str,
                   plain: bool) -> str | None:
        """The site title from the REST index, which needs no key (none is sent)."""
        try:
            reply = self._send(http, where, "GET", _route(store, "", plain), None)
            name = reply.json_object().get("name") if reply.status == 200 else None
        except VerifyError:
            return None
        return str(name) if isinstance(name, str) and name.strip() else None

    def _result(self, status: Mapping[str, Any], write: Reply, store: str, host: str,
                name: str | None, plain: bool) -> VerifyResult:
        env = status.get("environment")
        env = env if isinstance(env, Mapping) else {}
        version, wp = env.get("version"), env.get("wp_version")
        site = str(env.get("home_url") or env.get("site_url") or store)
        warnings: list[str] = []
        if plain:
            warnings.append("Permalinks are set to Plain: tools must call the API as "
                            f"{store}/?rest_route=/wc/v3/…, and many only know /wp-json/. "
                            f"{_NOT_PLAIN}.")
        if (urlsplit(site).hostname or host) != host:
            warnings.append(f"WordPress calls itself {site}; keys were checked at {store}.")
        message = str(write.json_or_empty().get("message") or "")
        if write.status == 401 and "does not have write permissions" in message:
            granted: tuple[str, ...] = ("read",)
            warnings.append("The key is Read only: enough to move data out of this store, not "
                            "into it. For writing, open the key under REST API and set "
                            "Permissions to Read/Write.")
        elif write.status == 404 and _code(write) == "rest_no_route":
            granted = ("read", "write")
        else:
            granted = ("read",)
            warnings.append("Could not tell whether this key may write; only reading was "
                            "confirmed.")
        return VerifyResult(
            ok=True, store_name=name, store_url=site, account=host, granted=granted,
            environment=(f"WooCommerce {version}" + (f", WordPress {wp}" if wp else "")
                         if version else None),
            warnings=tuple(warnings))

    # -- failures -----------------------------------------------------------------------------
    def _refused(self, reply: Reply, host: str) -> VerifyResult:
        if reply.status in (401, 403) and not _json(reply):
            raise front_door_error(reply, "store_url")
        code, message = _code(reply), str(reply.json_or_empty().get("message") or "")
        if "does not have read permissions" in message:
            return VerifyResult.failed(
                Failure.MISSING_PERMISSION,
                "The key is Write only, so it cannot read anything. Open it under WooCommerce › "
                "Settings › Advanced › REST API and set Permissions to Read/Write (or Read).",
                field="consumer_key", account=host, granted=("write",), missing=("read",))
        if reply.status == 403 and code.endswith("cannot_view"):
            return VerifyResult.failed(
                Failure.MISSING_PERMISSION,
                "WooCommerce knows this key, but its WordPress user may not manage the store "
                "(it is neither Administrator nor Shop manager). Edit the key and choose such a "
                "user, or give the user that role.", field="consumer_key", account=host)
        if "secret is invalid" in message.lower():
            raise VerifyError(Failure.BAD_CREDENTIAL,
                              "WooCommerce knows this consumer key, but the secret does not "
                              "match it. Copy the secret of the same key; if it is lost, revoke "
                              "the key and add a new one.", field="consumer_secret")
        if reply.status == 401:
            raise VerifyError(
                Failure.BAD_CREDENTIAL,
                "WooCommerce did not recognise this consumer key. It is mistyped or revoked, or "
                "the WordPress user it belonged to was deleted (a key stops working with its "
                f"user; add a new key for a user who stays). Less often, {_HEADER_FIX}.",
                field="consumer_key")
        raise self._unexpected(reply)

    def _no_woocommerce(self, store: str) -> VerifyError:
        return no_api_at(
            "WooCommerce",
            f"WordPress answers at {store}, but WooCommerce's API is not there: WooCommerce is "
            "not active on this site, or this is not the store's address.")

    def _unexpected(self, reply: Reply) -> VerifyError:
        return VerifyError(Failure.UNEXPECTED,
                           f"WooCommerce answered with an unexpected HTTP {reply.status}.")


def _route(store: str, route: str, plain: bool) -> str:
    return f"{store}/?rest_route=/{route}" if plain else f"{store}/wp-json/{route}"


def _json(reply: Reply) -> bool:
    """A JSON object, as WordPress's REST API writes every answer (errors included)."""
    return "json" in reply.headers.get("content-type", "") and bool(reply.json_or_empty())


def _code(reply: Reply) -> str:
    return str(reply.json_or_empty().get("code") or "")


FLOW = WooCommerceFlow()
