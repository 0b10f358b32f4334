"""`datapolis quality issues` against real stores, and base-library conflicts as issues."""

from __future__ import annotations

import pyarrow as pa
from typer.testing import CliRunner

from datapolis.cli import app
from datapolis.config import get_settings
from datapolis.quality import service
from datapolis.quality.issues import service as issues
from datapolis.registry.db import Registry
from datapolis.warehouse import DuckDBEngine
from tests.orgs.test_cli import assert_one_line_error, city_registry, cli_env  # noqa: F401
from tests.quality.issue_world import CITY_TABLE, build

CONFLICTS = "base._conflicts"


def _conflicts(engine: DuckDBEngine, rows: list[tuple[str, str]]) -> None:
    """(link key, other value) conflicts of base.person's name with std.gaj_czrk."""
    engine.execute("CREATE SCHEMA IF NOT EXISTS base")
    engine.write(CONFLICTS, pa.table({
        "library": ["person"] * len(rows), "link_key": [k for k, _ in rows],
        "field": ["name"] * len(rows), "chosen_value": ["张三"] * len(rows),
        "chosen_source": ["std.jyj_xlxx"] * len(rows), "other_value": [v for _, v in rows],
        "other_source": ["std.gaj_czrk"] * len(rows),
        "other_records": [1] * len(rows)}), mode="replace")


def test_issues_listed_filtered_and_conflicts_opened(city_registry: Registry) -> None:  # noqa: F811
    engine = DuckDBEngine(get_settings().warehouse_file)
    try:
        build(city_registry, engine, city=False)
        service.run_table(city_registry, engine, CITY_TABLE)
        _conflicts(engine, [("k1", "张小叁"), ("k2", "李小四")])
    finally:
        engine.close()
    runner = CliRunner()
    listed = runner.invoke(app, ["quality", "issues"])
    assert listed.exit_code == 0, listed.output
    assert CITY_TABLE in listed.output and "1 issues, 0 overdue" in listed.output
    none = runner.invoke(app, ["quality", "issues", "--org", "371302_gaj"])
    assert "0 issues" in none.output
    opened = runner.invoke(app, ["quality", "issues", "--conflicts", "--org", "371300_gaj"])
    assert opened.exit_code == 0, opened.output
    assert "1 base-library conflict issues" in opened.output
    assert "base.person" in opened.output and "2 issues" in opened.output
    with city_registry.session() as session:
        (conflict,) = issues.list_issues(session, table="base.person")
        assert (conflict.subject, conflict.failed, conflict.org.code) == (
            "baselib:person.name:std.gaj_czrk", 2, "371300_gaj")
        sample, masked = issues.shown_sample(session, conflict)
        assert {row["other_value"] for row in sample} == {"张*叁", "李*四"}
        assert "other_value" in masked and "chosen_source" not in masked
    engine = DuckDBEngine(get_settings().warehouse_file)
    try:
        _conflicts(engine, [("k1", "张小叁")])
        with city_registry.session() as session:
            (again,) = issues.sync_conflicts(session, engine)  # updated, not duplicated
            assert (again.id, again.failed, again.state) == (conflict.id, 1, "open")
        engine.execute(f"DELETE FROM {CONFLICTS}")
        with city_registry.session() as session:
            (gone,) = issues.sync_conflicts(session, engine)
            assert gone.state == "verified"
    finally:
        engine.close()
    assert_one_line_error(runner.invoke(app, ["quality", "issues", "--state", "nope"]),
                          "unknown issue state")
    assert_one_line_error(runner.invoke(app, ["quality", "issues", "--org", "nobody"]),
                          "nobody")
