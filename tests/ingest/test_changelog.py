"""The landing log: incremental batches recorded with their merge once a reader opened it;
other ways of changing the table close it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from datapolis.ingest import apply, changelog
from datapolis.ingest.cdc.events import Change, Op
from datapolis.ingest.land import land_incremental, land_snapshot
from datapolis.warehouse import DuckDBEngine
from tests.ingest.arrow_source import ArrowSource

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TARGET = "ods_x.t"


def people(ids: list[int], names: list[str], minutes: list[int]) -> pa.Table:
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "name": pa.array(names, pa.string()),
        "updated_at": pa.array([T0 + timedelta(minutes=m) for m in minutes],
                               pa.timestamp("us", tz="UTC")),
    })


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    return DuckDBEngine(tmp_path / "w.duckdb")


def incremental(engine: DuckDBEngine, data: pa.Table) -> None:
    land_incremental(engine, ArrowSource(data), job="j", table="t", target=TARGET, key=["id"],
                     cursor_column="updated_at")


def logged(engine: DuckDBEngine) -> list[tuple[int, str | None, int, str]]:
    log = changelog.log_name(TARGET)
    return [(r["id"], r["name"], r[changelog.SEQ], r[changelog.OP]) for r in engine.query(
        f"SELECT * FROM {log.sql} ORDER BY {changelog.SEQ}, id").to_pylist()]


def test_nothing_is_recorded_until_a_reader_opens_the_log(engine: DuckDBEngine) -> None:
    incremental(engine, people([1, 2], ["a", "b"], [0, 1]))
    assert not changelog.is_open(engine, TARGET)
    assert changelog.last_batch(engine, TARGET) is None
    changelog.open_log(engine, TARGET)
    assert changelog.last_batch(engine, TARGET) == 0
    # two batches of two rows: 2 updated, 3 new; a key twice in a batch lands once
    incremental(engine, people([2, 3, 4, 4], ["B", "c", "d0", "d"], [5, 6, 7, 8]))
    assert logged(engine) == [(2, "B", 1, "U"), (3, "c", 1, "U"), (4, "d", 2, "U")]
    changelog.forget(engine, TARGET, 1)  # a reader saw batch 1
    assert logged(engine) == [(4, "d", 2, "U")]
    # the log rows are the table's rows
    table = engine.query(f"SELECT * FROM {TARGET} WHERE id = 4").to_pylist()
    log = engine.query(f"SELECT * EXCLUDE ({', '.join(changelog.META)}) FROM "
                       f"{changelog.log_name(TARGET).sql}").to_pylist()
    assert table == log


def test_deleted_keys_are_recorded_with_the_batch(engine: DuckDBEngine) -> None:
    incremental(engine, people([1, 2], ["a", "b"], [0, 1]))
    changelog.open_log(engine, TARGET)
    changelog.merge(engine, TARGET, people([1], ["A"], [9]), ["id"],
                    delete_keys=pa.table({"id": pa.array([2], pa.int64())}))
    assert logged(engine) == [(1, "A", 1, "U"), (2, None, 1, "D")]
    assert engine.query(f"SELECT id FROM {TARGET}").to_pylist() == [{"id": 1}]


def test_a_snapshot_closes_the_log(engine: DuckDBEngine) -> None:
    incremental(engine, people([1], ["a"], [0]))
    changelog.open_log(engine, TARGET)
    land_snapshot(engine, ArrowSource(people([5], ["e"], [0])), job="s", table="t",
                  target=TARGET)
    assert not changelog.is_open(engine, TARGET)


def test_schema_drift_or_a_partial_batch_closes_the_log(engine: DuckDBEngine) -> None:
    incremental(engine, people([1], ["a"], [0]))
    changelog.open_log(engine, TARGET)
    wider = people([2], ["b"], [5]).append_column("phone", pa.array(["1"], pa.string()))
    incremental(engine, wider)  # drift adds the column to ods; the log cannot hold it
    assert not changelog.is_open(engine, TARGET)
    changelog.open_log(engine, TARGET)
    changelog.merge(engine, TARGET, people([1], ["A"], [9]).select(["id", "name"]), ["id"])
    assert not changelog.is_open(engine, TARGET)


def test_change_capture_closes_the_log(engine: DuckDBEngine) -> None:
    incremental(engine, people([1], ["a"], [0]))
    changelog.open_log(engine, TARGET)
    change = Change(table="t", op=Op.UPDATE, key=("id",), row={"id": 1, "name": "x"},
                    position="1", committed_at=T0, transaction_end=True)
    apply.apply_changes(engine, [change], job="c", targets={"t": TARGET})
    assert not changelog.is_open(engine, TARGET)
