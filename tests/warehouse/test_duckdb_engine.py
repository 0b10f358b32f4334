from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from datapolis.errors import ConfigError
from datapolis.warehouse import LAYERS, DuckDBEngine, WarehouseError, ensure_layers, ods_schema
from datapolis.warehouse.engine import check_identifier, is_identifier, quote_identifier


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    return DuckDBEngine(tmp_path / "warehouse.duckdb")


def people(ids: list[int], names: list[str]) -> pa.Table:
    return pa.table({"id": pa.array(ids, pa.int64()), "name": pa.array(names, pa.string())})


def test_parameters_travel_as_values_not_sql(engine: DuckDBEngine) -> None:
    engine.write("std.person", people([1, 2], ["张三", "李四"]))
    hostile = "张三' OR '1'='1"
    assert engine.query("SELECT * FROM std.person WHERE name = ?", [hostile]).num_rows == 0
    named = engine.query("SELECT id FROM std.person WHERE name = $name", {"name": "李四"})
    assert named.column("id").to_pylist() == [2]


def test_records_reads_a_few_rows_as_query_does(engine: DuckDBEngine) -> None:
    engine.write("std.person", people([1, 2, 3], ["张三", "李四", "王五"]))
    sql = "SELECT id AS key, upper(name) AS name FROM std.person WHERE id >= ? ORDER BY id"
    assert engine.records(sql, [2]) == engine.query(sql, [2]).to_pylist() == [
        {"key": 2, "name": "李四"}, {"key": 3, "name": "王五"}]
    assert engine.records(sql, [9]) == []
    with pytest.raises(WarehouseError, match="warehouse query failed"):
        engine.records("SELECT missing FROM std.person")
    assert engine.records("SELECT count(*) AS n FROM std.person") == [{"n": 3}]  # usable after
    with pytest.raises(WarehouseError, match="warehouse query failed"):
        engine.records("SELEC 1")  # a parse error, too
    star = "SELECT * FROM std.person WHERE id = ?"
    assert engine.records(star, [1]) == [{"id": 1, "name": "张三"}]
    engine.execute("ALTER TABLE std.person ADD COLUMN city VARCHAR DEFAULT '临沂'")
    # The cached parse is bound again against the table as it is now.
    assert engine.records(star, [1]) == [{"id": 1, "name": "张三", "city": "临沂"}]


def test_write_modes(engine: DuckDBEngine) -> None:
    assert engine.write("ods_demo.t", people([1], ["a"])) == 1
    engine.write("ods_demo.t", people([2], ["b"]), mode="append")
    assert engine.query("SELECT count(*) AS n FROM ods_demo.t").column("n")[0].as_py() == 2
    engine.write("ods_demo.t", people([9], ["z"]), mode="replace")
    assert engine.query("SELECT id FROM ods_demo.t").column("id").to_pylist() == [9]
    with pytest.raises(WarehouseError, match="already exists"):
        engine.write("ods_demo.t", people([3], ["c"]), mode="create")


def test_append_matches_columns_by_name(engine: DuckDBEngine) -> None:
    engine.write("std.t", people([1], ["a"]))
    engine.write("std.t", pa.table({"name": ["b"], "id": pa.array([2], pa.int64())}))
    rows = engine.query("SELECT id, name FROM std.t ORDER BY id").to_pylist()
    assert rows == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]


def test_merge_updates_and_inserts_by_key(engine: DuckDBEngine) -> None:
    first = engine.merge("std.person", people([1, 2], ["a", "b"]), keys=["id"])
    assert (first.inserted, first.updated) == (2, 0)
    second = engine.merge("std.person", people([2, 3], ["B", "c"]), keys=["id"])
    assert (second.inserted, second.updated) == (1, 1)
    rows = engine.query("SELECT id, name FROM std.person ORDER BY id").to_pylist()
    assert rows == [{"id": 1, "name": "a"}, {"id": 2, "name": "B"}, {"id": 3, "name": "c"}]


def test_merge_deletes_and_composite_keys(engine: DuckDBEngine) -> None:
    data = pa.table({"org": ["a", "a", "b"], "no": [1, 2, 1], "v": [10, 20, 30]})
    engine.merge("std.m", data, keys=["org", "no"])
    result = engine.merge(
        "std.m",
        pa.table({"org": ["b"], "no": [1], "v": [31]}),
        keys=["org", "no"],
        delete_keys=pa.table({"org": ["a"], "no": [1]}),
    )
    assert result.updated == 1
    rows = engine.query("SELECT org, no, v FROM std.m ORDER BY org, no").to_pylist()
    assert rows == [{"org": "a", "no": 2, "v": 20}, {"org": "b", "no": 1, "v": 31}]


def test_merge_refuses_duplicate_keys_and_changes_nothing(engine: DuckDBEngine) -> None:
    engine.merge("std.person", people([1], ["a"]), keys=["id"])
    with pytest.raises(WarehouseError, match="more than once"):
        engine.merge("std.person", people([1, 1], ["x", "y"]), keys=["id"])
    with pytest.raises(WarehouseError, match="not in the data"):
        engine.merge("std.person", people([1], ["x"]), keys=["nope"])
    assert engine.query("SELECT name FROM std.person").column("name").to_pylist() == ["a"]


def test_transaction_rolls_back_everything(engine: DuckDBEngine) -> None:
    engine.write("std.t", people([1], ["a"]))
    with pytest.raises(RuntimeError), engine.transaction():
        engine.write("std.t", people([2], ["b"]))
        engine.merge("std.t2", people([5], ["e"]), keys=["id"])
        raise RuntimeError("crash mid-load")
    assert engine.query("SELECT id FROM std.t").column("id").to_pylist() == [1]
    assert not engine.table_exists("std.t2")


def test_query_batches_streams(engine: DuckDBEngine) -> None:
    engine.execute("CREATE SCHEMA std")
    engine.execute("CREATE TABLE std.big AS SELECT range AS id FROM range(10000)")
    batches = list(engine.query_batches("SELECT id FROM std.big ORDER BY id", batch_size=1000))
    assert sum(b.num_rows for b in batches) == 10000
    assert len(batches) >= 10
    assert max(b.num_rows for b in batches) <= 2048  # DuckDB's vector size bounds a batch


def test_introspection_with_comments(engine: DuckDBEngine) -> None:
    engine.write("ods_371300_gaj.persons", people([1], ["a"]))
    engine.execute("COMMENT ON TABLE ods_371300_gaj.persons IS '人口信息'")
    engine.execute("COMMENT ON COLUMN ods_371300_gaj.persons.name IS '姓名'")
    engine.execute("CREATE VIEW ods_371300_gaj.v AS SELECT id FROM ods_371300_gaj.persons")
    assert "ods_371300_gaj" in engine.schemas()
    tables = {t.name: t for t in engine.tables("ods_371300_gaj")}
    assert tables["persons"].kind == "table" and tables["persons"].comment == "人口信息"
    assert tables["v"].kind == "view"
    columns = engine.columns("ods_371300_gaj.persons")
    assert [(c.name, c.type, c.comment) for c in columns] == [
        ("id", "BIGINT", None),
        ("name", "VARCHAR", "姓名"),
    ]
    with pytest.raises(WarehouseError, match="no table"):
        engine.columns("std.missing")


@pytest.mark.parametrize(
    "name", ["std.t; DROP TABLE x", "t", 'std."t"', "std.t--", "1std.t", "std.t.x"]
)
def test_hostile_names_are_refused(engine: DuckDBEngine, name: str) -> None:
    with pytest.raises(WarehouseError):
        engine.write(name, people([1], ["a"]))


def test_layers_exist_after_ensure(engine: DuckDBEngine) -> None:
    ensure_layers(engine, ["371300_gaj", "371300_scjgj"])
    schemas = set(engine.schemas())
    assert {layer.schema for layer in LAYERS} <= schemas
    assert {"ods_371300_gaj", "ods_371300_scjgj"} <= schemas
    assert ods_schema("371300_gaj") == "ods_371300_gaj"
    with pytest.raises(WarehouseError):
        ods_schema("x; drop")


def test_second_process_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    holder = DuckDBEngine(path)
    try:
        code = (
            "import sys\n"
            "from datapolis.warehouse import DuckDBEngine\n"
            "from datapolis.errors import ConfigError\n"
            "try:\n"
            f"    DuckDBEngine({str(path)!r})\n"
            "except ConfigError as e:\n"
            "    print(e); sys.exit(3)\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 3, done.stderr
        assert "open in another process" in done.stdout
    finally:
        holder.close()


def test_unopenable_path_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "dir.duckdb").mkdir()
    with pytest.raises(ConfigError, match="cannot open warehouse"):
        DuckDBEngine(tmp_path / "dir.duckdb")


@pytest.mark.parametrize("name", ["gmsfhm", "_deleted", "序号", "月保障金额（元）", "乡镇（街道）",
                                  "Col_1", "x" * 63])
def test_names_of_any_script_are_identifiers(engine: DuckDBEngine, name: str) -> None:
    assert is_identifier(name)
    engine.execute("CREATE SCHEMA IF NOT EXISTS ods_t")
    engine.write("ods_t.names", pa.table({name: [1]}), mode="replace")
    assert engine.query(f"SELECT {quote_identifier(name)} AS v FROM ods_t.names").column(
        "v").to_pylist() == [1]


@pytest.mark.parametrize("name", ['a"b', "1abc", "a b", "x;drop", "a-b", "", "x" * 64,
                                  "名称\n", "a.b"])
def test_what_could_break_out_of_quotes_is_refused(name: str) -> None:
    assert not is_identifier(name)
    with pytest.raises(WarehouseError, match="invalid column"):
        check_identifier(name, "column")


def test_merge_of_whole_rows_and_of_some_columns_agree_with_an_upsert(
    engine: DuckDBEngine,
) -> None:
    base = pa.table({"k": ["a", None, "c"], "v": [1, 2, 3], "w": ["x", "y", "z"]})
    engine.merge("std.u", base, keys=["k"])
    # every column: deleted and appended (a null key matches a null key, as in MERGE)
    whole = engine.merge("std.u", pa.table({"k": [None, "d"], "v": [20, 4], "w": ["Y", "q"]}),
                         keys=["k"])
    # some columns: the others keep their values
    some = engine.merge("std.u", pa.table({"k": ["a"], "v": [10]}), keys=["k"])
    assert (whole.inserted, whole.updated, some.updated) == (1, 1, 1)
    rows = engine.query("SELECT k, v, w FROM std.u ORDER BY k NULLS FIRST").to_pylist()
    assert rows == [{"k": None, "v": 20, "w": "Y"}, {"k": "a", "v": 10, "w": "x"},
                    {"k": "c", "v": 3, "w": "z"}, {"k": "d", "v": 4, "w": "q"}]


def test_merge_into_a_referenced_table_updates_in_place(engine: DuckDBEngine) -> None:
    engine.execute("CREATE SCHEMA std")
    engine.execute("CREATE TABLE std.parent (id BIGINT PRIMARY KEY, name VARCHAR)")
    engine.execute("CREATE TABLE std.child (id BIGINT, parent BIGINT REFERENCES std.parent(id))")
    engine.execute("INSERT INTO std.parent VALUES (1, 'a')")
    engine.execute("INSERT INTO std.child VALUES (10, 1)")
    engine.merge("std.parent", people([1, 2], ["A", "b"]), keys=["id"])
    rows = engine.query("SELECT id, name FROM std.parent ORDER BY id").to_pylist()
    assert rows == [{"id": 1, "name": "A"}, {"id": 2, "name": "b"}]
