"""OAuth 1.0a request signing (RFC 5849), for platforms whose API keys are a consumer pair and a
token pair (Magento 2 / Adobe Commerce integrations, among others).

Written out rather than taken from a library: the project has no OAuth 1.0a dependency, the
piece needed is small (section 3.4: the signature base string and HMAC signatures, section 3.5.1:
the Authorization header), and it is checked against the RFC's own worked example and other
published vectors in tests/test_oauth1.py. PLAINTEXT and RSA-SHA1 are left out on purpose: the
first sends the secrets themselves, and no platform here uses the second.

Sign the URL the request is really sent to (`PlatformHttp.target_url`), query included:
the server recomputes the signature from the URL it received.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

__all__ = [
    "SIGNATURE_METHODS",
    "Credentials",
    "authorization_header",
    "base_string_uri",
    "normalized_parameters",
    "parse_authorization_header",
    "percent_encode",
    "signature",
    "signature_base_string",
]

SIGNATURE_METHODS = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Credentials:
    """The client credentials (consumer) and token credentials of RFC 5849 section 1.1."""

    consumer_key: str
    consumer_secret: str
    token: str = ""
    token_secret: str = ""

    def __repr__(self) -> str:  # never let a secret reach a log line through repr()
        return f"Credentials(consumer_key=…{self.consumer_key[-4:]}, token=…{self.token[-4:]})"


def percent_encode(value: str) -> str:
    """Section 3.6: UTF-8, then every byte outside ALPHA / DIGIT / "-" / "." / "_" / "~"."""
    return quote(value.encode("utf-8"), safe="~")


def base_string_uri(url: str) -> str:
    """Section 3.4.1.2: scheme and host in lower case, the port only when not the default,
    the path as sent (an empty one is "/"), no query and no fragment."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    port = parts.port
    authority = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{authority}{parts.path or '/'}"


def normalized_parameters(pairs: Iterable[tuple[str, str]]) -> str:
    """Section 3.4.1.3.2: encode each name and value, sort by name then value (encoded,
    byte order), join as name=value with "&"."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _query_pairs(url: str) -> list[tuple[str, str]]:
    # Section 3.4.1.3.1: the query is decoded as application/x-www-form-urlencoded ("+" is a
    # space), empty values kept.
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def signature_base_string(
    method: str,
    url: str,
    oauth_params: Mapping[str, str],
    form: Iterable[tuple[str, str]] = (),
) -> str:
    """Section 3.4.1: METHOD&encoded base string URI&encoded normalised parameters, where the
    parameters are the query's, the oauth_* protocol parameters (never oauth_signature or
    realm) and, for a form-encoded body, the body's."""
    params = [
        *_query_pairs(url),
        *((k, v) for k, v in oauth_params.items() if k not in ("oauth_signature", "realm")),
        *form,
    ]
    return "&".join(
        (
            method.upper(),
            percent_encode(base_string_uri(url)),
            percent_encode(normalized_parameters(params)),
        )
    )


def signature(base_string: str, consumer_secret: str, token_secret: str, method: str) -> str:
    """Sections 3.4.2 (and its SHA-256 variant): the key is both encoded secrets joined by "&"
    (the token secret may be empty); the digest is base64-encoded."""
    digest = SIGNATURE_METHODS.get(method)
    if digest is None:
        raise ValueError(f"unsupported OAuth signature method {method!r}")
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    mac = hmac.new(key.encode("ascii"), base_string.encode("ascii"), digest)
    return base64.b64encode(mac.digest()).decode("ascii")


def authorization_header(
    method: str,
    url: str,
    credentials: Credentials,
    *,
    signature_method: str = "HMAC-SHA256",
    form: Iterable[tuple[str, str]] = (),
    nonce: str | None = None,
    timestamp: int | None = None,
    realm: str | None = None,
) -> str:
    """The value of an `Authorization: OAuth …` header (section 3.5.1) for one request.

    A fresh random nonce and the current time are used unless given (tests pin them)."""
    oauth = {
        "oauth_consumer_key": credentials.consumer_key,
        "oauth_nonce": nonce if nonce is not None else secrets.token_hex(16),
        "oauth_signature_method": signature_method,
        "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "oauth_version": "1.0",
    }
    if credentials.token:
        oauth["oauth_token"] = credentials.token
    base = signature_base_string(method, url, oauth, form)
    oauth["oauth_signature"] = signature(
        base, credentials.consumer_secret, credentials.token_secret, signature_method
    )
    fields = [f'realm="{realm}"'] if realm is not None else []
    fields += [f'{percent_encode(k)}="{percent_encode(v)}"' for k, v in oauth.items()]
    return "OAuth " + ", ".join(fields)


def parse_authorization_header(value: str) -> dict[str, str]:
    """The parameters of an `OAuth …` Authorization header, decoded (for servers and tests).
    Raises ValueError when the value is not an OAuth header."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "oauth":
        raise ValueError("not an OAuth Authorization header")
    found: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, quoted = item.strip().partition("=")
        if not sep or len(quoted) < 2 or quoted[0] != '"' or quoted[-1] != '"':
            raise ValueError("malformed OAuth parameter")
        found[unquote(name)] = unquote(quoted[1:-1])
    return found
