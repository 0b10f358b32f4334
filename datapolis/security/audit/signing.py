"""Signed checkpoints: the note that is signed, the Ed25519 key, and checking a signature.

Ed25519, not SM2: the `cryptography` library has SM3 and SM4 but no SM2 signatures, and adding
a second crypto stack (gmssl) for one signature would put unaudited pure-Python code on the
path outsiders rely on. Ed25519 is deterministic, has small keys and signatures, and every
witness tool can check it. See docs/decisions/0005-audit-log.md.

The key is derived from the platform secret key (HKDF-SM3, purpose "datapolis/audit-checkpoint"),
so no extra secret needs managing; its id is the first 8 bytes (hex) of SM3(public key).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from datapolis.errors import UserError
from datapolis.security.crypto import derive_key, sm3

NOTE_FORMAT = "datapolis-audit-checkpoint/1"
KEY_PURPOSE = "datapolis/audit-checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head, as exported to witnesses and embedded in receipts."""

    log: str
    hash: str
    size: int
    root: str  # hex
    signed_at: str  # ISO 8601 UTC
    key_id: str
    signature: str  # base64

    def note(self) -> bytes:
        return checkpoint_note(self.log, self.hash, self.size, self.root, self.signed_at)

    def as_json(self) -> dict[str, object]:
        return {"log": self.log, "hash": self.hash, "size": self.size, "root": self.root,
                "signed_at": self.signed_at, "key_id": self.key_id, "signature": self.signature}

    @classmethod
    def from_json(cls, data: object) -> Checkpoint:
        if not isinstance(data, dict):
            raise UserError("checkpoint is not a JSON object")
        try:
            checkpoint = cls(
                log=str(data["log"]), hash=str(data["hash"]), size=int(data["size"]),
                root=str(data["root"]), signed_at=str(data["signed_at"]),
                key_id=str(data["key_id"]), signature=str(data["signature"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"checkpoint is missing or has a malformed field: {exc}") from None
        return checkpoint


def checkpoint_note(log: str, hash_name: str, size: int, root: str, signed_at: str) -> bytes:
    return f"{NOTE_FORMAT}\n{log}\n{hash_name}\n{size}\n{root}\n{signed_at}\n".encode()


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey

    @classmethod
    def from_secret(cls, secret: str) -> Signer:
        seed = derive_key(secret, KEY_PURPOSE, length=32)
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, note: bytes) -> str:
        return base64.b64encode(self.private_key.sign(note)).decode()


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    return sm3(raw_public(public_key))[:8].hex()


def public_key_text(public_key: Ed25519PublicKey) -> str:
    """The form `datapolis audit public-key` prints and `--public-key` reads: base64 raw bytes."""
    return base64.b64encode(raw_public(public_key)).decode()


def load_public_key(text: str) -> Ed25519PublicKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise UserError("public key is not an Ed25519 key")
            return key
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError):
        raise UserError("public key is neither PEM nor base64 of 32 raw Ed25519 bytes") from None


def signature_valid(public_key: Ed25519PublicKey, checkpoint: Checkpoint) -> bool:
    if checkpoint.key_id != key_id(public_key):
        return False
    try:
        public_key.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.note())
    except (InvalidSignature, ValueError):
        return False
    return True
