"""Rewriting the rows already in a warehouse table, batch by batch, crash-safe.

Each batch is read by DuckDB's `rowid`, rewritten in Python (Arrow in, Arrow out), parked in a
scratch table and written back by one UPDATE in one transaction. The UPDATE matches the row id
AND the value it read, so a row changed meanwhile (a landing merged into it) is left for the
next pass rather than overwritten. A process killed at any point leaves every row as it was or
as it should be, never half: the value and its blind index change in the same statement.

Pending rows are told apart by the blind index: a protected column's row with a value and no
index is still plain. After a full pass, another runs until a pass finds nothing, which also
picks up rows landed plainly by a run that started before the column was designated.
"""

# SQL here names only identifiers passed through TableName/quote_identifier; values travel as
# parameters.
# ruff: noqa: S608

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from datapolis.ingest.seal import BLIND_INDEX_SUFFIX
from datapolis.warehouse.engine import Engine, TableName, quote_identifier

SCRATCH_SCHEMA = "_fields"
DEFAULT_BATCH_ROWS = 50_000

Progress = Callable[[int, int], None]  # rows done, rows to do
Rewrite = Callable[[pa.Array], tuple[pa.Array, pa.Array | None]]  # old -> (new, index or None)


@dataclass(frozen=True)
class Target:
    table: str  # schema.table
    column: str

    @property
    def table_sql(self) -> str:
        return TableName.parse(self.table).sql

    @property
    def value(self) -> str:
        return quote_identifier(self.column)

    @property
    def index(self) -> str:
        return quote_identifier(self.column + BLIND_INDEX_SUFFIX)


PENDING = "{value} IS NOT NULL AND {index} IS NULL"  # plain, not yet encrypted
SEALED = "{index} IS NOT NULL"  # encrypted


def count(engine: Engine, target: Target, where: str, params: list[object] | None = None) -> int:
    condition = where.format(value=target.value, index=target.index)
    found = engine.query(f"SELECT count(*) AS n FROM {target.table_sql} WHERE {condition}",
                         params or [])
    return int(found.column("n")[0].as_py())


def rewrite(
    engine: Engine,
    target: Target,
    *,
    where: str,
    params: list[object] | None = None,
    change: Rewrite,
    sets_index: bool,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
    stop_after: int | None = None,
) -> int:
    """Rewrite every row matching `where` until none is left; returns the rows rewritten.

    `change` maps old values to new ones and (when `sets_index`) their blind index, or None to
    clear it. `stop_after` ends early after that many batches (an operator's interruption,
    and the tests that prove a half-done run is safe)."""
    condition = where.format(value=target.value, index=target.index)
    total = count(engine, target, where, params)
    scratch = TableName(SCRATCH_SCHEMA, "s_" + os.urandom(6).hex())
    done, batches = 0, 0
    try:
        while True:
            rows_this_pass = 0
            last = -1
            while True:
                batch = engine.query(
                    f"SELECT rowid AS rid, {target.value} AS old FROM {target.table_sql} "
                    f"WHERE rowid > ? AND {condition} ORDER BY rowid LIMIT ?",
                    [last, *(params or []), batch_rows],
                )
                if batch.num_rows == 0:
                    break
                new, index = change(batch.column("old").combine_chunks())
                columns = {"rid": batch.column("rid"), "old": batch.column("old"), "new": new}
                assignments = f"{target.value} = s.new"
                if sets_index:
                    columns["idx"] = index if index is not None else pa.nulls(len(new), pa.string())
                    assignments += f", {target.index} = s.idx"
                with engine.transaction():
                    engine.write(str(scratch), pa.table(columns), mode="replace")
                    engine.execute(
                        f"UPDATE {target.table_sql} SET {assignments} FROM {scratch.sql} s "
                        f"WHERE {target.table_sql}.rowid = s.rid "
                        f"AND {target.table_sql}.{target.value} = s.old"
                    )
                done += int(batch.num_rows)
                rows_this_pass += int(batch.num_rows)
                batches += 1
                last = int(batch.column("rid")[-1].as_py())
                if progress is not None:
                    progress(done, max(total, done))
                if stop_after is not None and batches >= stop_after:
                    return done
            if rows_this_pass == 0:
                return done
    finally:
        engine.execute(f"DROP TABLE IF EXISTS {scratch.sql}")
