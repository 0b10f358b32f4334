"""Landing in ods: snapshot and incremental modes, offsets committed with the rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from datapolis.ingest.errors import TerminalSourceError, TransientSourceError
from datapolis.ingest.land import (
    decode_cursor,
    encode_cursor,
    land_incremental,
    land_snapshot,
    read_offset,
)
from datapolis.warehouse import DuckDBEngine
from tests.ingest.arrow_source import ArrowSource

T0 = datetime(2026, 1, 1, tzinfo=UTC)


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


def landed(engine: DuckDBEngine, target: str = "ods_x.t") -> list[dict[str, Any]]:
    return engine.query(f"SELECT id, name FROM {target} ORDER BY id").to_pylist()


def test_snapshot_replaces_only_when_the_new_copy_is_whole(engine: DuckDBEngine) -> None:
    first = land_snapshot(engine, ArrowSource(people([1, 2, 3], ["a", "b", "c"], [0, 1, 2])),
                          job="j", table="t", target="ods_x.t")
    assert (first.rows_read, first.inserted, first.deleted) == (3, 3, 0)
    broken = ArrowSource(people([1, 2, 3, 4], ["A", "B", "C", "D"], [0, 1, 2, 3]), fail_after=1)
    with pytest.raises(TransientSourceError):
        land_snapshot(engine, broken, job="j", table="t", target="ods_x.t")
    assert landed(engine) == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"},
                              {"id": 3, "name": "c"}]
    again = land_snapshot(engine, ArrowSource(people([4], ["d"], [0])), job="j", table="t",
                          target="ods_x.t")
    assert (again.inserted, again.deleted) == (1, 3)
    assert landed(engine) == [{"id": 4, "name": "d"}]
    assert "_staging_t" not in {t.name for t in engine.tables("ods_x")}
    assert read_offset(engine, "j") is not None


def test_snapshot_of_an_empty_table_keeps_its_columns(engine: DuckDBEngine) -> None:
    land_snapshot(engine, ArrowSource(people([], [], [])), job="j", table="t", target="ods_x.t")
    assert [c.name for c in engine.columns("ods_x.t")] == ["id", "name", "updated_at"]
    assert landed(engine) == []


def test_incremental_merges_updates_and_survives_a_mid_run_failure(engine: DuckDBEngine) -> None:
    def run(source: ArrowSource) -> Any:
        return land_incremental(engine, source, job="inc", table="t", target="ods_x.t",
                                key=["id"], cursor_column="updated_at",
                                overlap=timedelta(minutes=5))

    first = run(ArrowSource(people([1, 2, 3], ["a", "b", "c"], [0, 10, 20])))
    assert (first.inserted, first.updated) == (3, 0)
    assert decode_cursor(read_offset(engine, "inc")) == T0 + timedelta(minutes=20)

    # id 3 changes inside the overlap, ids 4-7 are new; the source dies after two batches.
    changed = people([1, 2, 3, 4, 5, 6, 7], ["a", "b", "C", "d", "e", "f", "g"],
                     [0, 10, 21, 30, 40, 50, 60])
    with pytest.raises(TransientSourceError):
        run(ArrowSource(changed, fail_after=2))
    # Rows past 20 - 5 minutes are read in batches [21, 30] [40, 50] [60]; two committed, each
    # with its offset; nothing half-written.
    assert decode_cursor(read_offset(engine, "inc")) == T0 + timedelta(minutes=50)
    assert [r["id"] for r in landed(engine)] == [1, 2, 3, 4, 5, 6]

    resumed = run(ArrowSource(changed))  # from 45 minutes: 6 again (an update) and 7
    assert (resumed.inserted, resumed.updated) == (1, 1)
    assert landed(engine) == [{"id": i, "name": n} for i, n in
                              zip([1, 2, 3, 4, 5, 6, 7], "abCdefg", strict=True)]


def test_a_key_updated_twice_inside_one_batch_lands_once(engine: DuckDBEngine) -> None:
    twice = people([1, 1, 2], ["old", "new", "b"], [0, 1, 2])
    result = land_incremental(engine, ArrowSource(twice, batch_rows=10), job="k", table="t",
                              target="ods_x.t", key=["id"], cursor_column="updated_at")
    assert result.inserted == 2
    assert landed(engine) == [{"id": 1, "name": "new"}, {"id": 2, "name": "b"}]


def test_incremental_needs_a_key(engine: DuckDBEngine) -> None:
    with pytest.raises(TerminalSourceError, match="primary key"):
        land_incremental(engine, ArrowSource(people([1], ["a"], [0])), job="j", table="t",
                         target="ods_x.t", key=[], cursor_column="updated_at")


@pytest.mark.parametrize(
    "value", [T0, date(2026, 1, 2), Decimal("12.50"), 42, "2026-01-01 08:00:00"]
)
def test_cursor_values_keep_their_type(value: Any) -> None:
    assert decode_cursor(encode_cursor(value)) == value
    assert type(decode_cursor(encode_cursor(value))) is type(value)


def test_unusable_cursor_values_are_terminal() -> None:
    with pytest.raises(TerminalSourceError):
        encode_cursor(1.5)


def test_progress_reports_rows_as_they_land(engine: DuckDBEngine) -> None:
    seen: list[int] = []
    land_snapshot(engine, ArrowSource(people([1, 2, 3], ["a", "b", "c"], [0, 1, 2])),
                  job="p", table="t", target="ods_x.t", progress=seen.append)
    assert seen == [2, 3]
