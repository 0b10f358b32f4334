"""Applying captured changes: net effect per key, soft or hard deletes, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from datapolis.ingest.apply import apply_changes, pg_lsn
from datapolis.ingest.cdc.events import Change, Heartbeat, Op
from datapolis.ingest.land import read_offset
from datapolis.warehouse import DuckDBEngine

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
TARGETS = {"public.t": "ods_x.t"}


def change(op: Op, position: str, end: bool = True, **row: Any) -> Change:
    return Change(table="public.t", op=op, row=row, key=("id",), committed_at=AT,
                  position=position, transaction_end=end)


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    return DuckDBEngine(tmp_path / "w.duckdb")


def rows(engine: DuckDBEngine) -> list[dict[str, Any]]:
    return engine.query("SELECT * EXCLUDE (_deleted_at) FROM ods_x.t ORDER BY id").to_pylist()


def test_inserts_updates_and_soft_deletes(engine: DuckDBEngine) -> None:
    commits: list[str] = []
    events = [
        change(Op.INSERT, "0/10", end=False, id=1, name="甲", amount=Decimal("1.50")),
        change(Op.INSERT, "0/10", id=2, name="乙", amount=Decimal("2.00")),
        change(Op.UPDATE, "0/20", id=1, name="甲改"),  # partial: amount unchanged
        change(Op.DELETE, "0/30", id=2),
        Heartbeat("0/40", AT),
    ]
    result = apply_changes(engine, events, job="j", targets=TARGETS, max_wait=0,
                           committed=lambda position, _: commits.append(position))
    assert rows(engine) == [
        {"id": 1, "name": "甲改", "amount": Decimal("1.50"), "_deleted": False},
        {"id": 2, "name": "乙", "amount": Decimal("2.00"), "_deleted": True},
    ]
    assert commits == ["0/10", "0/20", "0/30", "0/40"]
    assert read_offset(engine, "j") == "0/40"
    assert (result.inserted, result.deleted) == (2, 1)


def test_hard_deletes_and_net_effect_within_one_batch(engine: DuckDBEngine) -> None:
    events = [
        change(Op.INSERT, "0/10", end=False, id=1, name="a"),
        change(Op.INSERT, "0/10", end=False, id=2, name="b"),
        change(Op.UPDATE, "0/10", end=False, id=1, name="a2"),
        change(Op.DELETE, "0/10", end=False, id=2),
        change(Op.INSERT, "0/10", id=3, name="c"),
    ]
    apply_changes(engine, events, job="j", targets=TARGETS, delete_mode="hard")
    assert engine.query("SELECT id, name FROM ods_x.t ORDER BY id").to_pylist() == [
        {"id": 1, "name": "a2"}, {"id": 3, "name": "c"}]
    apply_changes(engine, [change(Op.DELETE, "0/20", id=1)], job="j", targets=TARGETS,
                  delete_mode="hard")
    assert engine.query("SELECT id FROM ods_x.t").to_pylist() == [{"id": 3}]


def test_resent_changes_are_skipped(engine: DuckDBEngine) -> None:
    first = [change(Op.INSERT, "0/10", id=1, name="a"), change(Op.INSERT, "0/20", id=2, name="b")]
    apply_changes(engine, first, job="j", targets=TARGETS, delete_mode="hard")
    # After a crash the source sends from its last acknowledged point: 0/20 comes again.
    again = [change(Op.UPDATE, "0/20", id=2, name="STALE"),
             change(Op.INSERT, "0/30", id=3, name="c")]
    result = apply_changes(engine, again, job="j", targets=TARGETS, delete_mode="hard")
    assert result.rows_read == 1
    assert engine.query("SELECT id, name FROM ods_x.t ORDER BY id").to_pylist() == [
        {"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}]


def test_an_unfinished_transaction_is_not_committed(engine: DuckDBEngine) -> None:
    events = [change(Op.INSERT, "0/10", id=1, name="a"),
              change(Op.INSERT, "0/20", end=False, id=2, name="b")]  # stream ends mid-txn
    apply_changes(engine, events, job="j", targets=TARGETS)
    assert [r["id"] for r in rows(engine)] == [1]
    assert read_offset(engine, "j") == "0/10"


def test_truncate_empties_the_table(engine: DuckDBEngine) -> None:
    apply_changes(engine, [change(Op.INSERT, "0/10", id=1, name="a")], job="j", targets=TARGETS)
    truncate = Change(table="public.t", op=Op.TRUNCATE, row={}, key=("id",), committed_at=AT,
                      position="0/20", transaction_end=True)
    apply_changes(engine, [truncate, change(Op.INSERT, "0/30", id=2, name="b")], job="j",
                  targets=TARGETS)
    assert [r["id"] for r in rows(engine)] == [2]


def test_lsns_compare_as_numbers() -> None:
    assert pg_lsn("A/0") < pg_lsn("10/0")
    assert pg_lsn("0/FFFFFFFF") < pg_lsn("1/0")
    assert sorted(["1/10", "0/FF", "A/1"], key=pg_lsn) == ["0/FF", "1/10", "A/1"]


def test_values_keep_the_ods_types(engine: DuckDBEngine) -> None:
    engine.write("ods_x.t", pa.table({"id": pa.array([0], pa.int32()),
                                      "amount": pa.array([Decimal("0.00")], pa.decimal128(12, 2)),
                                      "_deleted": [False],
                                      "_deleted_at": pa.array([None], pa.timestamp("us", "UTC"))}))
    apply_changes(engine, [change(Op.INSERT, "0/10", id=1, amount=Decimal("3.25"))], job="j",
                  targets=TARGETS)
    types = {c.name: c.type for c in engine.columns("ods_x.t")}
    assert types["amount"] == "DECIMAL(12,2)" and types["id"] == "INTEGER"
