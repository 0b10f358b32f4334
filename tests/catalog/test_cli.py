"""`datapolis catalog ...` against real registries (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datapolis.catalog.cli import app
from datapolis.registry.db import Registry
from tests.catalog.conftest import create
from tests.orgs.test_cli import assert_one_line_error, city_registry, cli_env  # noqa: F401


def test_seed_then_list_show_and_export(city_registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    runner = CliRunner()
    first = runner.invoke(app, ["standards", "seed"])
    assert first.exit_code == 0, first.output
    assert "code tables: 6 created" in first.output and "data elements: 17 created" in first.output
    again = runner.invoke(app, ["standards", "seed"])
    assert "code tables: 0 created, 0 updated; values: 0 added" in again.output
    assert "GB/T 4754-2017" in runner.invoke(app, ["standards", "list"]).output

    with city_registry.session() as session:
        code = create(session)
    listed = runner.invoke(app, ["entries", "list", "--status", "draft"])
    assert code in listed.output and "常住人口基本信息" in listed.output
    assert code not in runner.invoke(app, ["entries", "list", "--status", "published"]).output
    shown = runner.invoke(app, ["entries", "show", code, "--history"])
    assert shown.exit_code == 0, shown.output
    assert '"resource_code": "101001/000001"' in shown.output
    assert "version 1 created by org_user" in shown.output

    target = tmp_path / "catalog.json"
    exported = runner.invoke(app, ["export", "--output", str(target)])
    assert exported.exit_code == 0 and "1 entries written" in exported.output
    data = json.loads(target.read_text(encoding="utf-8"))
    assert [e["resource_code"] for e in data] == [code]
    assert data[0]["items"][0]["element_code"] == "DE0001"


@pytest.mark.parametrize(("args", "message"), [
    (["entries", "show", "101001/000009"], "no catalog entry with resource code"),
    (["entries", "list", "--provider", "nope"], "no organisation"),
])
def test_unknown_codes_are_one_line_errors(
    city_registry: Registry, args: list[str], message: str  # noqa: F811
) -> None:
    assert_one_line_error(CliRunner().invoke(app, args), message)
