"""Profiling a warehouse table: exact figures for a small known table, masking, storage."""

from __future__ import annotations

from pathlib import Path

import pytest

from datapolis.catalog import profiling
from datapolis.warehouse import DuckDBEngine


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    engine = DuckDBEngine(tmp_path / "w.duckdb")
    engine.execute("CREATE SCHEMA ods_x")
    engine.execute(
        "CREATE TABLE ods_x.people (gmsfhm VARCHAR, xm VARCHAR, xb VARCHAR, age INTEGER, "
        "born DATE, lxdh VARCHAR, photo BLOB, \"select\" VARCHAR, \"序号 \"\"a\"\"\" INTEGER)"
    )
    engine.execute(
        "INSERT INTO ods_x.people VALUES "
        "('37130219900101001X', '张三', '1', 30, DATE '1990-01-01', '13800000001', NULL, 'a', 1), "
        "('371302199202020024', '李四', '2', 28, DATE '1992-02-02', '13800000002', NULL, 'a', 2), "
        "('371302199303030035', '张三', '1', NULL, DATE '1993-03-03', NULL, NULL, 'a', 2), "
        "('371302199404040046', '王五', '1', 26, NULL, '0539-1234567', NULL, NULL, 4)"
    )
    return engine


def test_a_small_table_is_profiled_exactly(engine: DuckDBEngine) -> None:
    stats = profiling.profile_table(engine, "ods_x.people")
    assert stats.table == "ods_x.people" and stats.rows == 4
    by = {c.name: c for c in stats.columns}
    assert [c.name for c in stats.columns] == [
        "gmsfhm", "xm", "xb", "age", "born", "lxdh", "photo", "select", '序号 "a"']

    xm = by["xm"]
    assert (xm.kind, xm.present, xm.distinct, xm.distinct_exact) == ("text", 4, 3, True)
    assert (xm.min_value, xm.max_value, xm.min_length, xm.max_length) == ("张三", "王五", 2, 2)
    assert xm.top_values == [("张三", 2)]  # values seen once are not top values
    assert xm.patterns == {"chinese_text": 4} and not xm.masked

    xb = by["xb"]
    assert xb.distinct == 2 and xb.top_values == [("1", 3)] and xb.patterns == {"digits": 4}

    age = by["age"]
    assert (age.kind, age.present, age.distinct) == ("number", 3, 3)
    assert (age.min_value, age.max_value) == ("26", "30") and age.null_share(4) == 0.25
    assert age.patterns == {} and age.min_length is None

    born = by["born"]
    assert (born.kind, born.present, born.min_value, born.max_value) == (
        "temporal", 3, "1990-01-01", "1993-03-03")

    photo = by["photo"]
    assert (photo.kind, photo.present, photo.distinct, photo.min_value) == ("other", 0, None, None)

    assert by["select"].top_values == [("a", 3)]  # a reserved word as a column name
    numbered = by['序号 "a"']  # files land with their own column names
    assert (numbered.distinct, numbered.top_values, numbered.max_value) == (3, [("2", 2)], "4")


def test_identifying_columns_are_masked_and_their_shapes_counted(engine: DuckDBEngine) -> None:
    by = {c.name: c for c in profiling.profile_table(engine, "ods_x.people").columns}
    ids = by["gmsfhm"]
    assert ids.patterns["resident_id"] == 4 and ids.masked
    assert ids.min_value == "371*************1X" and ids.max_value == "371*************46"
    assert all("*" not in s for s in ids.samples)  # kept unmasked for suggestions, never stored
    phones = by["lxdh"]
    assert phones.patterns == {"mobile": 2, "digits": 2} and phones.present == 3
    assert phones.masked and phones.min_value is not None and "*" in phones.min_value


def test_one_scan_computes_every_figure(engine: DuckDBEngine) -> None:
    plan = profiling.plan_scan(engine.columns("ods_x.people"), exact_distinct=False)
    sql = ", ".join(plan.expressions)
    assert sql.count("approx_count_distinct(") == 8 and "count(DISTINCT" not in sql
    assert '"select"' in sql and sql.count("approx_top_k(") == 8
    shapes = len(profiling.shapes())
    assert sql.count("regexp_full_match(") == 5 * shapes  # the five text columns


def test_large_tables_get_estimated_distinct_counts(
    engine: DuckDBEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profiling, "EXACT_DISTINCT_ROWS", 2)
    stats = profiling.profile_table(engine, "ods_x.people")
    assert not any(c.distinct_exact for c in stats.columns)
    assert {c.name: c.distinct for c in stats.columns}["xm"] == 3  # HyperLogLog, small: right


def test_storage_is_estimated_from_the_table_blocks(engine: DuckDBEngine) -> None:
    engine.execute("CREATE TABLE ods_x.big AS SELECT i, i::VARCHAR AS v FROM range(300000) r(i)")
    engine.execute("CHECKPOINT")
    big = profiling.storage_bytes(engine, "ods_x.big")
    small = profiling.storage_bytes(engine, "ods_x.people")
    assert big is not None and small is not None
    assert big >= 262_144 and big > small > 0
    assert big % 262_144 == 0


def test_masking_keeps_only_the_ends() -> None:
    assert profiling.mask("13800000001") == "138******01"
    assert profiling.mask("abc") == "***" and profiling.mask(None) is None
