"""Pseudonym tables: HMAC-SM3 pseudonyms hashed once per distinct value and joined in the read."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pyarrow as pa
import pytest

from datapolis.security import deid
from datapolis.security.crypto import hmac_sm3
from datapolis.security.deid import DeidError, Plan, Rule, pseudonyms
from datapolis.security.deid.plans import UDF_ROWS
from datapolis.warehouse import DuckDBEngine

KEY_A = b"a" * 32
KEY_B = b"b" * 32
PEOPLE = "ods_t.people"
VISITS = "ods_t.visits"


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine()
    engine.execute("CREATE SCHEMA ods_t")
    engine.write(PEOPLE, pa.table({
        "id": pa.array(range(1, 9), pa.int64()),
        "sfzh": ["371302199001011234", "371302198512315678", None, "",
                 "371302199001011234", "37130220010101002X", "张三", "371302199001011234"],
        "age": pa.array([34, 39, None, 0, 34, 25, 50, 34], pa.int64()),
    }))
    engine.write(VISITS, pa.table({
        "visit": pa.array([10, 11, 12], pa.int64()),
        "person": ["371302198512315678", "371302199001011234", "999999999999999999"],
    }))
    yield engine
    engine.close()


def by_id(table: pa.Table, column: str = "sfzh") -> list[object]:
    return table.sort_by("id").column(column).to_pylist()


def expected(key: bytes, values: list[str | None]) -> list[str | None]:
    return [None if v is None else hmac_sm3(key, v.encode()).hex()[:32] for v in values]


def people_plan(key: bytes, family: str = "") -> Plan:
    params = {"family": family} if family else {}
    return Plan((Rule("id"), Rule("sfzh", "pseudonym", params), Rule("age")), key=key)


def pseudonym_tables(engine: DuckDBEngine) -> list[str]:
    return sorted(t.name for t in engine.tables("_deid") if t.name.startswith("p_"))


def test_a_large_read_takes_the_aligned_column_or_on_a_view_the_joined_table(
        engine: DuckDBEngine) -> None:
    plan = people_plan(KEY_A)
    truth = expected(KEY_A, engine.query(f"SELECT sfzh FROM {PEOPLE} ORDER BY id")
                     .column("sfzh").to_pylist())
    # Up to UDF_ROWS rows: the key's function, no table made.
    small = deid.read(engine, PEOPLE, plan, limit=UDF_ROWS)
    assert pseudonym_tables(engine) == []
    assert by_id(small) == truth
    # A whole-table read of a table: its aligned pseudonym column, read beside it by position.
    sources = deid.plans.prepare(engine, PEOPLE, plan, beside=True)
    assert (list(sources.aligned), list(sources.joined)) == (["sfzh"], [])
    assert "POSITIONAL JOIN" in deid.deidentified_select(PEOPLE, plan, sources)
    # One statement (a stream, a download): the pseudonym table, joined in parallel.
    sources = deid.plans.prepare(engine, PEOPLE, plan)
    assert (list(sources.aligned), list(sources.joined)) == ([], ["sfzh"])
    assert by_id(engine.query(deid.deidentified_select(PEOPLE, plan, sources))) == truth
    full = deid.read(engine, PEOPLE, plan)
    assert by_id(full) == truth
    assert by_id(full, "age") == [34, 39, None, 0, 34, 25, 50, 34]  # other columns untouched
    assert pseudonym_tables(engine) == [f"p_{deid.KeyContext(KEY_A).fingerprint}_sfzh"]
    streamed = pa.Table.from_batches(list(deid.read_batches(engine, PEOPLE, plan)))
    assert by_id(streamed) == truth
    # A view has no stable row order: the pseudonym table, joined in the SQL.
    engine.execute(f"CREATE VIEW ods_t.people_v AS SELECT * FROM {PEOPLE}")
    sources = deid.plans.prepare(engine, "ods_t.people_v", plan)
    assert (list(sources.aligned), list(sources.joined)) == ([], ["sfzh"])
    assert "LEFT JOIN" in deid.deidentified_select("ods_t.people_v", plan, sources)
    assert by_id(deid.read(engine, "ods_t.people_v", plan)) == truth


def test_only_new_distinct_values_are_hashed_when_the_table_grows(engine: DuckDBEngine) -> None:
    first = pseudonyms.refresh(engine, KEY_A, PEOPLE, "sfzh")
    assert (first.hashed, first.scanned) == (5, True)  # 5 distinct non-NULL values, "" included
    again = pseudonyms.refresh(engine, KEY_A, PEOPLE, "sfzh")
    assert (again.hashed, again.scanned) == (0, False)  # unchanged: no anti-join at all
    engine.write(PEOPLE, pa.table({"id": pa.array([9, 10], pa.int64()),
                                   "sfzh": ["371302200202020202", "371302199001011234"],
                                   "age": pa.array([24, 34], pa.int64())}))
    grown = pseudonyms.refresh(engine, KEY_A, PEOPLE, "sfzh")
    assert (grown.hashed, grown.scanned) == (1, True)
    # An update in place that keeps the row count (and would cancel out in an XOR) is seen.
    engine.execute(f"UPDATE {PEOPLE} SET sfzh = '110101200001010011' WHERE id IN (1, 5)")
    assert pseudonyms.refresh(engine, KEY_A, PEOPLE, "sfzh").hashed == 1
    count, distinct = engine.query(
        f"SELECT count(*), count(DISTINCT value) FROM {grown.table}").to_pylist()[0].values()
    assert count == distinct == 7  # each value once: a join never duplicates a row
    read = deid.read(engine, PEOPLE, people_plan(KEY_A))
    assert by_id(read)[0] == expected(KEY_A, ["110101200001010011"])[0]
    assert by_id(read)[-2] == expected(KEY_A, ["371302200202020202"])[0]


def test_joins_work_inside_one_key_and_not_across_keys(engine: DuckDBEngine) -> None:
    def release(key: bytes) -> tuple[pa.Table, pa.Table]:
        people = deid.read(engine, PEOPLE, people_plan(key, "resident_id"))
        visits = deid.read(engine, VISITS, Plan(
            (Rule("visit"), Rule("person", "pseudonym", {"family": "resident_id"})), key=key))
        return people, visits

    people_a, visits_a = release(KEY_A)
    engine.write("ods_t.rel_people", people_a)
    engine.write("ods_t.rel_visits", visits_a)
    matched = engine.query(
        "SELECT DISTINCT v.visit, p.id FROM ods_t.rel_visits v "
        "JOIN ods_t.rel_people p ON p.sfzh = v.person ORDER BY 1, 2").to_pylist()
    assert matched == [{"visit": 10, "id": 2}, {"visit": 11, "id": 1},
                       {"visit": 11, "id": 5}, {"visit": 11, "id": 8}]
    # One family table serves both sources; the second hashed only its one unseen value.
    fingerprint = deid.KeyContext(KEY_A).fingerprint
    assert pseudonym_tables(engine) == [f"p_{fingerprint}_resident_id"]
    assert engine.count(f"SELECT count(*) FROM _deid.p_{fingerprint}_resident_id") == 6

    people_b, visits_b = release(KEY_B)
    under_a = set(people_a.column("sfzh").to_pylist()) | set(visits_a.column("person").to_pylist())
    under_b = set(people_b.column("sfzh").to_pylist()) | set(visits_b.column("person").to_pylist())
    assert under_a & under_b == {None}  # nothing links a release under A to one under B
    engine.write("ods_t.rel_people_b", people_b)
    assert engine.count("SELECT count(*) FROM ods_t.rel_visits v "
                        "JOIN ods_t.rel_people_b p ON p.sfzh = v.person") == 0


def test_a_pseudonym_table_holds_no_key_material(engine: DuckDBEngine) -> None:
    refreshed = pseudonyms.refresh(engine, KEY_A, PEOPLE, "sfzh")
    assert [c.name for c in engine.columns(refreshed.table)] == ["value", "pseudonym"]
    cells = engine.query(f"SELECT * FROM {refreshed.table}").to_pylist()
    text = " ".join(f"{r['value']} {r['pseudonym']}" for r in cells) + " " + refreshed.table
    for secret in (KEY_A.hex(), KEY_A.decode()):
        assert secret not in text
    assert all(len(r["pseudonym"]) == 32 for r in cells)
    assert deid.KeyContext(KEY_A).fingerprint in refreshed.table  # a fingerprint, not the key


def test_a_retired_key_is_refused_with_a_clear_error(engine: DuckDBEngine) -> None:
    deid.read(engine, PEOPLE, people_plan(KEY_A))
    deid.read(engine, PEOPLE, people_plan(KEY_B))
    dropped = pseudonyms.retire(engine, KEY_A)
    fingerprint = deid.KeyContext(KEY_A).fingerprint
    assert dropped == [deid.aligned.table_for(KEY_A, PEOPLE, "sfzh"),
                       f"_deid.p_{fingerprint}_sfzh"]  # the aligned column goes too
    assert not [t for t in engine.tables("_deid") if fingerprint in t.name]
    assert pseudonym_tables(engine) == [f"p_{deid.KeyContext(KEY_B).fingerprint}_sfzh"]
    for limit in (None, 5):  # the table path and the function path alike
        with pytest.raises(DeidError, match=r"key [0-9a-f]{16} was retired on .* current key"):
            deid.read(engine, PEOPLE, people_plan(KEY_A), limit=limit)
    with pytest.raises(DeidError, match="was retired"):
        pseudonyms.refresh(engine, KEY_A, PEOPLE, "sfzh")
    with pytest.raises(DeidError, match="was retired"):  # noise under the key as well
        deid.read(engine, PEOPLE, Plan((Rule("age", "noise"),), key=KEY_A, row_id="id"))
    assert pseudonym_tables(engine) == [f"p_{deid.KeyContext(KEY_B).fingerprint}_sfzh"]
    assert len(deid.read(engine, PEOPLE, people_plan(KEY_B))) == 8  # other keys read on


@pytest.mark.parametrize(("params", "message"), [
    ({"family": "Resident-ID"}, "family must be a short name of lower-case letters"),
    ({"family": "x" * 33}, "family must be a short name"),
    ({"family": 7}, "family must be a short name"),
    ({"family": "1st"}, "family must be a short name"),
    ({"salt": "x"}, "unknown parameter salt; it takes family"),
])
def test_bad_pseudonym_parameters_are_clear_errors(
    engine: DuckDBEngine, params: dict[str, object], message: str
) -> None:
    plan = Plan((Rule("sfzh", "pseudonym", params),), key=KEY_A)  # type: ignore[arg-type]
    for limit in (None, 5):
        with pytest.raises(DeidError, match=message):
            deid.read(engine, PEOPLE, plan, limit=limit)
    assert pseudonym_tables(engine) == []


def test_long_or_chinese_column_names_get_a_digest_family(engine: DuckDBEngine) -> None:
    engine.write("ods_t.cn", pa.table({"身份证号": ["371302199001011234", None]}))
    plan = Plan((Rule("身份证号", "pseudonym"),), key=KEY_A)
    values = deid.read(engine, "ods_t.cn", plan).column("身份证号").to_pylist()
    assert sorted(values, key=str) == sorted(expected(KEY_A, ["371302199001011234", None]),
                                             key=str)
    assert pseudonyms.family_of("身份证号").startswith("c_")
    assert pseudonyms.family_of("sfzh") == "sfzh"


def test_concurrent_reads_hash_each_value_once(engine: DuckDBEngine) -> None:
    errors: list[BaseException] = []

    def read() -> None:
        try:
            deid.read(engine, PEOPLE, people_plan(KEY_A))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    table = pseudonyms.table_for(KEY_A, "sfzh")
    assert engine.count(f"SELECT count(*) FROM {table}") == 5
