"""Decoder of PostgreSQL's built-in `pgoutput` logical-replication protocol, version 1.

https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html

`Decoder.feed(payload)` takes one message and returns the transaction's changes when the
message is its Commit: a transaction is held until it commits, because every change carries
the transaction's end LSN as its resume position and that is only known at the Commit.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from datapolis.ingest.cdc.events import Change, Op
from datapolis.ingest.cdc.pgtypes import parse_text

POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_FULL_IDENTITY = ord("f")
_FIRST_USER_OID = 16384  # below: built-in types, which pgtypes knows by OID


class ProtocolError(Exception):
    """A message the decoder cannot read (a bug, or a protocol version we did not ask for)."""


def lsn_to_text(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def lsn_from_text(text: str) -> int:
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def pg_timestamp(microseconds: int) -> datetime:
    return POSTGRES_EPOCH + timedelta(microseconds=microseconds)


@dataclass(frozen=True)
class Column:
    name: str
    type_oid: int
    in_key: bool


@dataclass(frozen=True)
class Relation:
    oid: int
    schema: str
    name: str
    replica_identity: int  # ord of 'd' default, 'n' nothing, 'f' full, 'i' index
    columns: tuple[Column, ...]

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.in_key)


@dataclass(frozen=True)
class Commit:
    """What the decoder knows once a transaction committed (also when it had no changes)."""

    end_lsn: int
    committed_at: datetime
    changes: list[Change]


_UNCHANGED = object()  # an unchanged TOASTed value: not sent by the server


class _Reader:
    def __init__(self, payload: bytes) -> None:
        self.data = memoryview(payload)
        self.at = 0

    def _unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += size
        return value

    def byte(self) -> int:
        value: int = self._unpack("!B")
        return value

    def int16(self) -> int:
        value: int = self._unpack("!h")
        return value

    def int32(self) -> int:
        value: int = self._unpack("!i")
        return value

    def uint32(self) -> int:
        value: int = self._unpack("!I")
        return value

    def int64(self) -> int:
        value: int = self._unpack("!q")
        return value

    def string(self) -> str:
        end = bytes(self.data[self.at :]).index(b"\0") + self.at
        value = bytes(self.data[self.at : end]).decode()
        self.at = end + 1
        return value

    def tuple_data(self) -> list[Any]:
        values: list[Any] = []
        for _ in range(self.int16()):
            kind = chr(self.byte())
            if kind == "n":
                values.append(None)
            elif kind == "u":
                values.append(_UNCHANGED)
            elif kind == "t":
                length = self.int32()
                values.append(bytes(self.data[self.at : self.at + length]).decode())
                self.at += length
            else:
                raise ProtocolError(f"tuple value of kind {kind!r} (binary mode is not requested)")
        return values


class Decoder:
    """Turns pgoutput messages into Changes, one committed transaction at a time."""

    def __init__(self, base_types: Callable[[Set[int]], dict[int, int]] | None = None) -> None:
        """`base_types` maps user-defined type OIDs to the built-in type under a domain."""
        self.relations: dict[int, Relation] = {}
        self._base_types = base_types
        self._type_cache: dict[int, int] = {}
        self.in_transaction = False
        self._pending: list[tuple[Relation, Op, dict[str, Any]]] = []

    def feed(self, payload: bytes) -> Commit | None:
        reader = _Reader(payload)
        kind = chr(reader.byte())
        if kind == "B":
            reader.int64()  # final LSN of the transaction
            reader.int64()  # commit timestamp (the Commit message repeats it)
            reader.uint32()  # xid
            self.in_transaction = True
            self._pending = []
        elif kind == "C":
            return self._commit(reader)
        elif kind == "R":
            self._relation(reader)
        elif kind == "I":
            relation = self._relation_of(reader)
            if chr(reader.byte()) != "N":
                raise ProtocolError("insert without a new tuple")
            self._pending.append((relation, Op.INSERT, self._row(relation, reader.tuple_data())))
        elif kind == "U":
            self._update(reader)
        elif kind == "D":
            relation = self._relation_of(reader)
            marker = chr(reader.byte())  # 'K' the key columns, or 'O' the whole old row
            row = self._row(relation, reader.tuple_data())
            if marker == "K":  # the other columns arrive as nulls: they are not known
                row = {name: row[name] for name in relation.key}
            self._pending.append((relation, Op.DELETE, row))
        elif kind == "T":
            count = reader.int32()
            reader.byte()  # options: 1 CASCADE, 2 RESTART IDENTITY
            for _ in range(count):
                relation = self.relations[reader.uint32()]
                self._pending.append((relation, Op.TRUNCATE, {}))
        elif kind in "YOM":
            pass  # Type (we convert by OID), Origin, logical decoding Message: nothing to yield
        else:
            raise ProtocolError(f"unknown pgoutput message {kind!r}")
        return None

    def _commit(self, reader: _Reader) -> Commit:
        reader.byte()  # flags, unused
        reader.int64()  # LSN of the commit record
        end_lsn = reader.int64()
        committed_at = pg_timestamp(reader.int64())
        position = lsn_to_text(end_lsn)
        last = len(self._pending) - 1
        changes = [
            Change(
                table=relation.qualified_name,
                op=op,
                row=row,
                key=relation.key,
                committed_at=committed_at,
                position=position,
                transaction_end=index == last,
            )
            for index, (relation, op, row) in enumerate(self._pending)
        ]
        self._pending = []
        self.in_transaction = False
        return Commit(end_lsn=end_lsn, committed_at=committed_at, changes=changes)

    def _relation(self, reader: _Reader) -> None:
        oid = reader.uint32()
        schema = reader.string() or "pg_catalog"
        name = reader.string()
        replica_identity = reader.byte()
        columns = []
        for _ in range(reader.int16()):
            flags = reader.byte()
            column_name = reader.string()
            type_oid = reader.uint32()
            reader.int32()  # type modifier
            in_key = bool(flags & 1)
            columns.append(Column(name=column_name, type_oid=type_oid, in_key=in_key))
        unknown = {c.type_oid for c in columns if c.type_oid >= _FIRST_USER_OID} - set(
            self._type_cache
        )
        if unknown and self._base_types is not None:
            self._type_cache.update({oid: oid for oid in unknown} | self._base_types(unknown))
        columns = [
            Column(c.name, self._type_cache.get(c.type_oid, c.type_oid), c.in_key) for c in columns
        ]
        self.relations[oid] = Relation(oid, schema, name, replica_identity, tuple(columns))

    def _relation_of(self, reader: _Reader) -> Relation:
        oid = reader.uint32()
        try:
            return self.relations[oid]
        except KeyError:
            raise ProtocolError(f"change for relation {oid} before its Relation message") from None

    def _update(self, reader: _Reader) -> None:
        relation = self._relation_of(reader)
        marker = chr(reader.byte())
        old: list[Any] | None = None
        if marker in "KO":
            old = reader.tuple_data()
            marker = chr(reader.byte())
        if marker != "N":
            raise ProtocolError("update without a new tuple")
        new = reader.tuple_data()
        row = self._row(relation, new)
        if old is not None:
            if relation.replica_identity == _FULL_IDENTITY:
                # Identity FULL logs the whole old row, detoasted: fill unchanged values from it.
                new = [o if n is _UNCHANGED else n for n, o in zip(new, old, strict=True)]
                row = self._row(relation, new)
            old_row = self._row(relation, old)
            old_key = {name: old_row[name] for name in relation.key}
            if any(row.get(name) != value for name, value in old_key.items()):
                # The key changed: the row under the old key is gone (a merge on the new key
                # alone would leave it behind).
                self._pending.append((relation, Op.DELETE, old_key))
        self._pending.append((relation, Op.UPDATE, row))

    @staticmethod
    def _row(relation: Relation, values: list[Any]) -> dict[str, Any]:
        """Column name → Python value; unchanged TOASTed columns are left out of the row."""
        return {
            column.name: parse_text(column.type_oid, value)
            for column, value in zip(relation.columns, values, strict=True)
            if value is not _UNCHANGED
        }
