"""`datapolis quality ...` against real stores, as an operator would script it."""

from __future__ import annotations

import pyarrow as pa
from typer.testing import CliRunner

from datapolis.config import get_settings
from datapolis.quality.cli import app
from datapolis.registry.db import Registry
from datapolis.warehouse import DuckDBEngine
from tests.orgs.test_cli import assert_one_line_error, city_registry, cli_env  # noqa: F401

TABLE = "ods_371300_gaj.qy"


def test_add_list_run_and_suggest(city_registry: Registry) -> None:  # noqa: F811
    engine = DuckDBEngine(get_settings().warehouse_file)
    engine.execute("CREATE SCHEMA ods_371300_gaj")
    engine.write(TABLE, pa.table({"tyshxydm": ["91110000600037341L", "91110000600037342L",
                                               "91350100M000100Y43", None],
                                  "zczb": [100, 5, -1, 20]}), mode="create")
    engine.close()
    runner = CliRunner()
    added = runner.invoke(app, ["add", TABLE, "credit_code", "tyshxydm", "--threshold", "0.5"])
    assert added.exit_code == 0, added.output
    assert runner.invoke(app, ["add", TABLE, "range", "zczb", "--params",
                               '{"min": 0}']).exit_code == 0
    listed = runner.invoke(app, ["rules", TABLE])
    assert "credit_code" in listed.output and '{"min": 0}' in listed.output
    ran = runner.invoke(app, ["run", TABLE])
    assert ran.exit_code == 2, ran.output  # a rule below its threshold
    assert "4 rows" in ran.output and "75.00%" in ran.output and "fail" in ran.output
    suggested = runner.invoke(app, ["suggest", TABLE])
    assert suggested.exit_code == 0 and "row_count" in suggested.output
    assert_one_line_error(runner.invoke(app, ["add", TABLE, "nope", "x"]), "unknown rule kind")
    assert_one_line_error(runner.invoke(app, ["add", TABLE, "range", "zczb", "--params", "[1]"]),
                          "--params must be a JSON object")
    assert_one_line_error(runner.invoke(app, ["add", TABLE, "custom_sql", "--params",
                                              '{"sql": "PRAGMA version"}']), "SELECT")
    assert_one_line_error(runner.invoke(app, ["run", "ods_371300_gaj.nope"]),
                          "no enabled rules")
