"""R-Series tokens as people paste them (alone, in a key file, or in a token answer), and
what a JWT access token says about itself: expiry, scopes, account and the app it was issued to.
The claims are read without checking the signature: Lightspeed's answer decides."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from typing import Any

from flows.base import FieldError
from flows.cleaning import looks_like_url, token, unwrap

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# Any token the API might accept as a Bearer token: RFC 6750's b64token syntax, the only thing
# an "Authorization: Bearer" header can carry. A JWT-looking value must also decode, which the
# cleaner checks; everything else is for Lightspeed to judge.
ACCESS_SHAPE = r"[A-Za-z0-9._~+/-]+=*"
_REFRESH = re.compile(r"[A-Za-z0-9._~+/=-]{20,3000}")
# A refresh token is never the access token (an eyJ… value with exactly two dots).
REFRESH_SHAPE = r"(?!eyJ[^.]*\.[^.]*\.[^.]*$)" + _REFRESH.pattern


def _b64json(part: str) -> Any:
    padded = part + "=" * (-len(part) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    # RecursionError: about a thousand nested brackets exhaust the JSON decoder's depth.
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None


def claims(access_token: str) -> dict[str, Any]:
    """The JWT's payload, unverified. Empty if the token is not a readable JWT."""
    parts = access_token.split(".")
    if len(parts) != 3:
        return {}
    payload = _b64json(parts[1])
    return payload if isinstance(payload, dict) else {}


def expires_at(access_token: str) -> datetime | None:
    exp = claims(access_token).get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool) and 0 < exp < 32503680000:
        return datetime.fromtimestamp(exp, tz=UTC)
    return None


def scopes(access_token: str) -> tuple[str, ...]:
    scope = claims(access_token).get("scope")
    if isinstance(scope, str):
        return tuple(s for s in scope.split() if s)
    if isinstance(scope, list):
        return tuple(str(s) for s in scope if s)
    return ()


def pasted_tokens(raw: str) -> dict[str, str]:
    """Tokens from a pasted token-endpoint answer ({"access_token": …}) or a key file with
    'name: value' lines; {} when the paste is a single value."""
    text = unwrap(raw)
    found: dict[str, str] = {}
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # deep nesting exhausts the decoder's depth
            return {}
        if isinstance(data, dict):
            for key in ("access_token", "refresh_token"):
                if isinstance(data.get(key), str):
                    found[key] = data[key]
        return found
    for line in text.splitlines():
        name, sep, value = line.partition(":") if ":" in line else line.partition("=")
        name = re.sub(r"[\s_-]+", " ", name.strip().lower())
        if not sep or not value.strip():
            continue
        if "refresh" in name:
            found["refresh_token"] = value.strip()
        elif "access" in name or name in ("token", "api key", "authorization"):
            found["access_token"] = value.strip()
    return found


def _is_jwt(value: str) -> bool:
    return value.startswith("eyJ") and value.count(".") == 2


def clean_access(raw: str) -> str:
    picked = pasted_tokens(raw).get("access_token")
    value = token(picked if picked is not None else raw, "The access token")
    if "://" in value:
        raise FieldError(
            "That is a web address. Paste the access token (the API key) itself."
        )
    if value.startswith("def50"):
        raise FieldError(
            "This is the refresh token. The access token is the other value the app gave you."
        )
    if not re.fullmatch(ACCESS_SHAPE, value):
        raise FieldError(
            "The access token has characters a token never contains (only letters, digits and "
            "- . _ ~ + / =). Copy the key alone, or paste the whole file the app gave you."
        )
    # Only a value that claims to be a JWT can be judged by format: one that does not decode
    # was cut or altered on the way. Anything else is left to Lightspeed to judge.
    if _is_jwt(value) and (
        not _JWT.fullmatch(value) or not claims(value) or _b64json(value.split(".")[0]) is None
    ):
        raise FieldError(
            "This looks like a token that was cut or altered: its middle part does not decode. "
            "Copy it again, whole, from where the app gave it to you."
        )
    return value


def audience(access_token: str) -> tuple[str, ...]:
    """The client IDs the token was issued to (the `aud` claim); empty when unknown."""
    aud = claims(access_token).get("aud")
    if isinstance(aud, str):
        return (aud,) if aud else ()
    if isinstance(aud, list):
        return tuple(str(a) for a in aud if isinstance(a, str) and a)
    return ()


def clean_refresh(raw: str) -> str:
    picked = pasted_tokens(raw).get("refresh_token")
    value = token(picked if picked is not None else raw, "The refresh token")
    if looks_like_url(value):
        raise FieldError("That is a web address. Paste the refresh token itself.")
    if _is_jwt(value):
        raise FieldError(
            "This is the access token. The refresh token is the other, longer value "
            "(it usually starts with def50)."
        )
    if not _REFRESH.fullmatch(value):
        raise FieldError(
            "A refresh token is one long run of letters and digits. Copy it again, whole."
        )
    return value
