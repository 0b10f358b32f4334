"""Great Expectations' side of bench/quality_checks.py; runs in var/bench/venvs/gx.

    var/bench/venvs/gx/bin/python bench/_quality_gx.py --db FILE --today YYYY-MM-DD --runs 3

A SQL datasource (duckdb-engine) on the warehouse's DuckDB file, table ods_bench.person; the 12
checks as built-in expectations where GX has one and `UnexpectedRowsExpectation` (custom SQL)
where it has none, the default result format (BASIC: counts plus up to 20 unexpected values).
Prints one JSON object: the counts and the wall time of each validation run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _quality_spec as spec
import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import sqlalchemy_execution_engine

# GX 1.x does not list DuckDB among its SQL dialects. With a connection per query it closes
# the connection (rolling back, which on DuckDB discards the pending result) before fetching
# the rows, so every metric comes back empty; it keeps one connection open for SQLite and a
# few others, and DuckDB needs the same.


class _DuckDBDialect(str):
    value = "duckdb"  # read like a GXSqlDialect member, compared like the dialect's name


sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS = (
    *sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS, _DuckDBDialect("duckdb"))

SCHEMA, TABLE = "ods_bench", "person"


def expectations(today: str) -> dict[str, Any]:
    """One expectation per count; the value each reports is its unexpected (or observed) count."""
    # GX formats the query with {batch}: braces of regex quantifiers are doubled.
    conditions = {k: v.replace("{", "{{").replace("}", "}}")
                  for k, v in spec.conditions(today).items()}

    def rows_where(name: str) -> gxe.UnexpectedRowsExpectation:
        return gxe.UnexpectedRowsExpectation(
            unexpected_rows_query=f"SELECT * FROM {{batch}} WHERE {conditions[name]}",
            description=name)

    return {
        "row_count": gxe.ExpectTableRowCountToBeBetween(min_value=1),
        "id_missing": gxe.ExpectColumnValuesToNotBeNull(column="gmsfhm"),
        "id_invalid": rows_where("id_invalid"),
        "id_duplicate_values": gxe.UnexpectedRowsExpectation(
            unexpected_rows_query=spec.duplicated_values_sql("{batch}"),
            description="id_duplicate_values"),
        "id_duplicate_rows": gxe.ExpectColumnValuesToBeUnique(column="gmsfhm"),
        "name_blank": rows_where("name_blank"),
        # ExpectColumnValuesToMatchRegex: "Regex is not supported for dialect duckdb".
        "mobile_invalid": rows_where("mobile_invalid"),
        "sex_invalid": gxe.ExpectColumnValuesToBeInSet(column="xb", value_set=list(spec.SEX_CODES)),
        "birth_invalid": rows_where("birth_invalid"),
        "age_out_of_range": gxe.ExpectColumnValuesToBeBetween(
            column="nl", min_value=spec.AGE_MIN, max_value=spec.AGE_MAX),
        "division_invalid": gxe.ExpectColumnValuesToBeInSet(
            column="xzqh", value_set=list(spec.DIVISIONS)),
        "email_invalid": rows_where("email_invalid"),
        "registered_in_future": gxe.ExpectColumnValuesToBeBetween(
            column="djrq", max_value=date.fromisoformat(today)),
    }


def count_of(name: str, result: Any) -> int:
    for info in [result.exception_info, *result.exception_info.values()]:
        if isinstance(info, dict) and info.get("raised_exception"):
            raise SystemExit(f"GX {name}: {info.get('exception_message')}\n"
                             f"{info.get('exception_traceback')}")
    values = result.result
    if name == "row_count":
        return int(values["observed_value"])
    if "unexpected_count" in values:
        return int(values["unexpected_count"])
    return int(values["observed_value"])  # UnexpectedRowsExpectation: the rows it returned


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--today", required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_sql(
        name="bench", connection_string=f"duckdb:///{args.db}",
        kwargs={"connect_args": {"read_only": True}})
    asset = source.add_table_asset(name=TABLE, table_name=TABLE, schema_name=SCHEMA)
    batch = asset.add_batch_definition_whole_table("all")
    named = expectations(args.today)
    suite = context.suites.add(gx.ExpectationSuite(name="person"))
    for expectation in named.values():
        suite.add_expectation(expectation)
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(data=batch, suite=suite, name="person"))
    by_id = {e.id: name for name, e in named.items()}  # ids are set when added to the suite

    seconds, counts = [], {}
    for _ in range(args.runs + 1):  # the first run warms the file cache and GX's caches
        started = time.perf_counter()
        outcome = validation.run()
        seconds.append(time.perf_counter() - started)
        counts = {by_id[r.expectation_config.id]: count_of(by_id[r.expectation_config.id], r)
                  for r in outcome.results}
    print(json.dumps({"counts": counts, "seconds": seconds[1:], "warm_up_s": seconds[0]}))


if __name__ == "__main__":
    main()
