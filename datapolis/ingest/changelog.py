"""The rows an incremental landing wrote, kept beside the table until a reader has seen them.

A slice that re-checks a table after each landing (quality) opens the log of that table
(`_landed.<schema>__<table>`); from then on every incremental batch appends the rows it
merged — whole rows, as the merge wrote them — and the keys it deleted, in the same warehouse
transaction as the merge, with a batch number. The reader takes what is there up to a batch
number and removes it afterwards, so rows landed meanwhile wait for its next turn.

The log only holds what it can hold faithfully: a landing that changes rows another way (a
snapshot, change capture, a batch without every column of the table, schema drift) closes it,
and its reader starts again from the whole table. Tables nobody reads this way have no log and
landing spends nothing on it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pyarrow as pa

from datapolis.warehouse.engine import Engine, MergeResult, TableName, quote_identifier

LOG_SCHEMA = "_landed"
SEQ = "_landed_seq"  # the batch number, rising
OP = "_landed_op"  # 'U' the row as merged, 'D' the key was deleted
META = (SEQ, OP)


def log_name(target: str) -> TableName:
    """`_landed.<schema>__<table>`, shortened by a hash when the name would pass 63."""
    table = TableName.parse(target)
    name = f"{table.schema}__{table.name}"
    if len(name) > 63:
        name = f"{name[:52]}_{hashlib.sha256(str(table).encode()).hexdigest()[:10]}"
    return TableName(LOG_SCHEMA, name)


def is_open(engine: Engine, target: str) -> bool:
    return engine.table_exists(str(log_name(target)))


def open_log(engine: Engine, target: str) -> TableName:
    """Start (or restart, empty) the log of `target`; landings from now on are recorded."""
    log = log_name(target)
    table = TableName.parse(target)
    if LOG_SCHEMA not in engine.schemas():
        engine.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(LOG_SCHEMA)}")
    engine.execute(f"CREATE OR REPLACE TABLE {log.sql} AS SELECT *, "  # noqa: S608
                   f"CAST(0 AS BIGINT) AS {SEQ}, CAST('U' AS VARCHAR) AS {OP} "
                   f"FROM {table.sql} LIMIT 0")
    return log


def close_log(engine: Engine, target: str) -> None:
    """Stop recording `target`: its reader must look at the whole table next time."""
    log = log_name(target)
    if engine.table_exists(str(log)):
        engine.execute(f"DROP TABLE IF EXISTS {log.sql}")


def last_batch(engine: Engine, target: str) -> int | None:
    """The highest batch number in the log; 0 when it is empty, None when it is closed."""
    log = log_name(target)
    if not engine.table_exists(str(log)):
        return None
    found = engine.query(f"SELECT coalesce(max({SEQ}), 0) AS n FROM {log.sql}")  # noqa: S608
    return int(found.column("n")[0].as_py())


def forget(engine: Engine, target: str, upto: int) -> None:
    """Remove what a reader has seen: the batches up to `upto`."""
    log = log_name(target)
    if engine.table_exists(str(log)):
        engine.execute(f"DELETE FROM {log.sql} WHERE {SEQ} <= ?", [upto])  # noqa: S608


def record(engine: Engine, target: str, rows: pa.Table, *,
           deleted: pa.Table | None = None) -> None:
    """Append a merged batch (and deleted keys) to the log of `target`, if it is open.

    Call it inside the merge's transaction. A batch the log cannot represent closes it."""
    log = log_name(target)
    if not engine.table_exists(str(log)):
        return
    logged = [c.name for c in engine.columns(str(log)) if c.name not in META]
    current = [c.name for c in engine.columns(target)]
    if sorted(logged) != sorted(current) or sorted(rows.column_names) != sorted(current):
        close_log(engine, target)  # drift, or a batch without every column
        return
    batch = (last_batch(engine, target) or 0) + 1
    engine.write(str(log), _tagged(rows, batch, "U"))
    if deleted is not None and deleted.num_rows:
        engine.write(str(log), _tagged(deleted, batch, "D"))


def merge(engine: Engine, target: str, rows: pa.Table, keys: Sequence[str], *,
          delete_keys: pa.Table | None = None) -> MergeResult:
    """`Engine.merge` that also records the batch in the log of `target` (one commit)."""
    with engine.transaction():
        merged = engine.merge(target, rows, keys, delete_keys=delete_keys)
        record(engine, target, rows,
               deleted=None if delete_keys is None else delete_keys.select(list(keys)))
    return merged


def _tagged(rows: pa.Table, batch: int, op: str) -> pa.Table:
    n = rows.num_rows
    return rows.append_column(SEQ, pa.array([batch] * n, pa.int64())).append_column(
        OP, pa.array([op] * n, pa.string()))
