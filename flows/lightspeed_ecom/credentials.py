"""Lightspeed eCom's key, secret and shop language as people paste them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flows.base import FieldError
from flows.cleaning import looks_like_url, token, unwrap

# Key and secret formats are undocumented (assumption): one unbroken run of letters and digits,
# never short. Loosen here if a real key is ever refused.
CREDENTIAL = re.compile(r"[A-Za-z0-9_-]{16,128}")
# The language is a path segment naming one of the shop's languages. The sources show two-letter
# codes (nl, en, de, us) but never say that is all there is; a regional code such as pt-br or
# en-gb is accepted too, and a language the shop lacks is refused by the API itself ("Unknown
# or inactive language"), which is the only authority on what the shop has switched on.
LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,4})?")


def _clean_credential(raw: str, label: str) -> str:
    value = unwrap(raw)
    if looks_like_url(value):
        raise FieldError(
            f"That is a web address. Paste the {label} alone: it is shown under Details "
            "once the key is saved."
        )
    if ":" in value or "@" in value:
        raise FieldError(
            f"This looks like the key and the secret joined with a colon. Paste only the {label} "
            "here, and the other part in its own box."
        )
    value = token(value, f"The {label}")
    if not CREDENTIAL.fullmatch(value):
        raise FieldError(
            f"The {label} is one long run of letters and digits, with nothing else around it. "
            "Copy it again from Settings › Developers."
        )
    return value


def clean_key(raw: str) -> str:
    return _clean_credential(raw, "API key")


def clean_secret(raw: str) -> str:
    return _clean_credential(raw, "API secret")


def clean_language(raw: str) -> str:
    value = unwrap(raw).lower().replace("_", "-")
    if looks_like_url(value):
        # A shop address such as https://myshop.com/en/ carries the language as its first segment.
        try:
            parts = urlsplit(value if "://" in value else "https://" + value)
        except ValueError:  # e.g. an unclosed "[" read as an IPv6 host
            parts = urlsplit("")
        first = parts.path.strip("/").split("/", 1)[0]
        if LANGUAGE.fullmatch(first):
            return first
        raise FieldError(
            "That is a web address without a language in it. Enter only the shop language's "
            "short code, such as nl, en or de."
        )
    value = value.strip("/ ")
    if LANGUAGE.fullmatch(value):
        return value
    raise FieldError(
        "Enter the short code of a language your shop has switched on, such as nl, en, de, "
        "fr or us (or a regional one such as pt-br) — not the language's full name."
    )
