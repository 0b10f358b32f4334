"""The quality engine on a real DuckDB warehouse: every rule kind, one scan, incremental."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from datapolis.quality import Changed, Rule, RuleError, TableContext, failing_keys, run_checks
from datapolis.security.classify.validators import is_credit_code, is_resident_id
from datapolis.warehouse.duckdb_engine import DuckDBEngine


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    warehouse = DuckDBEngine()
    warehouse.execute("CREATE SCHEMA ods_t")
    yield warehouse
    warehouse.close()


def _load(engine: DuckDBEngine, column: str, values: list[Any], table: str = "ods_t.v") -> None:
    engine.write(table, pa.table({"id": list(range(len(values))), column: values}),
                 mode="replace")


def _failing(engine: DuckDBEngine, rule: Rule, values: list[Any]) -> list[Any]:
    """The values `rule` finds failing."""
    _load(engine, rule.columns[0] if rule.columns else "x", values)
    report = run_checks(engine, "ods_t.v", [rule], key=["id"])
    ids = {row["id"] for row in failing_keys(engine, "ods_t.v", 0, key=["id"])}
    assert report.results[0].failed == len(ids)
    return [values[i] for i in sorted(ids)]


IDS = ["11010519491231002X", "11010519491231002x", "110105194912310021", "110105194902300020",
       "37130219900307123X", "990105194912310029", "11010500001231002X", "1101051949123100",
       "11010519491231002XX", "abc", "", "１１010519491231002X", "91110000600037341L"]
CREDIT = ["91110000600037341L", "91350100M000100Y43", "91110000600037341l", "9111000060003734IL",
          "A1110000600037341L", "91110000600037341", "9111 0000600037341L", "", "abc",
          "11010519491231002X", "91110000600037342L"]


def test_resident_id_agrees_with_the_classifier(engine: DuckDBEngine) -> None:
    failing = _failing(engine, Rule("r", "resident_id", ("v",)), [*IDS, None])
    # full-width digits: the classifier reads them as digits (Python's \d), SQL does not
    expected = [v for v in IDS if not is_resident_id(v) or not v.isascii()]
    assert failing == expected
    assert "11010519491231002X" not in failing and "110105194902300020" in failing


def test_resident_id_with_known_divisions(engine: DuckDBEngine) -> None:
    rule = Rule("r", "resident_id", ("v",), {"divisions": ["371302"]})
    assert _failing(engine, rule, ["37130219900307123X", "11010519491231002X"]) == [
        "11010519491231002X"]


def test_credit_code_agrees_with_the_classifier(engine: DuckDBEngine) -> None:
    failing = _failing(engine, Rule("c", "credit_code", ("v",)), [*CREDIT, None])
    assert failing == [v for v in CREDIT if not is_credit_code(v)]
    assert "91350100M000100Y43" not in failing


@pytest.mark.parametrize(("rule", "values", "failing"), [
    (Rule("a", "not_null", ("v",)), ["x", None, ""], [None]),
    (Rule("a", "not_blank", ("v",)), ["x", None, "", "  "], [None, "", "  "]),
    (Rule("a", "regex", ("v",), {"pattern": "[A-Z]{2}[0-9]+"}), ["AB1", "ab1", None, "AB"],
     ["ab1", "AB"]),
    (Rule("a", "length", ("v",), {"min": 2, "max": 3}), ["a", "ab", "abc", "abcd", None],
     ["a", "abcd"]),
    (Rule("a", "mobile", ("v",)), ["13812345678", "+8613812345678", "138-1234-5678",
                                   "12812345678", "1381234567", None], ["12812345678",
                                                                        "1381234567"]),
    (Rule("a", "date", ("v",)), ["2024-02-29", "2023-02-29", "2024-13-01", "x", None],
     ["2023-02-29", "2024-13-01", "x"]),
    (Rule("a", "date", ("v",), {"format": "%Y%m%d"}), ["20240229", "20230229", "2024-02-01"],
     ["20230229", "2024-02-01"]),
    (Rule("a", "date_range", ("v",), {"min": "1900-01-01", "max": "today"}),
     ["1899-12-31", "1950-06-01", "2999-01-01", "junk", None], ["1899-12-31", "2999-01-01",
                                                                 "junk"]),
    (Rule("a", "range", ("v",), {"min": 0, "max": 120}), ["0", "120", "121", "-1", "x", None],
     ["121", "-1", "x"]),
    (Rule("a", "in_set", ("v",), {"values": ["1", "2", "9"]}), ["1", "2", "3", None, "男"],
     ["3", "男"]),
])
def test_row_rule_kinds(engine: DuckDBEngine, rule: Rule, values: list[Any],
                        failing: list[Any]) -> None:
    assert _failing(engine, rule, values) == failing


def test_numeric_range_on_a_number_column(engine: DuckDBEngine) -> None:
    assert _failing(engine, Rule("a", "range", ("v",), {"min": 18}), [17, 18, 60, None]) == [17]


def test_reference_to_a_base_library(engine: DuckDBEngine) -> None:
    engine.execute("CREATE SCHEMA base")
    engine.write("base.person", pa.table({"sfzh": ["A", "B", None]}), mode="create")
    rule = Rule("a", "reference", ("v",), {"table": "base.person", "column": "sfzh"})
    assert _failing(engine, rule, ["A", "C", None, "B"]) == ["C"]


def test_uniqueness_reports_values_and_rows(engine: DuckDBEngine) -> None:
    engine.write("ods_t.u", pa.table({"id": [1, 2, 3, 4, 5, 6], "a": ["x", "x", "x", "y", "z", "z"],
                                      "b": [1, 1, 2, 1, 1, 1]}), mode="create")
    single, composite = run_checks(engine, "ods_t.u", [
        Rule("one", "unique", ("a",)), Rule("two", "unique", ("a", "b"))]).results
    assert single.detail == {"duplicated_values": 2, "rows_with_duplicate": 5}
    assert (single.checked, single.failed) == (6, 5)
    assert composite.detail == {"duplicated_values": 2, "rows_with_duplicate": 4}
    assert {s["a"] for s in composite.sample} == {"x", "z"}


def test_consistency_between_two_sources(engine: DuckDBEngine) -> None:
    engine.execute("CREATE SCHEMA ods_u")
    engine.write("ods_t.c", pa.table({"k": ["1", "2", "3", "4"], "amount": [10.0, 20.0, 30.0, 1.0],
                                      "name": ["张三", "李四", "王五", "x"]}), mode="create")
    engine.write("ods_u.c", pa.table({"key": ["1", "2", "3"], "amount": ["10.04", "21", "30"],
                                      "name": ["张三 ", "李四", "王六"]}), mode="create")
    numbers, names = run_checks(engine, "ods_t.c", [
        Rule("n", "consistency", ("k", "amount"),
             {"table": "ods_u.c", "key": "key", "column": "amount", "tolerance": 0.05}),
        Rule("s", "consistency", ("k", "name"),
             {"table": "ods_u.c", "key": "key", "column": "name"}),
    ]).results
    assert (numbers.checked, numbers.failed) == (3, 1)
    assert numbers.sample == [{"key": "2", "value": "20.0", "other": "21"}]
    assert (names.checked, names.failed) == (3, 1)


def test_freshness_and_row_count(engine: DuckDBEngine) -> None:
    _load(engine, "x", [1, 2, 3])
    now = datetime(2026, 1, 10, tzinfo=UTC)
    rules = [Rule("f", "freshness", params={"max_age_hours": 24}),
             Rule("r", "row_count", params={"max_change": 0.2})]
    fresh = TableContext(rows=0, last_landed=now - timedelta(hours=3), previous_rows=3, now=now)
    late = TableContext(rows=0, last_landed=now - timedelta(days=3), previous_rows=10, now=now)
    assert [r.failed for r in run_checks(engine, "ods_t.v", rules, context=fresh).results] == [0, 0]
    stale = run_checks(engine, "ods_t.v", rules, context=late).results
    assert [r.failed for r in stale] == [1, 1]
    assert stale[1].detail["change"] == 0.7
    never = TableContext(rows=0, now=now)
    assert run_checks(engine, "ods_t.v", rules[:1], context=never).results[0].failed == 1


def test_custom_sql_counts_the_rows_it_selects(engine: DuckDBEngine) -> None:
    _load(engine, "x", [1, 5, 9])
    rule = Rule("c", "custom_sql", params={"sql": "SELECT id FROM ods_t.v WHERE x > 4;"})
    result = run_checks(engine, "ods_t.v", [rule]).results[0]
    assert (result.checked, result.failed) == (3, 2)


@pytest.mark.parametrize("sql", [
    "DROP TABLE ods_t.v", "SELECT 1; DELETE FROM ods_t.v", "PRAGMA database_list",
    "ATTACH 'x.db'", "COPY ods_t.v TO '/tmp/x.csv'", "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'", "SELECT getenv('HOME')", "SELECT 1 INTO ods_t.w",
    "SET threads = 1", "INSERT INTO ods_t.v SELECT * FROM ods_t.v", "SELECT * FROM v",
    "SELECT * FROM other.ods_t.v", "select from where", "",
])
def test_custom_sql_refusals(engine: DuckDBEngine, sql: str) -> None:
    _load(engine, "x", [1])
    with pytest.raises(RuleError):
        run_checks(engine, "ods_t.v", [Rule("c", "custom_sql", params={"sql": sql})])
    assert engine.query("SELECT count(*) AS n FROM ods_t.v").column("n")[0].as_py() == 1


@pytest.mark.parametrize("rule", [
    Rule("a", "nope", ("x",)), Rule("a", "regex", ("x",)), Rule("a", "regex", ("x",),
                                                                 {"pattern": "("}),
    Rule("a", "range", ("x",), {"min": "zero"}), Rule("a", "not_null", ("missing",)),
    Rule("a", "not_null", ()), Rule("a", "not_null", ("x",), threshold=1.5),
    Rule("a", "reference", ("x",), {"table": "nodot", "column": "k"}),
    Rule("a", "resident_id", ("x",), {"divisions": ["3713"]}),
    Rule("not_null", "custom_sql", params={"sql": "SELECT 1 FROM ods_t.v"}),
])
def test_bad_rules_are_refused(engine: DuckDBEngine, rule: Rule) -> None:
    _load(engine, "x", [1])
    with pytest.raises(RuleError):
        run_checks(engine, "ods_t.v", [rule, Rule("not_null", "not_null", ("x",))])


def _person(engine: DuckDBEngine, rows: int = 5000) -> None:
    engine.execute(
        "CREATE OR REPLACE TABLE ods_t.person AS SELECT i AS id, "
        "CASE WHEN i % 7 = 0 THEN '11010519491231002X' WHEN i % 11 = 0 THEN '110105194912310021' "
        "ELSE NULL END AS sfzh, CASE WHEN i % 33 = 0 THEN 'bad' ELSE '138' || "
        "lpad(CAST(i AS VARCHAR), 8, '0') END AS phone, i % 130 AS age, "
        f"TIMESTAMP '2026-01-01' AS updated_at FROM range({rows}) r(i)")


RULES = [Rule("id", "resident_id", ("sfzh",)), Rule("nn", "not_null", ("sfzh",)),
         Rule("ph", "mobile", ("phone",)), Rule("age", "range", ("age",), {"min": 0, "max": 120}),
         Rule("uq", "unique", ("phone",))]


def test_row_rules_scan_the_table_once(engine: DuckDBEngine) -> None:
    _person(engine)
    report = run_checks(engine, "ods_t.person", RULES, key=["id"])
    reading = [q for q in report.queries if '"ods_t"."person"' in q]
    # count(*) (metadata), one scan for all row rules, one group-by for the uniqueness rule
    assert len(reading) == 3
    assert sum("_mask" in q for q in reading) == 1
    assert [r.failed for r in report.results] == [
        len([i for i in range(5000) if i % 11 == 0 and i % 7]),
        len([i for i in range(5000) if i % 7 and i % 11]),
        len(range(0, 5000, 33)),
        len([i for i in range(5000) if i % 130 > 120]),
        len(range(0, 5000, 33))]  # every 'bad' phone shares its value
    assert all(len(r.sample) <= 20 for r in report.results)


def test_incremental_recheck_equals_a_full_one(engine: DuckDBEngine) -> None:
    _person(engine)
    first = run_checks(engine, "ods_t.person", RULES, key=["id"],
                       changed=Changed("updated_at", None))
    assert not first.incremental
    engine.execute("UPDATE ods_t.person SET phone = 'x', sfzh = '37130219900307123X', "
                   "updated_at = TIMESTAMP '2026-01-02' WHERE id < 40")
    engine.execute("UPDATE ods_t.person SET phone = '13800000000', updated_at = "
                   "TIMESTAMP '2026-01-02' WHERE id BETWEEN 60 AND 70")
    engine.execute("DELETE FROM ods_t.person WHERE id BETWEEN 4900 AND 4999")
    engine.execute("INSERT INTO ods_t.person VALUES (9001, 'bad', '13800000000', 200, "
                   "TIMESTAMP '2026-01-02')")
    again = run_checks(engine, "ods_t.person", RULES, key=["id"],
                       changed=Changed("updated_at", first.watermark))
    full = run_checks(engine, "ods_t.person", RULES, key=["id"])
    assert again.incremental and not full.incremental
    assert [(r.checked, r.failed) for r in again.results] == [
        (r.checked, r.failed) for r in full.results]
    # ids 0 and 33 were bad already, 66 was fixed, three bad ones were deleted
    assert again.results[2].failed == first.results[2].failed + 38 - 1 - 3
    changed_scan = next(q for q in again.queries if q.startswith("INSERT INTO") and "_mask" in q)
    assert '"updated_at" >= $since' in changed_scan


def test_other_rules_force_a_full_check(engine: DuckDBEngine) -> None:
    _person(engine)
    first = run_checks(engine, "ods_t.person", RULES, key=["id"],
                       changed=Changed("updated_at", None))
    other = run_checks(engine, "ods_t.person", RULES[:2], key=["id"],
                       changed=Changed("updated_at", first.watermark))
    assert not other.incremental


def test_soft_deleted_rows_are_not_checked(engine: DuckDBEngine) -> None:
    engine.write("ods_t.s", pa.table({"id": [1, 2], "v": [None, None],
                                      "_deleted": [False, True]}), mode="create")
    result = run_checks(engine, "ods_t.s", [Rule("n", "not_null", ("v",))], key=["id"])
    assert (result.rows, result.results[0].failed) == (1, 1)


def test_compiled_sql_transpiles(engine: DuckDBEngine) -> None:
    from datapolis.quality.compiler import failing_rows
    from datapolis.warehouse.engine import TableName

    compiled = failing_rows(TableName("ods_t", "person"), RULES[:4], ["id"])
    spark = compiled.transpile("spark")
    assert "`ods_t`.`person`" in spark and "$p0" not in spark


def test_incremental_uniqueness_stays_exact(engine: DuckDBEngine) -> None:
    engine.write("ods_t.k", pa.table({
        "id": list(range(8)), "v": ["a", "a", "b", "c", "d", "d", "d", None],
        "t": [1] * 8}), mode="create")
    rules = [Rule("u", "unique", ("v",)), Rule("n", "not_null", ("v",))]
    first = run_checks(engine, "ods_t.k", rules, key=["id"], changed=Changed("t", None))
    assert first.results[0].detail == {"duplicated_values": 2, "rows_with_duplicate": 5}
    # a duplicate disappears (a -> e), a unique value gets a twin (c), a row is deleted (d)
    engine.execute("UPDATE ods_t.k SET v = 'e', t = 2 WHERE id = 1")
    engine.execute("UPDATE ods_t.k SET v = 'c', t = 2 WHERE id = 7")
    engine.execute("DELETE FROM ods_t.k WHERE id = 6")
    again = run_checks(engine, "ods_t.k", rules, key=["id"], changed=Changed("t", first.watermark))
    full = run_checks(engine, "ods_t.k", rules, key=["id"])
    assert again.incremental
    assert again.results[0].detail == full.results[0].detail == {
        "duplicated_values": 2, "rows_with_duplicate": 4}
    assert [(r.checked, r.failed) for r in again.results] == [
        (r.checked, r.failed) for r in full.results] == [(7, 4), (7, 0)]


def test_every_rule_kind_is_documented() -> None:
    from pathlib import Path

    from datapolis.quality import RULE_KINDS
    from datapolis.quality.rules import kind

    kind("not_null")  # the built-ins register on first use
    docs = (Path(__file__).resolve().parents[2] / "docs" / "quality.md").read_text("utf-8")
    missing = [name for name in RULE_KINDS if f"| `{name}` |" not in docs]
    assert not missing, f"rule kinds missing from docs/quality.md: {missing}"
