"""Applying captured changes to ods: whole source transactions per warehouse commit, the
stream position committed with them, and the source told only afterwards.

Changes are grouped into batches of whole source transactions (up to `max_changes`, or what
arrived within `max_wait` seconds), reduced to their net effect per key, and merged: inserts
and updates as upserts, deletes either as a soft delete (`_deleted`, `_deleted_at`) or removed.
A position at or before the stored one is skipped, so a source that re-sends after a crash
changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from datapolis.ingest import changelog, drift, seal
from datapolis.ingest.cdc.events import Change, Heartbeat, Op
from datapolis.ingest.land import LandResult, ensure_offsets, read_offset, write_offset
from datapolis.warehouse.engine import Engine, TableName

DELETED, DELETED_AT = "_deleted", "_deleted_at"
Position = Callable[[str], Any]  # orders positions: LSN or binlog coordinates


@dataclass
class _Net:
    op: Op
    row: dict[str, Any]
    at: datetime


def apply_changes(
    engine: Engine,
    events: Iterable[Change | Heartbeat],
    *,
    job: str,
    targets: Mapping[str, str],  # source table -> ods table
    delete_mode: str = "soft",
    position_key: Position = str,
    max_changes: int = 10_000,
    max_wait: float = 1.0,
    committed: Callable[[str, LandResult], None] | None = None,
    sealer: seal.Sealer | None = None,
) -> LandResult:
    """Consume `events` until they end; `committed(position, batch)` runs after each commit."""
    ensure_offsets(engine)
    stored = read_offset(engine, job)
    total = LandResult(offset=stored)
    pending: list[Change] = []
    complete = 0  # changes in `pending` that belong to finished source transactions
    first_at = time.monotonic()

    def flush(position: str | None) -> None:
        nonlocal pending, complete
        ready, pending = pending[:complete], pending[complete:]
        complete = 0
        if not ready and position is None:
            return
        batch = _commit(engine, ready, job=job, targets=targets, delete_mode=delete_mode,
                        position=position or ready[-1].position, sealer=sealer)
        total.offset = batch.offset
        for name in ("rows_read", "inserted", "updated", "deleted"):
            setattr(total, name, getattr(total, name) + getattr(batch, name))
        total.drifts += batch.drifts
        if committed is not None and batch.offset is not None:
            committed(batch.offset, batch)

    for event in events:
        if isinstance(event, Heartbeat):
            if complete:
                flush(None)
            elif not pending and _after(event.position, total.offset, position_key):
                flush(event.position)  # moves the offset past changes we do not watch
            continue
        if not _after(event.position, stored, position_key) or event.table not in targets:
            continue
        if not pending:
            first_at = time.monotonic()
        pending.append(event)
        if event.transaction_end:
            complete = len(pending)
            if complete >= max_changes or time.monotonic() - first_at >= max_wait:
                flush(None)
    if complete:
        flush(None)
    return total


def pg_lsn(position: str) -> int:
    """A PostgreSQL LSN ("16/B374D848") as a number, so positions compare correctly."""
    high, _, low = position.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def _after(position: str, stored: str | None, key: Position) -> bool:
    return stored is None or key(position) > key(stored)


def _commit(
    engine: Engine,
    changes: list[Change],
    *,
    job: str,
    targets: Mapping[str, str],
    delete_mode: str,
    position: str,
    sealer: seal.Sealer | None = None,
) -> LandResult:
    result = LandResult(offset=position, rows_read=len(changes))
    by_table: dict[str, list[Change]] = {}
    for change in changes:
        by_table.setdefault(change.table, []).append(change)
    with engine.transaction():
        for table, table_changes in by_table.items():
            _apply_table(engine, targets[table], table_changes, delete_mode, result, sealer)
        write_offset(engine, job, position)
    return result


def _apply_table(
    engine: Engine, target: str, changes: list[Change], delete_mode: str, result: LandResult,
    sealer: seal.Sealer | None = None,
) -> None:
    keys = list(changes[0].key)
    # Changes may carry only some columns: the landing log cannot hold them faithfully.
    changelog.close_log(engine, target)
    net: dict[tuple[Any, ...], _Net] = {}
    for change in changes:
        key = tuple(change.row.get(k) for k in keys)
        if change.op is Op.TRUNCATE:
            engine.execute(f"DELETE FROM {TableName.parse(target).sql}")
            net.clear()
            continue
        previous = net.get(key)
        if change.op is Op.DELETE:
            net[key] = _Net(Op.DELETE, {k: change.row.get(k) for k in keys}, change.committed_at)
        elif previous is not None and previous.op is not Op.DELETE:
            # An update may carry only the changed columns: later values win, the rest stay.
            net[key] = _Net(Op.UPDATE, {**previous.row, **change.row}, change.committed_at)
        else:
            net[key] = _Net(change.op, dict(change.row), change.committed_at)
    upserts = [n.row | _alive(delete_mode) for n in net.values() if n.op is not Op.DELETE]
    deletes = [n for n in net.values() if n.op is Op.DELETE]
    # Rows with the same columns merge together; a partial update merges only its columns.
    for rows in _by_columns(upserts):
        table = rows_as_ods_types(engine, target, seal.seal_rows(engine, sealer, target, rows))
        result.drifts += drift.reconcile(engine, target, table.schema)
        merged = engine.merge(target, table, keys)
        result.inserted += merged.inserted
        result.updated += merged.updated
    if deletes and engine.table_exists(target):
        gone = rows_as_ods_types(engine, target, [d.row for d in deletes])
        if delete_mode == "hard":
            engine.merge(target, gone.slice(0, 0), keys, delete_keys=gone)
        else:
            tombstones = rows_as_ods_types(engine, target, [
                d.row | {DELETED: True, DELETED_AT: d.at} for d in deletes
            ])
            drift.reconcile(engine, target, tombstones.schema)
            engine.merge(target, tombstones, keys)
        result.deleted += len(deletes)


def _alive(delete_mode: str) -> dict[str, Any]:
    return {DELETED: False, DELETED_AT: None} if delete_mode == "soft" else {}


def _by_columns(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())


def rows_as_ods_types(engine: Engine, target: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows typed as the ods table already types them (a change's Decimal must not become a
    new decimal width); columns ods has not seen yet are inferred, and drift adds them."""
    known: dict[str, pa.DataType] = {}
    if engine.table_exists(target):
        known = {f.name: f.type for f in engine.arrow_schema(target)}
    known.setdefault(DELETED, pa.bool_())
    known.setdefault(DELETED_AT, pa.timestamp("us", tz="UTC"))
    columns = list(rows[0])
    arrays = []
    for column in columns:
        values = [row.get(column) for row in rows]
        arrays.append(pa.array(values, type=known.get(column)))
    return pa.Table.from_arrays(arrays, names=columns)
