"""The keyring: AES-256-GCM round trips, row binding, key rotation, and clear key errors."""

from __future__ import annotations

import base64

import pytest

from bot.store.crypto import DecryptError, Keyring, KeyringError, aad_for, generate_key
from tests.storage_fixtures import KEY_A, KEY_B

SECRET = "shpat_0123456789abcdef-very-secret"
ROW = aad_for("getkey-secret", "cred1", "T1", "wix", "api_key")


def test_round_trip_and_token_shape() -> None:
    ring = Keyring.from_env(KEY_A)
    token = ring.encrypt(SECRET, ROW)
    assert SECRET not in token
    prefix, kid, _ = token.split(".")
    assert (prefix, kid) == ("gk1", ring.current_kid)
    assert ring.decrypt(token, ROW) == SECRET


def test_each_encryption_uses_a_fresh_nonce() -> None:
    ring = Keyring.from_env(KEY_A)
    tokens = {ring.encrypt(SECRET, ROW) for _ in range(50)}
    assert len(tokens) == 50
    nonces = {base64.urlsafe_b64decode(t.split(".")[2] + "==")[:12] for t in tokens}
    assert len(nonces) == 50


@pytest.mark.parametrize(
    "other_row",
    [
        aad_for("getkey-secret", "cred2", "T1", "wix", "api_key"),  # another credential
        aad_for("getkey-secret", "cred1", "T2", "wix", "api_key"),  # another workspace
        aad_for("getkey-secret", "cred1", "T1", "ecwid", "api_key"),  # another platform
        aad_for("getkey-secret", "cred1", "T1", "wix", "client_secret"),  # another field
    ],
)
def test_value_bound_to_its_row(other_row: bytes) -> None:
    ring = Keyring.from_env(KEY_A)
    token = ring.encrypt(SECRET, ROW)
    with pytest.raises(DecryptError, match="another row"):
        ring.decrypt(token, other_row)


def test_aad_parts_cannot_be_shifted() -> None:
    # "a|b" + "c" must not equal "a" + "b|c": the encoding keeps parts apart.
    assert aad_for("ab", "c") != aad_for("a", "bc")


def test_tampered_token_fails() -> None:
    ring = Keyring.from_env(KEY_A)
    prefix, kid, blob = ring.encrypt(SECRET, ROW).split(".")
    flipped = blob[:-3] + ("A" if blob[-3] != "A" else "B") + blob[-2:]
    with pytest.raises(DecryptError):
        ring.decrypt(f"{prefix}.{kid}.{flipped}", ROW)
    with pytest.raises(DecryptError, match="format"):
        ring.decrypt("not a token", ROW)


def test_older_keys_still_decrypt_and_new_values_use_the_newest() -> None:
    old = Keyring.from_env(KEY_A)
    token = old.encrypt(SECRET, ROW)
    both = Keyring.from_env(f"{KEY_B}, {KEY_A}")
    assert both.decrypt(token, ROW) == SECRET
    assert both.token_kid(both.encrypt(SECRET, ROW)) == Keyring.from_env(KEY_B).current_kid
    with pytest.raises(DecryptError, match="not in GETKEY_ENCRYPTION_KEYS") as caught:
        Keyring.from_env(KEY_B).decrypt(token, ROW)
    assert KEY_A not in str(caught.value) and SECRET not in str(caught.value)


def test_key_id_cannot_be_relabelled() -> None:
    both = Keyring.from_env(f"{KEY_B},{KEY_A}")
    token = both.encrypt(SECRET, ROW)
    _, _, blob = token.split(".")
    other_kid = both.kids[1]
    with pytest.raises(DecryptError):
        both.decrypt(f"gk1.{other_kid}.{blob}", ROW)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "not set"),
        ("", "not set"),
        (" , ", "not set"),
        ("not-base64-!!!", "#1 .*not valid urlsafe base64"),
        (base64.urlsafe_b64encode(b"short").decode(), "#1 .*decodes to 5 bytes"),
        (f"{KEY_A},{KEY_A[:-8]}", "#2 "),
        (f"{KEY_A},{KEY_A}", "#2 .*repeats"),
    ],
)
def test_bad_configuration_is_explained_without_key_material(
    value: str | None, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GETKEY_ENCRYPTION_KEYS", raising=False)
    with pytest.raises(KeyringError, match=message) as caught:
        Keyring.from_env(value)
    text = str(caught.value)
    assert "getkey keys generate" in text or "repeats" in text
    assert KEY_A not in text and KEY_A[:-8] not in text


def test_generated_keys_are_valid_and_distinct() -> None:
    keys = {generate_key() for _ in range(10)}
    assert len(keys) == 10
    ring = Keyring.from_env(",".join(keys))
    assert len(ring.kids) == 10
    assert ring.decrypt(ring.encrypt("x", ROW), ROW) == "x"
