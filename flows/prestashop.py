"""PrestaShop: the shop's address and a webservice key, sent as HTTP Basic auth.

What this relies on:
- PrestaShop devdocs, webservice/tutorials/creating-access: the webservice is off until
  Advanced Parameters › Webservice › "Enable PrestaShop's webservice" is Yes; each key is made
  with "Add new webservice key", is 32 characters ("Generate" makes one), and carries its own
  permissions per resource.
- devdocs, webservice/tutorials/testing-access: the API lives at /api/ under the shop's root
  (or its folder); the key is the Basic auth user name with an empty password; putting the key
  in the address is "very risky" and never for production (so getkey never falls back to
  ?ws_key=); when the server does not pass the Authorization header on (PHP as CGI/FastCGI),
  the fix is `CGIPassAuth On` or `SetEnvIf Authorization "(.*)" HTTP_AUTHORIZATION=$1` in
  .htaccess; /api/ lists the resources the key may use, each with get/put/post/delete/head
  attributes, which are the key's permissions.
- User guide (Advanced Parameters › Webservice): "Enable CGI mode for PHP" is the back-office
  switch for the same header problem. Functional docs (key management rules, Add new webservice
  key): 32 characters; letters and digits, the form also allowing @ ? # - _.
- PrestaShop's source (classes/webservice/WebserviceRequest.php, webservice/dispatcher.php):
  a disabled webservice answers 503 "The PrestaShop webservice is disabled. Please activate it
  in the PrestaShop Back Office" (code 22) before looking at the key; a request whose key never
  reached PHP gets a bare "401 Unauthorized" from the dispatcher; an unknown or inactive key
  gets 401 code 20 (and 21); a key with no permission at all 401 code 21; a key not attached to
  this shop (multistore) 403 code 132. The JSON rendering of /api/ (output_format=JSON) lists
  resource names without their methods (WebserviceOutputJSON), so the XML form is read instead.

Unconfirmed: the exact back-office labels in every 1.7/8/9 release; whether a shop in
maintenance mode still answers the webservice; which resources a given migration tool needs
beyond the ones checked here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

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
    api_switched_off,
    bound_to,
    clean_store_url,
    front_door_error,
    no_api_at,
    redirect_error,
)

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

# 32 characters: letters and digits (generated keys), plus the symbols the key form accepts.
_KEY = re.compile(r"[A-Za-z0-9@?#_-]{32}")
_METHODS = ("get", "put", "post", "delete", "head")
# Read access a store migration needs; the second group only narrows what can be moved.
REQUIRED = ("products", "categories", "customers", "orders")
OPTIONAL = ("addresses", "combinations", "stock_availables", "images", "order_details")
# {b} marks emphasis and {c} code in the guide; a failure's detail is plain text.
_HEADER_FIX = (
    "In the back office, Advanced Parameters › Webservice, set {b}Enable CGI mode for PHP{b} to "
    "Yes and save; or add {c}CGIPassAuth On{c} (or {c}SetEnvIf Authorization \"(.*)\" "
    "HTTP_AUTHORIZATION=$1{c}) to the shop's .htaccess file."
)


def _cut(segments: list[str]) -> list[str]:
    # A pasted API, back-office or script address ends where the shop's own folder does.
    ends = [i for i, s in enumerate(segments)
            if re.match(r"(?i)(api|webservice|index\.php|.*\.php)$|admin", s)]
    return segments[: ends[0]] if ends else segments


def _clean_key(raw: str) -> str:
    text = unwrap(raw)
    m = re.match(r"(?i)^(?:key|ws_key|webservice key)\s*[:=]\s*", text)
    value = token(text[m.end():] if m else text, "The webservice key")
    if looks_like_url(value) or "/" in value:
        raise FieldError(
            "That is a web address. Paste only the key here, and the shop's address above "
            "(never the key inside an address: addresses end up in logs)."
        )
    if not _KEY.fullmatch(value):
        raise FieldError(
            "A webservice key is exactly 32 characters, letters and digits, such as the one "
            "the Generate button makes. Copy it again from Advanced Parameters › Webservice."
        )
    return value


STEPS = (
    Step("Turn the webservice on",
         "In the PrestaShop back office go to Advanced Parameters › Webservice, set *Enable "
         "PrestaShop's webservice* to Yes and click *Save*."),
    Step("Add a key",
         "Click *Add new webservice key*, then *Generate!* for a 32-character key. Describe "
         "who uses it and leave *Status* on Yes."),
    Step("Tick the permissions",
         "Tick *View (GET)* for products, categories, customers and orders, and for addresses, "
         "combinations, stock_availables, images and order_details if that data moves too. "
         "If data will be written into this shop, also tick *Modify (PUT)* and *Add (POST)*. "
         "In a multistore, tick the shop under *Shop association*. Click *Save*."),
    Step("Give getkey the address and the key",
         "Enter the shop's https:// address (with its folder if PrestaShop is installed in "
         "one) and paste the key. getkey sends the key in a header, never in the address."),
)
TROUBLESHOOTING = (
    Trouble("\"The PrestaShop webservice is disabled\"",
            "Set *Enable PrestaShop's webservice* to Yes under Advanced Parameters › "
            "Webservice, then verify again."),
    Trouble("The browser keeps asking for the key, or 401 although the key is right",
            "The web server drops the Authorization header before PrestaShop sees it (PHP run "
            "as CGI or FastCGI). " + _HEADER_FIX.format(b="*", c="`")),
    Trouble("\"Resource of type … is not allowed with this authentication key\"",
            "The key lacks that resource: edit the key, tick *View (GET)* on its row, save."),
    Trouble("Nothing answers at /api/ (404)",
            "Check the address and folder. /api/ relies on PrestaShop's .htaccess rewrite "
            "rules: regenerate them under Shop Parameters › Traffic & SEO (save), or add the "
            "api rule to the nginx configuration."),
    Trouble("Someone suggests ?ws_key=… in the address",
            "Avoid it: addresses are written to server logs and browser history. Fix the "
            "Authorization header instead (see above)."),
)
REVOKE_STEPS = (
    Step("Delete the key",
         "In the back office go to Advanced Parameters › Webservice and delete the key (or set "
         "its *Status* to No to suspend it); it stops working at once."),
    Step("Turn the webservice off if nothing else uses it",
         "Set *Enable PrestaShop's webservice* to No and save."),
)


class PrestaShopFlow(Flow):
    id = "prestashop"
    name = "PrestaShop"
    aliases = ("presta", "presta shop")
    summary = (
        "The shop's https:// address and a webservice key from Advanced Parameters › Webservice."
    )
    api_base = ""  # none of its own: every call goes to the address the person typed
    hosts = TYPED_STORE
    # Keys never expire and each one reaches everything it was ticked for: rotate them.
    rotation_days = 90
    identity_fields = ("shop_url",)
    steps = STEPS
    troubleshooting = TROUBLESHOOTING
    revoke_steps = REVOKE_STEPS
    # Writing into the shop: Modify (PUT) and Add (POST) on every resource a migration reads.
    needs = {Purpose.WRITE: tuple(f"{n}: {m}" for n in REQUIRED for m in ("PUT", "POST"))}
    purpose_fix = {
        Purpose.WRITE: "Edit the key under Advanced Parameters › Webservice, tick *Modify "
        "(PUT)* and *Add (POST)* on those rows and save; the key itself stays the same.",
    }

    def granted_for(self, purpose: Purpose, values: Mapping[str, str], http: PlatformHttp,
                    result: VerifyResult) -> tuple[str, ...]:
        # "products (GET, PUT, POST)" -> "products: PUT", "products: POST".
        split = (g.partition(" (") for g in result.granted)
        return (*result.granted, *(f"{name}: {m}" for name, _, ms in split
                                   for m in ms.rstrip(")").split(", ") if m))

    fields = (
        Field("shop_url", "Shop address", hint="The shop's https:// address, with its folder "
              "if PrestaShop is installed in one.", example="https://shop.example.com",
              max_length=300, clean=partial(clean_store_url, product="PrestaShop", cut=_cut),
              shape=SHAPE),
        Field("key", "Webservice key", hint="32 characters, from Advanced Parameters › "
              "Webservice.", example="ABCD1234EFGH5678IJKL9012MNOP3456", secret=True,
              max_length=300, clean=_clean_key, shape=_KEY.pattern),
    )

    def verify(self, values: Mapping[str, str], http: PlatformHttp) -> VerifyResult:
        shop = values["shop_url"]
        reply = http.request(bound_to(self, shop), "GET", shop + "/api/", auth=(values["key"], ""),
                             headers={"Accept": "application/xml"}, raise_common=False)
        if 300 <= reply.status < 400:
            raise redirect_error(reply, "shop_url")
        codes, message = _errors(reply)
        if reply.status == 503 and (22 in codes or "webservice is disabled" in message):
            raise api_switched_off(
                "This shop's webservice (its API) is turned off",
                "In the back office set Advanced Parameters › Webservice › Enable PrestaShop's "
                "webservice to Yes, and save.")
        raise_for_common(reply)
        host = shop.split("://", 1)[1].split("/", 1)[0]
        if reply.status in (401, 403) and not codes and not _from_dispatcher(reply):
            raise front_door_error(reply, "shop_url")
        if reply.status == 401:
            return _refused(codes, host)
        if reply.status == 403 and 132 in codes:
            return VerifyResult.failed(
                Failure.MISSING_PERMISSION,
                f"The key is not attached to this shop ({host}). Edit the key and tick this "
                "shop under Shop association.", field="key", account=host)
        if reply.status == 404:
            raise no_api_at(
                "PrestaShop",
                f"Nothing answered as PrestaShop's webservice at {shop}/api/. Check the address "
                "and its folder; /api/ also needs PrestaShop's .htaccess rules (regenerate them "
                "under Shop Parameters › Traffic & SEO).", field="shop_url")
        if reply.status != 200:
            raise VerifyError(
                Failure.UNEXPECTED, f"PrestaShop answered with an unexpected HTTP {reply.status}.")
        shop_name, permissions = _resources(reply)
        return _result(shop, shop_name or host, permissions)


def _from_dispatcher(reply: Reply) -> bool:
    # webservice/dispatcher.php's answer when no key reached PHP: this body, this realm.
    return ((reply.status == 401 and reply.body.strip() == b"401 Unauthorized")
            or "PrestaShop" in reply.headers.get("www-authenticate", ""))


def _refused(codes: set[int], host: str) -> VerifyResult:
    if not codes or codes & {16, 17}:
        # The dispatcher's bare 401: the Authorization header never reached PHP.
        return api_switched_off(
            "The shop's web server keeps the key from PrestaShop",
            "It drops the Authorization header (usual when PHP runs as CGI or FastCGI). "
            + _HEADER_FIX.format(b="", c="") + " getkey does not fall back to putting the "
            "key in the address, which would write it into server logs.").result()
    if codes == {21}:
        return VerifyResult.failed(
            Failure.MISSING_PERMISSION,
            f"The key works on {host} but has no permission at all. Edit it under Advanced "
            "Parameters › Webservice and tick View (GET) for the resources listed in the guide.",
            field="key", account=host)
    return VerifyResult.failed(
        Failure.BAD_CREDENTIAL,
        f"{host} has no active webservice key with this value: it is mistyped, was deleted, or "
        "its Status is No. Copy it again from Advanced Parameters › Webservice.", field="key")


def _xml(reply: Reply) -> ET.Element | None:
    # Imported here: the parser is for answers, not for every serving process (issue 21).
    import xml.etree.ElementTree as ET

    body = reply.body
    # PrestaShop never sends a DTD; refusing one keeps entity tricks out of the parser.
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        return None
    try:
        return ET.fromstring(body)  # noqa: S314 - DTDs refused above, size capped by PlatformHttp
    except ET.ParseError:
        return None


def _errors(reply: Reply) -> tuple[set[int], str]:
    """PrestaShop's error codes and messages (XML, or JSON when a proxy asked for it)."""
    root = _xml(reply)
    found = [(e.findtext("code") or "", e.findtext("message") or "")
             for e in (root.iter("error") if root is not None else ())]
    errors = reply.json_or_empty().get("errors")
    if isinstance(errors, list):
        found += [(str(e.get("code")), str(e.get("message")))
                  for e in errors if isinstance(e, dict)]
    codes = {int(c.strip()) for c, _ in found if c.strip().isdigit()}
    return codes, " ".join(m for _, m in found).lower()


def _resources(reply: Reply) -> tuple[str, dict[str, set[str]]]:
    root = _xml(reply)
    api = root.find("api") if root is not None else None
    if api is None:
        raise VerifyError(
            Failure.UNEXPECTED,
            "PrestaShop answered without the list of resources: the address may not be a "
            "PrestaShop shop, or something in front of it answered instead.")
    permissions = {child.tag: {m for m in _METHODS if child.get(m) == "true"} for child in api}
    return str(api.get("shopName") or api.get("shop_name") or ""), permissions


def _result(shop: str, shop_name: str, permissions: Mapping[str, set[str]]) -> VerifyResult:
    def label(name: str) -> str:
        methods = permissions.get(name, set())
        return f"{name} ({', '.join(m.upper() for m in _METHODS if m in methods)})"

    granted = tuple(label(n) for n in sorted(permissions) if permissions[n])
    lacking = [n for n in (*REQUIRED, *OPTIONAL) if "get" not in permissions.get(n, set())]
    missing = tuple(f"{n} (GET)" for n in lacking)
    warnings = [f"{n} is not readable: that data cannot be moved with this key."
                for n in lacking if n in OPTIONAL]
    if not any({"put", "post"} & permissions.get(n, set()) for n in REQUIRED):
        warnings.append("The key can only read. Writing into this shop needs Modify (PUT) and "
                        "Add (POST) ticked too.")
    found: dict[str, Any] = {"store_name": shop_name, "store_url": shop,
                             "account": shop.split("://", 1)[1]}
    required_missing = [f"{n} (GET)" for n in lacking if n in REQUIRED]
    if required_missing:
        return VerifyResult.failed(
            Failure.MISSING_PERMISSION,
            "The key works but cannot read " + ", ".join(required_missing) + ". Edit it under "
            "Advanced Parameters › Webservice, tick View (GET) on those rows and save; the key "
            "itself stays the same.",
            field="key", granted=granted, missing=missing, warnings=tuple(warnings), **found)
    return VerifyResult(ok=True, granted=granted, missing=missing, warnings=tuple(warnings),
                        **found)


FLOW = PrestaShopFlow()
