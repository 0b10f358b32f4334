"""Incremental re-checks from the landing log give what a full check gives, increment after
increment: updates, inserts and deletes, duplicates that appear and go away."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from datapolis.ingest import changelog
from datapolis.quality import CheckReport, LandingLog, Rule, failing_keys, run_checks
from datapolis.warehouse import DuckDBEngine

TABLE = "ods_t.person"
MIRROR = "ods_t.mirror"  # a copy checked in full: its state is its own
RULES = [
    Rule("phone", "mobile", ("phone",)),
    Rule("name", "not_blank", ("name",)),
    Rule("age", "range", ("age",), {"min": 0, "max": 120}),
    Rule("uid", "unique", ("sfzh",)),
    Rule("pair", "unique", ("name", "age")),
    Rule("sex", "in_set", ("sex",), {"values": ["1", "2"]}),
]
ROW_RULES = [r for r in RULES if r.kind != "unique"]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[DuckDBEngine]:
    warehouse = DuckDBEngine(tmp_path / "w.duckdb")
    yield warehouse
    warehouse.close()


def _row(key: int, rng: random.Random) -> dict[str, Any]:
    return {"id": key,
            "sfzh": rng.choice([None, *(f"ID{n:04d}" for n in range(400))]),
            "phone": rng.choice(["13800000000", "123", None, f"139{key:08d}"]),
            "name": rng.choice(["", " ", None, "张三", "李四", "王五", f"n{key}"]),
            "age": rng.choice([None, -1, 30, 40, 200, key % 100]),
            "sex": rng.choice(["1", "2", "M", None])}


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("id", pa.int64()), ("sfzh", pa.string()), ("phone", pa.string()),
        ("name", pa.string()), ("age", pa.int64()), ("sex", pa.string())]))


def _outcome(engine: DuckDBEngine, table: str, report: CheckReport) -> list[Any]:
    out: list[Any] = [report.rows]
    for result in report.results:
        out.append((result.rule.code, result.checked, result.failed, result.detail,
                    result.sample))
    for index in range(len(ROW_RULES)):
        out.append(sorted(k["id"] for k in failing_keys(engine, table, index, key=["id"])))
    return out


def _check(engine: DuckDBEngine, **kwargs: Any) -> tuple[CheckReport, list[Any]]:
    report = run_checks(engine, TABLE, RULES, key=["id"], **kwargs)
    return report, _outcome(engine, TABLE, report)


def _full(engine: DuckDBEngine) -> list[Any]:
    """What a full check of the table as it is now finds (on a copy, state left alone)."""
    engine.execute(f"CREATE OR REPLACE TABLE {MIRROR} AS SELECT * FROM {TABLE}")
    report = run_checks(engine, MIRROR, RULES, key=["id"])
    assert not report.incremental
    return _outcome(engine, MIRROR, report)


def test_increments_with_updates_inserts_and_deletes_equal_full_checks(
        engine: DuckDBEngine) -> None:
    rng = random.Random(11)
    engine.create_schema("ods_t")
    engine.write(TABLE, _table([_row(k, rng) for k in range(600)]), mode="create")
    first, _ = _check(engine, changed=LandingLog())
    assert not first.incremental and changelog.is_open(engine, TABLE)
    next_key = 600
    for _ in range(6):
        keys = rng.sample(range(next_key), 60)
        updates = [_row(k, rng) for k in keys[:45]]
        inserts = [_row(next_key + n, rng) for n in range(10)]
        next_key += 10
        gone = _table([{"id": k} for k in keys[45:]]).select(["id"])
        changelog.merge(engine, TABLE, _table(updates + inserts), ["id"], delete_keys=gone)
        if rng.random() < 0.5:  # two landings before one check
            changelog.merge(engine, TABLE, _table([_row(k, rng) for k in keys[:5]]), ["id"])
        again, incremental = _check(engine, changed=LandingLog())
        assert again.incremental
        assert changelog.last_batch(engine, TABLE) == 0  # what it saw is removed
        assert incremental == _full(engine)
    assert all(r.failed for r in again.results)
    # a restart checks everything and finds the same
    restarted, outcome = _check(engine, changed=LandingLog(restart=True))
    assert not restarted.incremental and outcome == incremental


def test_a_duplicate_created_then_removed_by_later_increments(engine: DuckDBEngine) -> None:
    engine.create_schema("ods_t")
    rows = [{"id": k, "sfzh": f"ID{k}", "phone": "13800000000", "name": f"n{k}", "age": k,
             "sex": "1"} for k in range(20)]
    engine.write(TABLE, _table(rows), mode="create")
    run_checks(engine, TABLE, RULES, key=["id"], changed=LandingLog())

    def land(changed: list[dict[str, Any]], deleted: list[int] = ()) -> dict[str, Any]:  # type: ignore[assignment]
        gone = _table([{"id": k} for k in deleted]).select(["id"]) if deleted else None
        changelog.merge(engine, TABLE, _table(changed), ["id"], delete_keys=gone)
        report, outcome = _check(engine, changed=LandingLog())
        assert report.incremental and outcome == _full(engine)
        return report.results[3].detail

    # row 5 takes row 3's ID: one duplicated value on two rows
    assert land([rows[5] | {"sfzh": "ID3"}]) == {"duplicated_values": 1,
                                                  "rows_with_duplicate": 2}
    # a new row takes it too, and row 7 takes row 8's
    assert land([rows[7] | {"sfzh": "ID8"}, rows[0] | {"id": 30, "sfzh": "ID3"}]) == {
        "duplicated_values": 2, "rows_with_duplicate": 5}
    # row 3 is deleted, row 8 changes its ID: only ID3 on rows 5 and 30 is left
    assert land([rows[8] | {"sfzh": "ID108"}], deleted=[3]) == {
        "duplicated_values": 1, "rows_with_duplicate": 2}
    # row 5 goes back to its own ID, row 30 loses its ID: no duplicate any more
    assert land([rows[5], rows[0] | {"id": 30, "sfzh": None}]) == {
        "duplicated_values": 0, "rows_with_duplicate": 0}


def test_without_an_open_log_or_with_other_rules_the_check_is_full(
        engine: DuckDBEngine) -> None:
    rng = random.Random(3)
    engine.create_schema("ods_t")
    engine.write(TABLE, _table([_row(k, rng) for k in range(50)]), mode="create")
    run_checks(engine, TABLE, RULES, key=["id"], changed=LandingLog())
    changelog.close_log(engine, TABLE)  # a snapshot landed, say
    again = run_checks(engine, TABLE, RULES, key=["id"], changed=LandingLog())
    assert not again.incremental and changelog.is_open(engine, TABLE)
    other = run_checks(engine, TABLE, RULES[:2], key=["id"], changed=LandingLog())
    assert not other.incremental


def test_the_row_rules_read_the_changed_rows_not_the_table(engine: DuckDBEngine) -> None:
    rng = random.Random(5)
    engine.create_schema("ods_t")
    engine.write(TABLE, _table([_row(k, rng) for k in range(50)]), mode="create")
    run_checks(engine, TABLE, RULES, key=["id"], changed=LandingLog())
    changelog.merge(engine, TABLE, _table([_row(3, rng)]), ["id"])
    report = run_checks(engine, TABLE, RULES, key=["id"], changed=LandingLog())
    scans = [q for q in report.queries if "_mask" in q and q.startswith("INSERT")]
    assert scans and all('"ods_t"."person"' not in q for q in scans)
    # the table itself is only counted (from metadata); uniqueness reads its own state
    reads = [q for q in report.queries if '"ods_t"."person"' in q]
    assert reads == ['SELECT count(*) AS n FROM "ods_t"."person"']
