"""Base-library merges on hand-made std tables: each survivorship rule, provenance, members
(with the rows std dedupe collapsed), conflicts, and the key without its check character."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pyarrow as pa
import pytest

from datapolis.baselib import service
from datapolis.baselib.libraries import Const, Field, Library, Source
from datapolis.baselib.merge import merge
from datapolis.errors import UserError
from datapolis.registry.db import Registry
from datapolis.warehouse import DuckDBEngine

T1, T2 = dt.datetime(2024, 1, 1), dt.datetime(2026, 1, 1)
ID_A = "37010219800101004X"
ID_A_TYPO = "370102198001010041"  # same body, wrong check character
ID_B = "370102199002020030"


def std(rows: list[dict[str, object]], src: str) -> pa.Table:
    table = pa.Table.from_pylist(rows)
    n = table.num_rows
    return table.append_column("_src", pa.array([src] * n)).append_column(
        "_pk", pa.array([str(i + 1) for i in range(n)]))


@pytest.fixture
def warehouse() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine()
    engine.execute("CREATE SCHEMA std")
    engine.write("std.police", std([
        {"sfzh": ID_A, "xm": "张伟", "dz": "兰山区1号", "dh": "13800000001", "gx": T1},
        {"sfzh": ID_B, "xm": "李娜", "dz": "河东区2号", "dh": None, "gx": T1},
    ], "ods_gaj.czrk"), mode="create")
    engine.write("std.water", std([
        {"zjhm": ID_A_TYPO, "hm": "张伟", "dz": "罗庄区3号", "dh": "13900000002", "gx": T2,
         "lx": "居民身份证"},
        {"zjhm": ID_A, "hm": "张伟", "dz": "罗庄区3号", "dh": "13900000002", "gx": T2,
         "lx": "居民身份证"},
        {"zjhm": ID_B, "hm": "某公司", "dz": "x", "dh": "1", "gx": T2, "lx": "统一社会信用代码"},
    ], "ods_swjt.yhda"), mode="create")
    # One police row collapsed into row 1 by std dedupe.
    engine.write("std._dedupe_police", pa.table({
        "_src": ["ods_gaj.czrk"], "_pk": ["9"], "_kept_src": ["ods_gaj.czrk"],
        "_kept_pk": ["1"]}), mode="create")
    yield engine
    engine.close()


LIB = Library(
    "person", "人口库", key=("id_number",), body_key=True,
    fields=(Field("id_number", "most_frequent"), Field("name"), Field("address"),
            Field("mobile", "most_recent"), Field("kind")),
    sources=(
        Source("std.police", {"id_number": "sfzh", "name": "xm", "address": "dz",
                              "mobile": "dh", "kind": Const("户籍")}, updated="gx"),
        Source("std.water", {"id_number": "zjhm", "name": "hm", "address": "dz",
                             "mobile": "dh"}, updated="gx", where=("lx", "居民身份证")),
        Source("std.absent", {"id_number": "x"}),
    ),
)


def base(engine: DuckDBEngine) -> dict[str, dict[str, object]]:
    rows = engine.query("SELECT * FROM base.person").to_pylist()
    return {str(r["link_key"]): r for r in rows}


def test_rules_provenance_members_and_conflicts(warehouse: DuckDBEngine) -> None:
    counts = merge(warehouse, LIB)
    assert counts.missing == ["std.absent"] and counts.rows_out == 2
    a, b = base(warehouse)[ID_A[:17]], base(warehouse)[ID_B[:17]]
    # id_number: most frequent (two of three records say ...04X); the typo still linked.
    assert a["id_number"] == ID_A and a["record_count"] == 3 and a["source_count"] == 2
    # address: source priority — the police, although the water company is more recent.
    assert (a["address"], a["address__src"]) == ("兰山区1号", "std.police")
    # mobile: most recent — the water company's.
    assert (a["mobile"], a["mobile__src"]) == ("13900000002", "std.water")
    assert (a["kind"], a["kind__src"]) == ("户籍", "std.police")
    # The firm's water account is not a person: B comes from the police alone.
    assert b["source_count"] == 1 and b["mobile"] is None and b["name"] == "李娜"
    members = warehouse.query("SELECT link_key, ods_table, pk, collapsed FROM "
                              "base._person_members ORDER BY ALL").to_pylist()
    assert {(m["ods_table"], m["pk"]) for m in members if m["link_key"] == ID_A[:17]} == {
        ("ods_gaj.czrk", "1"), ("ods_gaj.czrk", "9"), ("ods_swjt.yhda", "1"),
        ("ods_swjt.yhda", "2")}
    found = {(c.field, c.chosen_value, c.other_value, c.other_source)
             for c in service.conflicts(warehouse, library="person")}
    assert found == {
        ("id_number", ID_A, ID_A_TYPO, "std.water"),
        ("address", "兰山区1号", "罗庄区3号", "std.water"),
        ("mobile", "13900000002", "13800000001", "std.police"),
    }
    assert [c.field for c in service.conflicts(warehouse, field="address")] == ["address"]
    assert service.conflicts(warehouse, source="std.nosuch") == []


def test_exact_keys_split_a_mistyped_check_character(warehouse: DuckDBEngine) -> None:
    merge(warehouse, LIB, exact_keys=True)
    assert set(base(warehouse)) == {ID_A, ID_A_TYPO, ID_B}


def test_a_failed_merge_keeps_the_previous_library(registry: Registry,
                                                  warehouse: DuckDBEngine) -> None:
    service.build(registry, warehouse, LIB)
    before = base(warehouse)
    broken = Library("person", "人口库", key=("id_number",), body_key=True,
                     fields=(Field("id_number"), Field("name", sql_type="INTEGER")),
                     sources=(Source("std.police", {"id_number": "sfzh", "name": "xm"}),))
    with pytest.raises(UserError, match="previous table stays"):
        service.build(registry, warehouse, broken)
    assert base(warehouse) == before
    assert len(service.conflicts(warehouse, library="person")) == 3
