"""Standardisation: every transform on dirty department values, survivorship, build records,
and the atomic rebuild (a failed build leaves the previous std table)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pyarrow as pa
import pytest
from sqlalchemy import select
from stdnum.cn import ric

from datapolis.catalog.standards import seed_standards
from datapolis.errors import UserError
from datapolis.registry.db import Registry
from datapolis.standardise import build as std_build
from datapolis.standardise.models import GovernanceBuild
from datapolis.standardise.spec import parse
from datapolis.warehouse import DuckDBEngine

ROWS = pa.table({
    "id": [1, 2, 3, 4, 5, 6],
    "sfzh": [" 370102800101001 ", "37010219800101004x", "３７０１０２１９８００１０１００４Ｘ",
             "", None, "37010219900202003X"],
    "xm": ["张　伟", "李四 ", "ＷＡＮＧ　Ｆａｎｇ", "  ", "王五", "赵六"],
    "xb": ["男", "M", "2", "女性", "unknown", "1"],
    "csrq": ["2021-03-04", "2021/3/4", "20210304", "2021年3月4日", "44259", "not a date"],
    "dz": ["临沂市兰山区１２号", "山东省临沂市兰山区12号", None, "  ", "x", "y"],
    "gxsj": [dt.datetime(2024, 1, 1), dt.datetime(2025, 1, 1), dt.datetime(2023, 1, 1),
             None, None, None],
})


@pytest.fixture
def warehouse() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine()
    engine.execute("CREATE SCHEMA ods_test")
    engine.write("ods_test.people", ROWS, mode="create")
    yield engine
    engine.close()


@pytest.fixture
def seeded(registry: Registry) -> Registry:
    with registry.session() as session:
        seed_standards(session)
    return registry


SPEC = {
    "target": "people", "sources": ["ods_test.people"], "pk": "id",
    "columns": {
        "sfzh": ["trim", "halfwidth", "upper", "blank_to_null", "id18"],
        "xm": ["halfwidth", "remove_spaces", "blank_to_null"],
        "xb": [{"code": {"table": "sex", "aliases": {"M": "1", "F": "2"}}}],
        "csrq": ["date"],
        "dz": ["halfwidth", "trim", "blank_to_null",
               {"regex_replace": {"pattern": "^临沂市", "replacement": "山东省临沂市"}}],
    },
}


def rows(engine: DuckDBEngine, table: str = "std.people") -> list[dict[str, object]]:
    return engine.query(f"SELECT * FROM {table} ORDER BY id").to_pylist()


def test_every_transform_on_dirty_values(seeded: Registry, warehouse: DuckDBEngine) -> None:
    result = std_build.build(seeded, warehouse, parse(SPEC))
    got = rows(warehouse)
    # 15 -> 18 digits with the GB 11643 check digit; x upper-cased; full-width digits.
    assert got[0]["sfzh"] == "370102198001010015"
    assert ric.calc_check_digit(got[0]["sfzh"]) == "5"  # an independent GB 11643 oracle
    assert got[1]["sfzh"] == got[2]["sfzh"] == "37010219800101004X"
    assert got[3]["sfzh"] is None and got[4]["sfzh"] is None
    assert [r["xm"] for r in got] == ["张伟", "李四", "WANGFang", None, "王五", "赵六"]
    # 男 / M / 2 / 女性 / 1 to GB/T 2261.1 codes; an unknown value is kept, not lost.
    assert [r["xb"] for r in got] == ["1", "1", "2", "2", "unknown", "1"]
    march4 = dt.date(2021, 3, 4)  # ISO, slashes, compact, Chinese and an Excel serial
    assert [r["csrq"] for r in got] == [march4] * 5 + [None]
    assert got[0]["dz"] == got[1]["dz"] == "山东省临沂市兰山区12号"
    assert got[3]["dz"] is None
    steps = {(s["column"], s["step"]): s for s in result.details["steps"]}
    assert steps[("sfzh", "id18")]["changed"] == 1
    # The ISO one keeps its text; four are reformatted and "not a date" emptied.
    assert steps[("csrq", "date")]["changed"] == 5
    assert steps[("csrq", "date")]["nulled"] == 1
    assert steps[("xm", "remove_spaces")]["changed"] == 4  # 张 伟, 李四 , WANG Fang, blanks
    assert result.rows_in == result.rows_out == 6 and result.rows_changed == 6
    assert set(warehouse.query("SELECT _src, _pk FROM std.people").column("_src").to_pylist()) \
        == {"ods_test.people"}


def test_dedupe_keeps_the_most_recent_and_records_lineage(seeded: Registry,
                                                         warehouse: DuckDBEngine) -> None:
    spec = dict(SPEC, dedupe={"key": ["sfzh"], "keep": ["most_recent:gxsj", "most_complete"]})
    result = std_build.build(seeded, warehouse, parse(spec))
    got = rows(warehouse)
    # Rows 2 and 3 are one person after standardisation: 2 is the more recent.
    assert [r["id"] for r in got] == [1, 2, 4, 5, 6]
    assert result.details["deduplicated"] == 1
    assert warehouse.query("SELECT * FROM std._dedupe_people").to_pylist() == [
        {"_src": "ods_test.people", "_pk": "3", "_kept_src": "ods_test.people", "_kept_pk": "2"}]


def test_most_complete_and_source_priority(seeded: Registry, warehouse: DuckDBEngine) -> None:
    warehouse.write("ods_test.people_2", ROWS.slice(1, 1).set_column(
        3, "xb", pa.array([None], pa.string())), mode="create")
    spec = dict(SPEC, sources=["ods_test.people_*"],
                dedupe={"key": ["sfzh"], "keep": ["most_complete"]})
    spec["sources"] = ["ods_test.people*"]
    std_build.build(seeded, warehouse, parse(spec))
    kept = warehouse.query("SELECT _src, _pk FROM std.people WHERE sfzh = '37010219800101004X'"
                           ).to_pylist()
    # people_2 comes first by name (newest first) but lacks xb: the complete row wins;
    # of the two complete ones (ids 2, 3 of people) the source order then the key decide.
    assert kept == [{"_src": "ods_test.people", "_pk": "2"}]
    spec["dedupe"] = {"key": ["sfzh"], "keep": ["source_priority"]}
    std_build.build(seeded, warehouse, parse(spec))
    kept = warehouse.query("SELECT _src FROM std.people WHERE sfzh = '37010219800101004X'"
                           ).to_pylist()
    assert kept == [{"_src": "ods_test.people_2"}]


def test_a_failed_rebuild_leaves_the_previous_table(seeded: Registry,
                                                  warehouse: DuckDBEngine) -> None:
    first = std_build.build(seeded, warehouse, parse(SPEC))
    before = rows(warehouse)
    broken = dict(SPEC, columns=dict(SPEC["columns"], xm=[{"cast": "INTEGER"}]))
    with pytest.raises(std_build.BuildFailed, match="previous table stays"):
        std_build.build(seeded, warehouse, parse(broken))
    assert rows(warehouse) == before
    assert not warehouse.table_exists("temp._std_stage_people")
    with seeded.session() as session:
        records = list(session.scalars(select(GovernanceBuild).order_by(GovernanceBuild.id)))
        assert [r.status for r in records] == ["succeeded", "failed"]
        assert records[0].id == first.build_id and records[0].rows_out == 6
        assert records[0].details["steps"] and records[1].error
        assert "INTEGER" in (records[1].error or "") or "Conversion" in (records[1].error or "")


@pytest.mark.parametrize(("change", "message"), [
    ({"columns": {"xm": ["shout"]}}, "unknown transform 'shout'"),
    ({"columns": {"nosuch": ["trim"]}}, "no column nosuch"),
    ({"columns": {"xb": [{"code": "nosuch"}]}}, "no code table 'nosuch'"),
    ({"columns": {"xb": [{"code": {"table": "sex", "aliases": {"M": "7"}}}]}}, "not a code"),
    ({"dedupe": {"key": ["sfzh"], "keep": ["newest"]}}, "dedupe rule"),
    ({"sources": ["public.people"]}, "must be an ods_"),
    ({"sources": ["ods_test.nosuch"]}, "has landed yet"),
    ({"pk": "nosuch"}, "no primary key column"),
])
def test_bad_specs_are_refused_clearly(seeded: Registry, warehouse: DuckDBEngine,
                                       change: dict[str, object], message: str) -> None:
    with pytest.raises(UserError, match=message):
        std_build.build(seeded, warehouse, parse(dict(SPEC, **change)))
    assert not warehouse.table_exists("std.people")
