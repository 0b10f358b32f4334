"""`datapolis catalog import / lists / demands` against real registries (SQLite, PostgreSQL)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from datapolis.catalog import service, standards
from datapolis.catalog.cli import app
from datapolis.catalog.demands import service as demands
from datapolis.catalog.versions import Actor, list_versions
from datapolis.orgs import service as orgs_service
from datapolis.orgs.models import Role
from datapolis.registry.db import Registry
from tests.catalog.test_import import GOOD_ENTRY, GOOD_ITEMS, filled
from tests.catalog.test_lists import publish
from tests.orgs.test_cli import assert_one_line_error, city_registry, cli_env  # noqa: F401


def _prepare(registry: Registry) -> None:
    from conftest import City, make_users

    with registry.session() as session:
        standards.seed_standards(session)
        orgs = {o.code: o for o in orgs_service.list_organisations(session)}
        make_users(session, City(orgs["371300"], orgs["371302"], orgs["371302001"],
                                 orgs["371300_gaj"], orgs["371302_gaj"]))


def test_import_prints_the_error_table_and_imports_nothing(
    city_registry: Registry, tmp_path: Path  # noqa: F811
) -> None:
    _prepare(city_registry)
    bad = tmp_path / "目录.xlsx"
    bad.write_bytes(filled([GOOD_ENTRY, GOOD_ENTRY | {"资源名称": "特困", "共享类型": "随便"}],
                           GOOD_ITEMS))
    result = CliRunner().invoke(app, ["import", str(bad), "--user", Role.ORG_USER.value])
    assert result.exit_code == 1
    assert "2 entry rows and 2 item rows read" in result.stdout
    assert "目录信息" in result.stdout and "共享类型" in result.stdout and "随便" in result.stdout
    assert "nothing imported" in result.stderr
    partial = CliRunner().invoke(app, ["import", str(bad), "--user", "org_user", "--valid-only"])
    assert partial.exit_code == 0, partial.output
    assert "1 entries imported as drafts: 323001/000001" in partial.stdout
    with city_registry.session() as session:
        entry = service.get_entry(session, "323001/000001")
        assert entry.provider.code == "371300_gaj"
        assert [(v.action, v.actor) for v in list_versions(session, entry)] == [
            ("created", "org_user")]


def test_import_without_a_user_needs_provider_codes(
    city_registry: Registry, tmp_path: Path  # noqa: F811
) -> None:
    _prepare(city_registry)
    path = tmp_path / "目录.xlsx"
    path.write_bytes(filled([GOOD_ENTRY], GOOD_ITEMS))
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 1 and "提供单位代码" in result.stdout and "required" in result.stdout
    path.write_bytes(filled([GOOD_ENTRY | {"提供单位代码": "371302_gaj"}], GOOD_ITEMS))
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    csv = tmp_path / "目录.csv"
    csv.write_text("资源名称,目录类型\n", encoding="utf-8")
    assert_one_line_error(CliRunner().invoke(app, ["import", str(csv)]), "looks like a CSV")


def test_lists_and_demands_export_workbooks(
    city_registry: Registry, tmp_path: Path  # noqa: F811
) -> None:
    _prepare(city_registry)
    from tests.catalog.conftest import create

    with city_registry.session() as session:
        code = create(session)
        publish(session, code)
        demand = demands.register_demand(session, data=demands.DemandInput(
            title="户籍人口", purpose="核验"), requester=orgs_service.get_organisation(
            session, "371302"), actor=Actor("cli"))
        number = demand.code
    target = tmp_path / "share.xlsx"
    result = CliRunner().invoke(app, ["lists", "sharing", "-o", str(target)])
    assert result.exit_code == 0 and "1 entries written" in result.stdout
    ws = load_workbook(BytesIO(target.read_bytes()))["共享清单"]
    assert ws["A1"].value == "临沂市政务数据共享清单" and ws["D5"].value == code
    listed = CliRunner().invoke(app, ["demands", "list"])
    assert number in listed.stdout and "已登记" in listed.stdout
    out = tmp_path / "demands.xlsx"
    assert CliRunner().invoke(app, ["demands", "export", "-o", str(out)]).exit_code == 0
    assert load_workbook(out)["供需清单"]["C5"].value == number
