"""Schema drift: ods follows its source's columns, and refuses what would lose data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from datapolis.ingest.drift import IncompatibleSchema, widens
from datapolis.ingest.land import land_incremental, land_snapshot, read_offset
from datapolis.warehouse import DuckDBEngine
from tests.ingest.arrow_source import ArrowSource


@pytest.mark.parametrize(
    ("old", "new", "ok"),
    [
        ("INTEGER", "BIGINT", True), ("SMALLINT", "INTEGER", True), ("BIGINT", "INTEGER", False),
        ("FLOAT", "DOUBLE", True), ("DOUBLE", "FLOAT", False), ("INTEGER", "DOUBLE", True),
        ("BIGINT", "DOUBLE", False), ("DECIMAL(10,2)", "DECIMAL(12,2)", True),
        ("DECIMAL(10,2)", "DECIMAL(12,4)", True), ("DECIMAL(10,2)", "DECIMAL(10,3)", False),
        ("INTEGER", "DECIMAL(12,2)", True), ("BIGINT", "DECIMAL(18,0)", False),
        ("DATE", "TIMESTAMP", True), ("INTEGER", "VARCHAR", False), ("VARCHAR", "INTEGER", False),
    ],
)
def test_widening_rules(old: str, new: str, ok: bool) -> None:
    assert widens(old, new) is ok


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    return DuckDBEngine(tmp_path / "w.duckdb")


def sync(engine: DuckDBEngine, data: pa.Table) -> Any:
    return land_incremental(engine, ArrowSource(data, batch_rows=10), job="j", table="t",
                            target="ods_x.t", key=["id"], cursor_column="v")


def rows(engine: DuckDBEngine) -> list[dict[str, Any]]:
    return engine.query("SELECT * FROM ods_x.t ORDER BY id").to_pylist()


def test_added_widened_and_dropped_columns(engine: DuckDBEngine) -> None:
    sync(engine, pa.table({"id": pa.array([1], pa.int32()), "v": [1], "old": ["x"]}))
    result = sync(engine, pa.table({"id": pa.array([2], pa.int64()), "v": [2], "new": [3.5]}))
    changes = {(d.column, d.change, d.old_type, d.new_type) for d in result.drifts}
    assert changes == {("id", "widened", "INTEGER", "BIGINT"),
                       ("new", "added", None, "DOUBLE"),
                       ("old", "dropped", "VARCHAR", None)}
    types = {c.name: c.type for c in engine.columns("ods_x.t")}
    assert types == {"id": "BIGINT", "v": "BIGINT", "old": "VARCHAR", "new": "DOUBLE"}
    assert rows(engine) == [{"id": 1, "v": 1, "old": "x", "new": None},
                            {"id": 2, "v": 2, "old": None, "new": 3.5}]


def test_incompatible_change_writes_nothing(engine: DuckDBEngine) -> None:
    sync(engine, pa.table({"id": [1], "v": [1], "amount": [10]}))
    offset = read_offset(engine, "j")
    with pytest.raises(IncompatibleSchema, match=r"amount: BIGINT → VARCHAR"):
        sync(engine, pa.table({"id": [2], "v": [2], "amount": ["ten"]}))
    assert rows(engine) == [{"id": 1, "v": 1, "amount": 10}]
    assert read_offset(engine, "j") == offset


def test_snapshot_keeps_dropped_columns_and_refuses_incompatible_ones(
    engine: DuckDBEngine,
) -> None:
    def snapshot(data: pa.Table) -> Any:
        return land_snapshot(engine, ArrowSource(data), job="s", table="t", target="ods_x.t")

    snapshot(pa.table({"id": [1], "v": [1], "gone": ["x"]}))
    result = snapshot(pa.table({"id": [2], "v": [2]}))
    assert [(d.column, d.change) for d in result.drifts] == [("gone", "dropped")]
    assert rows(engine) == [{"id": 2, "v": 2, "gone": None}]
    with pytest.raises(IncompatibleSchema):
        snapshot(pa.table({"id": ["two"], "v": [3]}))
    assert rows(engine) == [{"id": 2, "v": 2, "gone": None}]
