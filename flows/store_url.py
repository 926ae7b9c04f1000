"""A store address typed by the person, for platforms that run on the merchant's own domain
(Magento, PrestaShop, WooCommerce…), and the one host a credential for that store may reach.

`PlatformHttp` refuses any host outside `flow.hosts`. Such a flow's own `hosts` is
`TYPED_STORE`, which matches no host at all; each verification sends through
`bound_to(flow, store_url)`, a view of the flow whose only allowed host is the typed one. So a
credential can go to the address its owner typed (or to GETKEY_<ID>_API_URL, which replaces
scheme and host of every call) and nowhere else, not even after a redirect.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from flows.base import FieldError
from flows.budget import Budget
from flows.cleaning import unwrap
from flows.http import Platform, Reply
from flows.outcomes import Failure, VerifyError

__all__ = [
    "SHAPE",
    "TYPED_STORE",
    "StoreHost",
    "bound_to",
    "clean_store_url",
    "front_door_error",
    "redirect_error",
]

# Deliberately not a host name: the flow alone can send nowhere (see module docstring).
TYPED_STORE: tuple[str, ...] = ("(the store address the person typed)",)

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_SEGMENT = r"[A-Za-z0-9._~%!$&'()*+,;=:@-]+"
# What clean_store_url returns: https, a DNS name of two labels or more, an optional port other
# than 443, an optional installation folder, no trailing slash, no query.
SHAPE = rf"https://(?:{_LABEL}\.)+{_LABEL}(?::[0-9]{{1,5}})?(?:/{_SEGMENT})*"
# Names that only ever mean this machine or a private network.
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")
# Query parameters that carry a credential: an address holding one has leaked it already.
_SECRET_PARAMS = re.compile(
    r"ws_key|key|api_?key|access_token|consumer_(?:key|secret)|oauth_.*", re.I
)

PathCut = Callable[[list[str]], list[str]]


@dataclass(frozen=True)
class StoreHost:
    """What PlatformHttp needs to know about a flow, bound to one typed store. The flow's
    request budget (flows.budget), if it declares one, stays the flow's: it is counted per id."""

    id: str
    name: str
    hosts: tuple[str, ...]
    budget: Budget | None = None


def bound_to(flow: Platform, store_url: str) -> StoreHost:
    """The flow, allowed to send to the host of `store_url` (a cleaned address) only."""
    host = urlsplit(store_url).hostname or ""
    return StoreHost(flow.id, flow.name, (host,), getattr(flow, "budget", None))


def _https_address(text: str, product: str) -> str:
    lower = text.lower()
    if lower.startswith("http://"):
        raise FieldError(
            f"getkey only sends {product} keys over HTTPS: over plain http:// anyone on the way "
            "could read the key. Enter the store's https:// address; if the store has none, "
            "it needs a certificate first."
        )
    if "://" in text and not lower.startswith("https://"):
        raise FieldError("Enter the store's web address, starting with https://.")
    return text if lower.startswith("https://") else "https://" + text


def _host(hostname: str) -> str:
    import httpx  # with the first store address, not in every serving process (issue 21)

    try:
        host = hostname.rstrip(".").encode("idna").decode("ascii").lower()
        host.encode("ascii").decode("idna")  # every xn-- label must decode, too
        _ = httpx.URL(f"https://{host}/").host  # and the HTTP client must take it (IDNA 2008)
    except (UnicodeError, httpx.InvalidURL):
        raise FieldError("The store address has a domain name that cannot exist.") from None
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise FieldError(
            "Enter the store's domain name (such as shop.example.com), not an IP address."
        )
    if host == "localhost" or host.endswith(_PRIVATE_SUFFIXES) or "." not in host:
        raise FieldError(
            "Enter the store's public address, such as shop.example.com: getkey cannot reach "
            "a name that only works inside a private network."
        )
    if not re.fullmatch(rf"(?:{_LABEL}\.)+{_LABEL}", host) or host.rsplit(".", 1)[-1].isdigit():
        raise FieldError("The store address has a domain name that cannot exist.")
    return host


def clean_store_url(raw: str, *, product: str, cut: PathCut | None = None) -> str:
    """https://host[:port][/folder] from what the person typed or pasted.

    `cut` trims the path's segments to the installation folder (each platform knows which of
    its own addresses, such as an admin page or an API path, people paste)."""
    text = unwrap(raw)
    if any(ch.isspace() for ch in text):
        raise FieldError("The store address has spaces in it; enter it as one line.")
    text = _https_address(text, product)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise FieldError(
            "That is not a web address; enter it like https://shop.example.com."
        ) from None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise FieldError(
            "The address has something before an @, such as a key. Enter only the store's "
            "address: a key in an address ends up in server logs and browser history."
        )
    if any(_SECRET_PARAMS.fullmatch(k) for k, _ in parse_qsl(parts.query, True)):
        raise FieldError(
            "The address carries a key in it (after the ?). Enter the address without it: "
            "getkey sends keys in a header, never in an address that gets logged."
        )
    host = _host(parts.hostname or "")
    segments = [s for s in parts.path.split("/") if s]
    if cut is not None:
        segments = cut(segments)
    if any(s in (".", "..") or not re.fullmatch(_SEGMENT, s) for s in segments):
        raise FieldError("The store address has characters a web address cannot contain.")
    if port is not None and not 0 < port < 65536:
        raise FieldError("The port in the store address is not a valid number.")
    netloc = host if port in (None, 443) else f"{host}:{port}"
    return "https://" + netloc + "".join("/" + s for s in segments)


def redirect_error(reply: Reply, field: str) -> VerifyError:
    """A 3xx from a store: say where it points (scheme and host only), never follow it.
    `field` is the flow's store address field, which the failure points at."""
    try:
        location = urlsplit(reply.headers.get("location", ""))
        where = f"{location.scheme}://{location.hostname}" if location.hostname else ""
    except ValueError:
        where = ""
    pointer = f" to {where}" if where else ""
    return VerifyError(
        Failure.UNEXPECTED,
        f"{reply.platform} answered with a redirect{pointer} (HTTP {reply.status}); getkey "
        "never follows a redirect with a key attached. If the store has moved, enter its "
        "current https:// address.",
        field=field,
    )


def front_door_error(reply: Reply, field: str) -> VerifyError:
    """A 401 or 403 that the platform's API did not write (a web page instead of its own error
    format): something in front of the store refused the request before the key was judged."""
    what = ("asked for a password of its own" if "www-authenticate" in reply.headers
            else "refused the request")
    return VerifyError(
        Failure.UNEXPECTED,
        f"Something in front of {reply.platform} {what} (HTTP {reply.status}) before "
        f"{reply.platform} saw the key: a password-protected staging site, a firewall or a CDN. "
        "Let requests to the store's API through, then verify again. The key itself was not "
        "judged.",
        field=field,
    )


# -- a self-hosted store whose API is not where it was asked ---------------------------------
# bot.wording's sentences for these failures are about hosted platforms (a plan without API
# access, an ID from another account): for a store on its own server the address, or a
# setting of that server, is what to fix, and the key was never judged.
NOT_JUDGED = "Nothing is wrong with the key as far as getkey can tell: it was not tried."


def no_api_at(platform: str, detail: str, field: str = "store_url") -> VerifyError:
    """Nothing at the address answered as the platform's API (`detail` says what to check)."""
    return VerifyError(
        Failure.WRONG_IDENTIFIER, detail, field=field,
        headline=f"No {platform} API answered at this address",
        next_step="Correct the store address as said above, then {retry}. " + NOT_JUDGED,
    )


def api_switched_off(headline: str, detail: str, field: str | None = None) -> VerifyError:
    """The store is there but its API is switched off, or its server keeps the key from it
    (`detail` says which setting turns it on)."""
    return VerifyError(
        Failure.NO_API_ACCESS, detail, field=field, headline=headline,
        next_step="Change that setting on the store (whoever hosts it can), then {retry}. "
        + NOT_JUDGED,
    )
