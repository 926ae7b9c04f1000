"""AES-256-GCM for stored secrets, with a keyring so keys can be rotated.

A stored token is ``gk1.<key id>.<urlsafe base64 of nonce + ciphertext + tag>``. The key id
lets old values keep decrypting after a new key is put first; it is a short fingerprint of the
key, so operators never have to name keys. The associated data (AAD) ties the ciphertext to the
row it was written for: a token copied into another row, another workspace or another field
fails authentication instead of decrypting. Error messages never carry key material, tokens or
plaintext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# The key format lives on the ground floor: the key file beside SQLite is made before a store.
from bot.keyfile import KEY_BYTES as _KEY_BYTES
from bot.keyfile import generate_key as generate_key

ENV_NAME = "GETKEY_ENCRYPTION_KEYS"
_PREFIX = "gk1"
_NONCE_BYTES = 12  # 96 bits: the size GCM is designed for; random per value


class KeyringError(Exception):
    """The key configuration is unusable. The message says which key and how to fix it."""


class DecryptError(Exception):
    """A token cannot be decrypted: unknown key id, wrong row (AAD) or tampered bytes."""


def key_id(key: bytes) -> str:
    # A fingerprint, not the key: 48 bits of a domain-separated hash reveal nothing usable.
    return hashlib.sha256(b"getkey key id\x00" + key).hexdigest()[:12]


def aad_for(*parts: str) -> bytes:
    """Unambiguous associated data from row coordinates (JSON, so no separator tricks)."""
    return json.dumps(list(parts), separators=(",", ":")).encode("utf-8")


def _decode_key(text: str, position: int) -> bytes:
    # Standard base64 (+/) is accepted too: people paste keys from other tools.
    padded = text.replace("+", "-").replace("/", "_").rstrip("=")
    padded += "=" * (-len(padded) % 4)
    try:
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise KeyringError(
            f"Key #{position} in {ENV_NAME} is not valid urlsafe base64. "
            "Create a key with `getkey keys generate`."
        ) from None
    if len(raw) != _KEY_BYTES:
        raise KeyringError(
            f"Key #{position} in {ENV_NAME} decodes to {len(raw)} bytes; an AES-256 key is "
            f"{_KEY_BYTES}. Create a key with `getkey keys generate`."
        )
    return raw


@dataclass(frozen=True)
class _Key:
    kid: str
    aead: AESGCM


class Keyring:
    """The configured keys, newest first. Thread-safe: AESGCM objects are stateless."""

    generate_key = staticmethod(generate_key)

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise KeyringError(
                f"No encryption key: set {ENV_NAME} to a key made with `getkey keys generate`."
            )
        self._keys: dict[str, _Key] = {}
        order: list[str] = []
        for position, raw in enumerate(keys, start=1):
            if len(raw) != _KEY_BYTES:
                raise KeyringError(f"Key #{position} is not {_KEY_BYTES} bytes long.")
            kid = key_id(raw)
            if kid in self._keys:
                raise KeyringError(f"Key #{position} in {ENV_NAME} repeats an earlier key.")
            self._keys[kid] = _Key(kid, AESGCM(raw))
            order.append(kid)
        self._order = tuple(order)

    @classmethod
    def from_env(cls, value: str | None) -> Keyring:
        """Parse GETKEY_ENCRYPTION_KEYS' value (comma-separated, newest first), as read by
        bot.settings."""
        parts = [p.strip() for p in (value or "").split(",")]
        parts = [p for p in parts if p]
        if not parts:
            raise KeyringError(
                f"{ENV_NAME} is not set. Create a key with `getkey keys generate` and set "
                f"{ENV_NAME} to it (keep it secret, and keep a copy: without it stored "
                "credentials cannot be read)."
            )
        return cls([_decode_key(p, i) for i, p in enumerate(parts, start=1)])

    @property
    def current_kid(self) -> str:
        """Id of the key new values are encrypted with."""
        return self._order[0]

    @property
    def kids(self) -> tuple[str, ...]:
        return self._order

    def encrypt(self, plaintext: str, aad: bytes) -> str:
        key = self._keys[self._order[0]]
        nonce = os.urandom(_NONCE_BYTES)
        body = key.aead.encrypt(nonce, plaintext.encode("utf-8"), self._header(key.kid) + aad)
        blob = base64.urlsafe_b64encode(nonce + body).decode("ascii").rstrip("=")
        return f"{_PREFIX}.{key.kid}.{blob}"

    def decrypt(self, token: str, aad: bytes) -> str:
        kid, blob = self._split(token)
        key = self._keys.get(kid)
        if key is None:
            raise DecryptError(
                f"This value was encrypted with key {kid}, which is not in {ENV_NAME}. "
                "Add the old key back (after the newer ones) to read it."
            )
        try:
            raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
        except (binascii.Error, ValueError):
            raise DecryptError("The stored value is damaged (bad encoding).") from None
        if len(raw) < _NONCE_BYTES + 16:
            raise DecryptError("The stored value is damaged (too short).")
        try:
            data = key.aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], self._header(kid) + aad)
        except InvalidTag:
            raise DecryptError(
                "The stored value does not authenticate: it was altered or belongs to another row."
            ) from None
        return data.decode("utf-8")

    def token_kid(self, token: str) -> str:
        """The key id a token was written with (no decryption)."""
        return self._split(token)[0]

    @staticmethod
    def _header(kid: str) -> bytes:
        # Authenticating the header too means the key id cannot be swapped without detection.
        return f"{_PREFIX}.{kid}|".encode("ascii")

    @staticmethod
    def _split(token: str) -> tuple[str, str]:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _PREFIX or not parts[1]:
            raise DecryptError("The stored value is not in a format getkey recognises.")
        return parts[1], parts[2]
