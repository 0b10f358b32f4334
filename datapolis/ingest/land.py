"""Landing source rows in ods, exactly once: rows and offset commit in one warehouse transaction.

See docs/decisions/0003-offsets-live-with-the-data.md. A job's offset is read back from the
warehouse on every start, so a worker killed at any moment resumes where its last commit ended.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from datapolis.ingest import changelog, drift, seal
from datapolis.ingest.errors import TerminalSourceError
from datapolis.ingest.sources.base import CursorFilter, Source
from datapolis.warehouse.engine import Engine, TableName, quote_identifier

OFFSETS_SCHEMA = "_highway"
OFFSETS = f"{OFFSETS_SCHEMA}.offsets"
STAGING_PREFIX = "_staging_"

Progress = Callable[[int], None]  # rows landed so far


@dataclass
class LandResult:
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    bytes_read: int = 0
    offset: str | None = None
    drifts: list[drift.Drift] = field(default_factory=list)


def ensure_offsets(engine: Engine) -> None:
    # Checked first: concurrent CREATE ... IF NOT EXISTS still conflict in DuckDB's catalog.
    if engine.table_exists(OFFSETS):
        return
    engine.execute(f"CREATE SCHEMA IF NOT EXISTS {OFFSETS_SCHEMA}")
    engine.execute(
        f"CREATE TABLE IF NOT EXISTS {OFFSETS} (job VARCHAR PRIMARY KEY, position VARCHAR, "
        "committed_at TIMESTAMPTZ)"
    )


def read_offset(engine: Engine, job: str) -> str | None:
    ensure_offsets(engine)
    rows = engine.query(f"SELECT position FROM {OFFSETS} WHERE job = ?", [job]).to_pylist()
    return rows[0]["position"] if rows else None


def write_offset(engine: Engine, job: str, position: str) -> None:
    # Called inside the caller's transaction, next to the rows it describes.
    engine.execute(
        f"INSERT INTO {OFFSETS} VALUES (?, ?, ?) ON CONFLICT (job) DO UPDATE SET "
        "position = excluded.position, committed_at = excluded.committed_at",
        [job, position, datetime.now(UTC)],
    )


# --- cursor values, persisted as tagged JSON so their type survives --------------------------

def encode_cursor(value: Any) -> str:
    if isinstance(value, datetime):
        return json.dumps({"datetime": value.isoformat()})
    if isinstance(value, date):
        return json.dumps({"date": value.isoformat()})
    if isinstance(value, Decimal):
        return json.dumps({"decimal": str(value)})
    if isinstance(value, (int, str)):
        return json.dumps({type(value).__name__: value})
    raise TerminalSourceError(f"cannot use a {type(value).__name__} value as a sync cursor")


def decode_cursor(text: str | None) -> Any:
    if text is None:
        return None
    ((kind, value),) = json.loads(text).items()
    decoders: dict[str, Callable[[Any], Any]] = {
        "datetime": datetime.fromisoformat,
        "date": date.fromisoformat,
        "decimal": Decimal,
        "int": int,
        "str": str,
    }
    return decoders[kind](value)


# --- modes ---------------------------------------------------------------------------------

def land_snapshot(
    engine: Engine,
    source: Source,
    *,
    job: str,
    table: str,
    target: str,
    progress: Progress | None = None,
    sealer: seal.Sealer | None = None,
) -> LandResult:
    """Replace `target` with a full copy of `table`; the old copy stays until the new is whole."""
    ensure_offsets(engine)
    name = TableName.parse(target)
    staging = f"{name.schema}.{STAGING_PREFIX}{name.name}"
    result = LandResult()
    mode: Any = "replace"
    for batch in source.read(table):
        rows = seal.seal_table(engine, sealer, target, pa.Table.from_batches([batch]))
        engine.write(staging, rows, mode=mode)
        mode = "append"
        _count(result, batch, progress)
    if mode == "replace":  # the source table is empty: land its shape with no rows
        empty = seal.seal_table(engine, sealer, target, _empty_table(source, table))
        engine.write(staging, empty, mode="replace")
    result.offset = json.dumps({"snapshot_at": datetime.now(UTC).isoformat()})
    replaced = 0
    if engine.table_exists(target):
        replaced = engine.query(f"SELECT count(*) AS n FROM {name.sql}").column("n")[0].as_py()
        try:
            result.drifts = drift.plan(
                target, drift.column_types(engine, target), drift.column_types(engine, staging)
            )
        except drift.IncompatibleSchema:
            engine.execute(f"DROP TABLE {TableName.parse(staging).sql}")
            raise
    with engine.transaction():
        changelog.close_log(engine, target)  # every row changed: readers start again
        engine.execute(f"DROP TABLE IF EXISTS {name.sql}")
        engine.execute(
            f"ALTER TABLE {TableName.parse(staging).sql} RENAME TO {quote_identifier(name.name)}"
        )
        drift.apply(engine, target, [d for d in result.drifts if d.change == "dropped"],
                    restore_dropped=True)
        write_offset(engine, job, result.offset)
    result.inserted, result.deleted = result.rows_read, int(replaced)
    return result


def land_incremental(
    engine: Engine,
    source: Source,
    *,
    job: str,
    table: str,
    target: str,
    key: Iterable[str],
    cursor_column: str,
    overlap: Any = None,
    progress: Progress | None = None,
    sealer: seal.Sealer | None = None,
) -> LandResult:
    """Merge the rows past the stored cursor (minus `overlap`) on `key`, batch by batch; each
    batch commits with the largest cursor value it holds."""
    keys = list(key)
    if not keys:
        raise TerminalSourceError(f"incremental sync of {table} needs a primary key to merge on")
    offset = read_offset(engine, job)
    cursor = CursorFilter(cursor_column, decode_cursor(offset), overlap)
    result = LandResult(offset=offset)
    for batch in source.read(table, cursor=cursor):
        if batch.num_rows == 0:
            continue
        rows = _last_per_key(pa.Table.from_batches([batch]), keys)
        rows = seal.seal_table(engine, sealer, target, rows)
        highest = pc.max(batch.column(cursor_column)).as_py()
        with engine.transaction():
            result.drifts += drift.reconcile(engine, target, rows.schema)
            merged = changelog.merge(engine, target, rows, keys)
            if highest is not None:
                result.offset = encode_cursor(highest)
                write_offset(engine, job, result.offset)
        result.inserted += merged.inserted
        result.updated += merged.updated
        _count(result, batch, progress)
    return result


def _last_per_key(rows: pa.Table, keys: list[str]) -> pa.Table:
    """Within one batch a key may repeat (updated twice inside the overlap): keep the last."""
    indexed = rows.append_column("_row", pa.array(range(rows.num_rows), pa.int64()))
    last = indexed.group_by(keys, use_threads=False).aggregate([("_row", "max")])
    if last.num_rows == rows.num_rows:
        return rows
    keep = last.column("_row_max").combine_chunks()
    return rows.take(pc.take(keep, pc.sort_indices(keep)))


def _count(result: LandResult, batch: pa.RecordBatch, progress: Progress | None) -> None:
    result.rows_read += batch.num_rows
    result.bytes_read += batch.nbytes
    if progress is not None:
        progress(result.rows_read)


def _empty_table(source: Source, table: str) -> pa.Table:
    schema = pa.schema([pa.field(c.name, c.arrow_type) for c in source.columns(table)])
    return schema.empty_table()

