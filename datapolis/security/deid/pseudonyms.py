"""Pseudonym tables: one key's HMAC-SM3 pseudonyms of one family of values, hashed once per
distinct value and joined inside the SQL that reads the data.

DuckDB has no SM3, and a Python function called for every row costs about 1.5 µs a value, a
hundred times a plain read of the column. A release's key is fixed, so its pseudonyms are too:
`refresh` hashes only the distinct values the table (value, pseudonym) does not hold yet, and a
large read LEFT JOINs it. The same key gives the same pseudonym in every table it is joined to,
another key a table of unrelated pseudonyms.

The tables live in the private schema `_deid`, which auto-registration, the catalog and the
share views never read. They hold the values next to their pseudonyms, so they are as
sensitive as the source tables; they do not hold the key or anything it could be derived from
(HMAC-SM3 is a PRF: value/pseudonym pairs say nothing of the key), and their names carry only
the key's fingerprint. `retire` drops a key's tables and refuses the key from then on.
"""

# SQL here names only this module's tables and names passed through TableName/quote_identifier;
# every value travels as a parameter.
# ruff: noqa: S608

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from datapolis.security.crypto import sm3
from datapolis.security.deid.keys import KeyContext, Pseudonyms
from datapolis.security.deid.methods import NAME, DeidError
from datapolis.warehouse.duckdb_engine import DuckDBEngine
from datapolis.warehouse.engine import Engine, TableName, quote_identifier

SCHEMA = "_deid"
SOURCES = f"{SCHEMA}.pseudonym_sources"
ALIGNED_SOURCES = f"{SCHEMA}.aligned_sources"  # see aligned.py
RETIRED = f"{SCHEMA}.retired_keys"
PREFIX = "p_"
ALIGNED_PREFIX = "a_"
HASH_BATCH = 1_000_000  # values hashed and appended at a time: memory stays flat

_setup = threading.Lock()
_locks: dict[str, threading.Lock] = {}


@dataclass(frozen=True)
class Refresh:
    table: str  # the qualified pseudonym table
    hashed: int  # distinct values hashed and added this time
    scanned: bool  # False when the source was unchanged since the last refresh


def family_of(column: str, given: str = "") -> str:
    """The family a column's pseudonyms are kept under: the one given, else the column's name
    when it is a short lower-case name, else a digest of it (names may be Chinese or long)."""
    if given:
        return given
    if NAME.fullmatch(column):
        return column
    return "c_" + sm3(column.encode()).hex()[:16]


def table_for(key: bytes, family: str) -> str:
    if not NAME.fullmatch(family):
        raise DeidError(f"pseudonym family {family!r} must be a short lower-case name")
    return f"{SCHEMA}.{PREFIX}{KeyContext(key).fingerprint}_{family}"


def _duckdb(engine: Engine) -> DuckDBEngine:
    if not isinstance(engine, DuckDBEngine):
        raise DeidError(f"keyed pseudonyms need a DuckDB warehouse, not {engine.dialect}")
    return engine


def _ensure_bookkeeping(engine: DuckDBEngine) -> None:
    with _setup:
        if engine.table_exists(RETIRED):
            return
        engine.create_schema(SCHEMA)
        engine.execute(f"CREATE TABLE IF NOT EXISTS {TableName.parse(SOURCES).sql} ("
                       "pseudonyms VARCHAR, source VARCHAR, source_column VARCHAR, "
                       "source_rows BIGINT, checksum HUGEINT, refreshed_at TIMESTAMP)")
        engine.execute(f"CREATE TABLE IF NOT EXISTS {TableName.parse(RETIRED).sql} ("
                       "fingerprint VARCHAR, retired_at TIMESTAMP)")


def check_not_retired(engine: Engine, key: bytes) -> None:
    """Refuse a key that was retired: its pseudonyms are gone and must not come back."""
    if not isinstance(engine, DuckDBEngine) or not engine.table_exists(RETIRED):
        return
    fingerprint = KeyContext(key).fingerprint
    when = engine.scalar(f"SELECT min(retired_at) FROM {TableName.parse(RETIRED).sql} "
                         "WHERE fingerprint = ?", [fingerprint])
    if when is not None:
        raise DeidError(f"the de-identification key {fingerprint} was retired on "
                        f"{when:%Y-%m-%d %H:%M} UTC; read with the release's or consumer's "
                        "current key")


def lock(table: str) -> threading.Lock:
    """The lock every writer of one `_deid` table holds."""
    with _setup:
        return _locks.setdefault(table, threading.Lock())


def refresh(engine: Engine, key: bytes, source: str, column: str, family: str = "") -> Refresh:
    """Bring the key's pseudonym table of `family` up to date with `source.column`.

    A count and a sum of DuckDB's 64-bit hashes of the column tell, in one scan, whether the
    column changed since the last refresh; only then are its distinct values anti-joined
    against the table and the new ones hashed. The table only grows: a value deleted from the
    source keeps its row, which says nothing the key's holder could not compute.
    """
    duck = _duckdb(engine)
    check_not_retired(duck, key)
    family = family_of(column, family)
    target = table_for(key, family)
    target_sql = TableName.parse(target).sql
    source_sql = TableName.parse(source).sql
    value = f"CAST({quote_identifier(column)} AS VARCHAR)"
    _ensure_bookkeeping(duck)
    with lock(target), duck.transaction():
        duck.execute(f"CREATE TABLE IF NOT EXISTS {target_sql} "
                     "(value VARCHAR NOT NULL, pseudonym VARCHAR NOT NULL)")
        rows, checksum = duck.query(
            f"SELECT count({value}), coalesce(sum(hash({value})), 0) "
            f"FROM {source_sql}").to_pylist()[0].values()
        where = "pseudonyms = ? AND source = ? AND source_column = ?"
        ids = [target, str(TableName.parse(source)), column]
        stored = duck.query(f"SELECT source_rows, checksum FROM {TableName.parse(SOURCES).sql} "
                            f"WHERE {where}", ids).to_pylist()
        if stored and (stored[0]["source_rows"], stored[0]["checksum"]) == (rows, checksum):
            return Refresh(target, 0, False)
        new = duck.query(
            f"SELECT DISTINCT {value} AS value FROM {source_sql} s "
            f"WHERE {value} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {target_sql} p WHERE p.value = {value})").column("value")
        hasher = Pseudonyms(key)
        for start in range(0, len(new), HASH_BATCH):
            values = new.slice(start, HASH_BATCH)
            hashed = hasher.many(values.cast(pa.binary()).to_pylist())
            duck.write(target, pa.table({"value": values, "pseudonym": pa.array(hashed)}))
        duck.execute(f"DELETE FROM {TableName.parse(SOURCES).sql} WHERE {where}", ids)
        duck.execute(f"INSERT INTO {TableName.parse(SOURCES).sql} VALUES (?, ?, ?, ?, ?, ?)",
                     [*ids, rows, checksum, datetime.now(UTC).replace(tzinfo=None)])
    return Refresh(target, len(new), True)


def retire(engine: Engine, key: bytes) -> list[str]:
    """Drop every pseudonym table and aligned pseudonym column of `key` and refuse the key
    from now on (a release withdrawn, a consumer's key rotated). Returns the dropped tables."""
    duck = _duckdb(engine)
    _ensure_bookkeeping(duck)
    fingerprint = KeyContext(key).fingerprint
    dropped = [f"{t.schema}.{t.name}" for t in duck.tables(SCHEMA)
               if t.name.startswith((f"{PREFIX}{fingerprint}_", f"{ALIGNED_PREFIX}{fingerprint}_"))]
    with duck.transaction():
        for table in dropped:
            with lock(table):
                duck.execute(f"DROP TABLE {TableName.parse(table).sql}")
                duck.execute(f"DELETE FROM {TableName.parse(SOURCES).sql} "
                             "WHERE pseudonyms = ?", [table])
                if duck.table_exists(ALIGNED_SOURCES):
                    duck.execute(f"DELETE FROM {TableName.parse(ALIGNED_SOURCES).sql} "
                                 "WHERE aligned = ?", [table])
        if not duck.count(f"SELECT count(*) FROM {TableName.parse(RETIRED).sql} "
                          "WHERE fingerprint = ?", [fingerprint]):
            duck.execute(f"INSERT INTO {TableName.parse(RETIRED).sql} VALUES (?, ?)",
                         [fingerprint, datetime.now(UTC).replace(tzinfo=None)])
    return dropped
