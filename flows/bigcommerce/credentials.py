"""BigCommerce credentials as people paste them: the store hash (alone, or inside the API path
or control panel address), the access token, or the whole credentials .txt the API account
pop-up downloads."""

from __future__ import annotations

import re

from flows.base import FieldError
from flows.cleaning import looks_like_url, token, unwrap

# Observed store hashes are 9-10 lowercase letters and digits (older stores: digits only);
# the bounds are loose so an unusual real hash is never refused by format alone.
HASH = re.compile(r"[A-Za-z0-9]{4,16}")
# Observed access tokens are 30-31 lowercase letters and digits. [I]
TOKEN = re.compile(r"[A-Za-z0-9]{20,60}")
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


def _hash_from(text: str) -> str | None:
    """The store hash inside a pasted API path or control panel address, if there is one."""
    for pattern in (_API_PATH, _CONTROL_PANEL):
        m = pattern.search(text)
        if m:
            return m.group(1)
    return None


def clean_hash(raw: str) -> str:
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
    if _CLIENT_SECRET.fullmatch(value) or (len(value) > 16 and TOKEN.fullmatch(value)):
        raise FieldError(
            "This looks like a token or client ID, not the store hash. The hash is the short "
            "code after /stores/ in the API PATH."
        )
    if not HASH.fullmatch(value):
        raise FieldError(
            "A store hash is a short code of letters and digits, such as abc123xyz: the part "
            "after /stores/ in the API PATH."
        )
    return value


def _strip_label(value: str) -> str:
    # A line copied from the .txt file or a header dump: "ACCESS TOKEN: …", "X-Auth-Token: …".
    m = re.match(r"^(?:access[ _]token|x-auth-token)\s*:\s*", value, re.I)
    return value[m.end():] if m else value


def clean_token(raw: str) -> str:
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
    if not TOKEN.fullmatch(value):
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


def clean_file(raw: str) -> str:
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
        tok = clean_token(found["ACCESS TOKEN"])
    except FieldError as exc:
        raise FieldError(f"In the pasted file, the ACCESS TOKEN is not usable: {exc}") from None
    store_hash = ""  # the store hash box may hold it instead
    if "API PATH" in found:
        try:
            store_hash = clean_hash(found["API PATH"])
        except FieldError:
            raise FieldError(
                "In the pasted file, the API PATH does not contain a store hash "
                "(it should look like https://api.bigcommerce.com/stores/…/v3/)."
            ) from None
    return f"{store_hash}:{tok}"
