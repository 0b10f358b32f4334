from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from datapolis.errors import ConfigError
from datapolis.security.crypto import DecryptionError, Keyring, derive_key, hmac_sm3, sm3


def test_sm3_matches_the_standard_vector() -> None:
    # GB/T 32905-2016, example 1.
    expected = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm3(b"abc").hex() == expected


def test_sm4_matches_the_standard_vector() -> None:
    # GB/T 32907-2016, example 1: one block, key == plaintext.
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305 - test vector
    assert encryptor.update(key).hex() == "681edf34d206965e86b3e94f536e4246"


def test_round_trip_and_ciphertexts_differ() -> None:
    ring = Keyring.from_secret("s" * 40)
    first = ring.encrypt("口令-Passw0rd", context="source:a")
    second = ring.encrypt("口令-Passw0rd", context="source:a")
    assert first != second and "Passw0rd" not in first
    assert first.startswith("sm4gcm:k1:")
    assert ring.decrypt(first, context="source:a") == "口令-Passw0rd"


def test_context_binds_the_ciphertext_to_its_record() -> None:
    ring = Keyring.from_secret("s" * 40)
    token = ring.encrypt("secret", context="source:a")
    with pytest.raises(DecryptionError, match="does not verify"):
        ring.decrypt(token, context="source:b")


def test_tampering_and_garbage_are_refused() -> None:
    ring = Keyring.from_secret("s" * 40)
    token = ring.encrypt("secret", context="c")
    # Flip one bit of the sealed bytes (a changed base64 character may touch only padding bits).
    prefix, packed = token.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(packed))
    raw[len(raw) // 2] ^= 0x01
    flipped = f"{prefix}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    for bad in (flipped, "plain text", "sm4gcm:k1:", "sm4gcm:k1:!!!", "sm4gcm:k1:AAAA"):
        with pytest.raises(DecryptionError):
            ring.decrypt(bad, context="c")


def test_rotation_keeps_old_ciphertexts_readable() -> None:
    old = Keyring.from_secret("s" * 40)
    token = old.encrypt("v1", context="c")
    new = old.rotated("k2", derive_key("another secret", "rotation"))
    assert new.encrypt("v2", context="c").startswith("sm4gcm:k2:")
    assert new.decrypt(token, context="c") == "v1"
    other = Keyring.from_secret("t" * 40)
    with pytest.raises(DecryptionError, match="does not verify"):
        other.decrypt(token, context="c")
    with pytest.raises(DecryptionError, match="not in the ring"):
        Keyring(keys={"k9": derive_key("x", "y")}, current="k9").decrypt(token, context="c")


def test_keys_are_purpose_bound_and_validated() -> None:
    assert derive_key("s", "a") != derive_key("s", "b")
    assert hmac_sm3(b"k", b"x") != hmac_sm3(b"k", b"y")
    with pytest.raises(ConfigError):
        Keyring(keys={"k1": b"short"}, current="k1")
    with pytest.raises(ConfigError):
        Keyring(keys={"k1": derive_key("s", "a")}, current="k2")
