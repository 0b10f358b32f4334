"""Row-aligned pseudonym columns: one key's pseudonyms of one source column, stored in the
source table's row order and read beside it with DuckDB's `POSITIONAL JOIN`.

Joining a pseudonym table (`pseudonyms.py`) costs a hash build and probe per read and loses the
table's row order. A release's key and a table's rows rarely change, so `ensure` pays for that
join once: `_deid.a_<key fingerprint>_<digest of table and column>` holds, row for row, the
source's rowid `r`, DuckDB's hash of the value `h` and its pseudonym. A read then pairs the
two tables by position, which is a column copy.

Validity is checked twice. Before a read, `ensure` compares the column's row count, an
order-sensitive checksum (the sum of `hash(rowid, value)`: an update, a delete and reinsert of
the same value, a reordering all change it) and the last rowid with what the last build
recorded; when only rows past the last rowid were added it appends their pseudonyms, otherwise
it rebuilds. During the read, every row is checked again (`r = rowid AND h = hash(value)`) and
a row that does not match, because a write landed between the check and the read, gets its
pseudonym from the key's function: a read is correct even while a table changes under it,
only slower for the rows that changed.

Builds hold the pseudonym table's per-table lock and run in one transaction with the
checksum they record, so readers see either the old aligned table with the old record or the
new one with the new; DuckDB's snapshots keep a reader's table alive through a rebuild.
"""

# SQL here names only this module's tables and names passed through TableName/quote_identifier;
# recorded numbers are rendered by int(); every other value travels as a parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from datapolis.security.crypto import sm3
from datapolis.security.deid.keys import KeyContext, install
from datapolis.security.deid.pseudonyms import ALIGNED_PREFIX as PREFIX
from datapolis.security.deid.pseudonyms import ALIGNED_SOURCES as SOURCES
from datapolis.security.deid.pseudonyms import SCHEMA, lock, refresh
from datapolis.warehouse.duckdb_engine import DuckDBEngine
from datapolis.warehouse.engine import Engine, TableName, quote_identifier

Action = Literal["unchanged", "appended", "rebuilt"]


@dataclass(frozen=True)
class Aligned:
    table: str  # the qualified aligned table
    source: str
    column: str
    action: Action = "unchanged"
    rows: int = 0  # rows whose pseudonyms were written this time


def table_for(key: bytes, source: str, column: str) -> str:
    digest = sm3(f"{TableName.parse(source)}\0{column}".encode()).hex()[:16]
    return f"{SCHEMA}.{PREFIX}{KeyContext(key).fingerprint}_{digest}"


def possible(engine: Engine, source: str) -> bool:
    """A base table of a DuckDB warehouse has a stable row order; a view does not."""
    return isinstance(engine, DuckDBEngine) and engine.table_exists(source)


def _ensure_bookkeeping(engine: DuckDBEngine) -> None:
    if engine.table_exists(SOURCES):
        return
    with lock(SOURCES):
        engine.create_schema(SCHEMA)
        engine.execute(f"CREATE TABLE IF NOT EXISTS {TableName.parse(SOURCES).sql} ("
                       "aligned VARCHAR, source VARCHAR, source_column VARCHAR, "
                       "source_rows BIGINT, checksum HUGEINT, last_rowid BIGINT, "
                       "built_at TIMESTAMP)")


def _pseudonym(context: KeyContext, value_sql: str) -> str:
    return (f"CASE WHEN {value_sql} IS NULL THEN NULL "
            f"ELSE coalesce(p.pseudonym, {context.pseudonym_function()}({value_sql})) END")


def _state(engine: DuckDBEngine, target: str, source: str, column: str) -> tuple[
        dict[str, int] | None, dict[str, int]]:
    """The last build's record of `target` and the source column as it is now, in one
    snapshot; `prefix_*` cover the rows up to the recorded last rowid."""
    stored = engine.query(f"SELECT source_rows, checksum, last_rowid FROM "
                          f"{TableName.parse(SOURCES).sql} WHERE {_WHERE}",
                          _ids(target, source, column)).to_pylist()
    last = int(stored[0]["last_rowid"]) if stored and engine.table_exists(target) else -1
    quoted = quote_identifier(column)
    now = engine.query(
        f"SELECT count(*) AS n, coalesce(sum(hash(rowid, {quoted})), 0) AS sum, "
        f"coalesce(max(rowid), -1) AS last, "
        f"count(*) FILTER (WHERE rowid <= {last}) AS prefix_n, "
        f"coalesce(sum(hash(rowid, {quoted})) FILTER (WHERE rowid <= {last}), 0) AS prefix_sum "
        f"FROM {TableName.parse(source).sql}").to_pylist()[0]
    return (stored[0] if stored and last >= 0 else None), now


_WHERE = "aligned = ? AND source = ? AND source_column = ?"


def _ids(target: str, source: str, column: str) -> list[str]:
    return [target, str(TableName.parse(source)), column]


def _unchanged(stored: dict[str, int] | None, now: dict[str, int]) -> bool:
    return stored is not None and (now["n"], now["sum"]) == (stored["source_rows"],
                                                             stored["checksum"])


def current(engine: DuckDBEngine, key: bytes, source: str, column: str) -> Aligned | None:
    """The aligned column when it matches the source in the caller's snapshot, else None."""
    target = table_for(key, source, column)
    if not engine.table_exists(SOURCES) or not _unchanged(*_state(engine, target, source,
                                                                   column)):
        return None
    return Aligned(target, source, column)


def ensure(engine: DuckDBEngine, key: bytes, source: str, column: str,
           family: str = "") -> Aligned:
    """Bring the aligned pseudonym column of `source.column` under `key` up to date."""
    target = table_for(key, source, column)
    _ensure_bookkeeping(engine)
    with engine.transaction():  # the check every large read makes: one scan of the column
        if _unchanged(*_state(engine, target, source, column)):
            return Aligned(target, source, column)
    pseudonyms = refresh(engine, key, source, column, family).table
    context = KeyContext(key)
    install(engine, context)  # for values written after the pseudonym table's refresh
    target_sql = TableName.parse(target).sql
    quoted = quote_identifier(column)
    with lock(target), engine.transaction():
        stored, now = _state(engine, target, source, column)
        if _unchanged(stored, now):  # another thread built it meanwhile
            return Aligned(target, source, column)
        value = f"CAST(s.{quoted} AS VARCHAR)"
        select = (f"SELECT s.rowid AS r, hash(s.{quoted}) AS h, "
                  f"{_pseudonym(context, value)} AS pseudonym "
                  f"FROM {TableName.parse(source).sql} s "
                  f"LEFT JOIN {TableName.parse(pseudonyms).sql} p ON p.value = {value}")
        if stored is not None and (now["prefix_n"], now["prefix_sum"]) == (
                stored["source_rows"], stored["checksum"]):
            engine.execute(f"INSERT INTO {target_sql} {select} "
                           f"WHERE s.rowid > {int(stored['last_rowid'])} ORDER BY s.rowid")
            action: Action = "appended"
            written = int(now["n"]) - int(now["prefix_n"])
        else:
            engine.execute(f"CREATE OR REPLACE TABLE {target_sql} AS {select} ORDER BY s.rowid")
            action, written = "rebuilt", int(now["n"])
        ids = _ids(target, source, column)
        engine.execute(f"DELETE FROM {TableName.parse(SOURCES).sql} WHERE {_WHERE}", ids)
        engine.execute(f"INSERT INTO {TableName.parse(SOURCES).sql} VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [*ids, now["n"], now["sum"], now["last"],
                        datetime.now(UTC).replace(tzinfo=None)])
    return Aligned(target, source, column, action, written)


def positional_source(source: str, columns: list[str], aligned: dict[str, Aligned],
                      aliases: dict[str, str], context: KeyContext, *,
                      checked: bool = False) -> str:
    """A FROM item: the source's `columns` beside each aligned pseudonym under its alias,
    paired by position and checked row by row (see the module's docstring). `checked` says
    the caller compared the whole column with `current` in the same snapshot, so rows need
    no check of their own."""
    selected = [f"s.{quote_identifier(c)}" for c in columns]
    joins = []
    for n, (column, found) in enumerate(aligned.items()):
        quoted = quote_identifier(column)
        alias = quote_identifier(aliases[column])
        if checked:
            selected.append(f"a{n}.pseudonym AS {alias}")
        else:
            selected.append(
                f"CASE WHEN a{n}.r = s.rowid AND a{n}.h = hash(s.{quoted}) THEN a{n}.pseudonym "
                f"ELSE {context.pseudonym_function()}(CAST(s.{quoted} AS VARCHAR)) END "
                f"AS {alias}")
        joins.append(f"POSITIONAL JOIN {TableName.parse(found.table).sql} a{n}")
    if checked and not columns:
        # Only aligned columns: the source adds nothing the row count does not already say.
        first, *rest = joins
        return (f"SELECT {', '.join(selected)} FROM "
                f"{first.removeprefix('POSITIONAL JOIN ')} {' '.join(rest)}")
    return (f"SELECT {', '.join(selected)} FROM {TableName.parse(source).sql} s "
            f"{' '.join(joins)}")
