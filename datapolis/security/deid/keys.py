"""Keys for keyed methods: one per release or per consumer, derived from the platform secret.

A pseudonym is HMAC-SM3(key, value), so the same person gets the same pseudonym everywhere one
key is used (joins work inside a release, or across one consumer's grants) and a different one
under any other key (two consumers cannot join their copies). DuckDB has no SM3, so a large
read joins a pseudonym table computed once per distinct value (`pseudonyms.py`), and a small
read calls the key's HMAC as a vectorised Python function registered on the warehouse
connection; table and function names carry a fingerprint of the key, never the key.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from cryptography.hazmat.primitives import hashes

from datapolis.security.crypto import derive_key, hmac_sm3, sm3
from datapolis.security.deid.methods import DeidError
from datapolis.warehouse.duckdb_engine import DuckDBEngine
from datapolis.warehouse.engine import Engine, quote_identifier

KEY_BYTES = 32
PSEUDONYM_HEX = 32  # 128 bits of the HMAC: collisions stay out of reach at any table size
_BLOCK = 64  # SM3's block size, for the HMAC pads
_installing = threading.Lock()  # concurrent reads of one key register its function once
_installed: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()


def release_key(secret: str, release: str) -> bytes:
    """The key of one release (an open-data publication, a download batch)."""
    return derive_key(secret, f"datapolis/deid/release/{release}", KEY_BYTES)


def consumer_key(secret: str, consumer: str) -> bytes:
    """The key of one consumer (an app or department holding grants)."""
    return derive_key(secret, f"datapolis/deid/consumer/{consumer}", KEY_BYTES)


@dataclass(frozen=True)
class KeyContext:
    """What keyed methods read while one SELECT is built."""

    key: bytes
    row_id: str | None = None  # a column naming each row; noise is drawn per row when given
    # Columns whose pseudonyms come from a joined pseudonym table: column -> quoted SQL name
    # of the joined pseudonym; every other pseudonym calls the key's function.
    joined: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.key) < 16:
            raise DeidError("a de-identification key needs at least 16 bytes")

    @property
    def fingerprint(self) -> str:
        return sm3(b"datapolis/deid/fingerprint" + self.key).hex()[:16]

    def pseudonym_function(self) -> str:
        return f"dp_pseudonym_{self.fingerprint}"

    def pseudonym_sql(self, column_sql: str, column: str) -> str:
        joined = self.joined.get(column)
        if joined is not None:
            return joined
        return f"{self.pseudonym_function()}(CAST({column_sql} AS VARCHAR))"

    def seed(self, column: str) -> int:
        return int.from_bytes(hmac_sm3(self.key, b"noise/" + column.encode())[:8]) >> 1

    @property
    def row_id_sql(self) -> str | None:
        return quote_identifier(self.row_id) if self.row_id else None


def _sm3_state() -> Any:
    # hashlib's SM3 (OpenSSL) copies and finalises in about half the time of cryptography's
    # Hash objects; where the linked OpenSSL lacks SM3, cryptography's own build has it.
    if "sm3" in hashlib.algorithms_available:
        return hashlib.new("sm3")
    return hashes.Hash(hashes.SM3())


def _digest(state: Any) -> bytes:
    return bytes(state.digest() if hasattr(state, "digest") else state.finalize())


class Pseudonyms:
    """HMAC-SM3 of many values under one key: the pads are hashed once, so each value costs
    two SM3 finalisations from copied states (about 1 µs in CPython)."""

    def __init__(self, key: bytes) -> None:
        block = (sm3(key) if len(key) > _BLOCK else key).ljust(_BLOCK, b"\0")
        self._inner = _sm3_state()
        self._inner.update(bytes(b ^ 0x36 for b in block))
        self._outer = _sm3_state()
        self._outer.update(bytes(b ^ 0x5C for b in block))

    def one(self, value: bytes) -> str:
        inner = self._inner.copy()
        inner.update(value)
        outer = self._outer.copy()
        outer.update(_digest(inner))
        return _digest(outer).hex()[:PSEUDONYM_HEX]

    def many(self, values: Iterable[bytes]) -> list[str]:
        one = self.one
        return [one(value) for value in values]

    def __call__(self, column: pa.Array) -> pa.Array:
        """The UDF: repeated values within a batch are computed once."""
        seen: dict[bytes, str] = {}
        out: list[str | None] = []
        for value in column.cast(pa.binary()).to_pylist():
            if value is None:
                out.append(None)
                continue
            found = seen.get(value)
            if found is None:
                found = seen[value] = self.one(value)
            out.append(found)
        return pa.array(out, pa.string())


def install(engine: Engine, context: KeyContext) -> None:
    """Register the key's pseudonym function on the warehouse, once per engine."""
    if not isinstance(engine, DuckDBEngine):
        raise DeidError(f"keyed pseudonyms need a DuckDB warehouse, not {engine.dialect}")
    name = context.pseudonym_function()
    known = _installed.setdefault(engine, set())
    if name in known:  # duckdb_functions() lists thousands: a page read must not ask each time
        return
    with _installing:
        if not engine.count("SELECT count(*) FROM duckdb_functions() WHERE function_name = ?",
                            [name]):
            engine.create_function(name, Pseudonyms(context.key), ['VARCHAR'], 'VARCHAR')
        known.add(name)

