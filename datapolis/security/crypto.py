"""国产密码 for secrets at rest: SM4-GCM encryption, SM3 hashing and HMAC, a keyring.

Ciphertexts carry the id of the key that made them, so keys can rotate: new writes use the
current key, older ciphertexts stay readable while their key is in the ring. Every ciphertext
is bound to a context string (e.g. "source:371300_gaj_hjxt") as GCM associated data, so a value
copied onto another record does not decrypt.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from datapolis.errors import ConfigError, UserError

PREFIX = "sm4gcm"
NONCE_BYTES = 12
TAG_BYTES = 16
SM4_KEY_BYTES = 16
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class DecryptionError(UserError):
    """A ciphertext is malformed, was made with a key not in the ring, or was tampered with."""


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


def derive_key(secret: str, purpose: str, length: int = SM4_KEY_BYTES) -> bytes:
    """A key for one purpose from the platform secret (HKDF with SM3)."""
    kdf = HKDF(algorithm=hashes.SM3(), length=length, salt=None, info=purpose.encode())
    return kdf.derive(secret.encode())


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]  # key id -> 16-byte SM4 key
    current: str

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ConfigError(f"current key {self.current!r} is not in the keyring")
        for key_id, key in self.keys.items():
            if not _KEY_ID.match(key_id) or len(key) != SM4_KEY_BYTES:
                raise ConfigError(f"keyring entry {key_id!r} needs a short id and a 16-byte key")

    @classmethod
    def from_secret(cls, secret: str, purpose: str = "datapolis/secrets-at-rest") -> Keyring:
        return cls(keys={"k1": derive_key(secret, purpose)}, current="k1")

    def rotated(self, key_id: str, key: bytes) -> Keyring:
        """A ring whose new writes use `key`; older keys stay for reading."""
        return Keyring(keys={**self.keys, key_id: key}, current=key_id)

    def encrypt(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        encryptor = Cipher(algorithms.SM4(self.keys[self.current]), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(context.encode())
        body = encryptor.update(plaintext.encode()) + encryptor.finalize()
        packed = base64.urlsafe_b64encode(nonce + body + encryptor.tag).decode()
        return f"{PREFIX}:{self.current}:{packed}"

    def decrypt(self, token: str, *, context: str) -> str:
        prefix, _, rest = token.partition(":")
        key_id, _, packed = rest.partition(":")
        if prefix != PREFIX or not packed:
            raise DecryptionError("not a Datapolis SM4 ciphertext")
        key = self.keys.get(key_id)
        if key is None:
            raise DecryptionError(f"ciphertext made with key {key_id!r}, which is not in the ring")
        try:
            raw = base64.urlsafe_b64decode(packed.encode())
        except ValueError:
            raise DecryptionError("ciphertext is not valid base64") from None
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("ciphertext is truncated")
        nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(context.encode())
        try:
            return (decryptor.update(body) + decryptor.finalize()).decode()
        except InvalidTag:
            raise DecryptionError(
                "ciphertext does not verify: wrong key, wrong record, or tampered"
            ) from None
