"""Profiles and auto-registration through the CLI, the API and the entry page."""

from __future__ import annotations

from pathlib import Path

from conftest import bearer_for
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from datapolis.catalog.cli import app
from datapolis.config import get_settings
from datapolis.orgs.models import Role
from datapolis.registry.db import Registry
from datapolis.warehouse import DuckDBEngine, Engine
from tests.catalog.test_pages import sign_in
from tests.orgs.test_cli import assert_one_line_error, city_registry, cli_env  # noqa: F401

TABLE = "ods_371300_gaj.czrk"


def land_people(engine: Engine) -> None:
    engine.execute("CREATE SCHEMA IF NOT EXISTS ods_371300_gaj")
    engine.execute(f"CREATE TABLE {TABLE} (gmsfhm VARCHAR, xm VARCHAR, xb VARCHAR)")
    engine.execute(f"COMMENT ON COLUMN {TABLE}.xm IS '姓名'")
    engine.execute(f"INSERT INTO {TABLE} VALUES ('37130219900101001X', '张三', '1'), "
                   "('371302199202020024', '张三', '2'), ('371302199303030035', '李四', '1')")


def test_cli_autoregisters_and_profiles(city_registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    engine = DuckDBEngine(get_settings().warehouse_file)
    land_people(engine)
    engine.close()
    runner = CliRunner()
    done = runner.invoke(app, ["autoregister", "--all"])
    assert done.exit_code == 0, done.output
    assert f"{TABLE} → new draft entry 399999/000001" in done.output
    assert "1 tables profiled, 1 new draft entries" in done.output
    shown = runner.invoke(app, ["profile", TABLE])
    assert shown.exit_code == 0, shown.output
    assert "3 rows" in shown.output and "张三 (2)" in shown.output and "33.3%" not in shown.output
    again = runner.invoke(app, ["autoregister", "--all"])
    assert "0 new draft entries" in again.output
    assert_one_line_error(runner.invoke(app, ["profile", "ods_371300_gaj.nope"]),
                          "no table ods_371300_gaj.nope in the warehouse")
    assert runner.invoke(app, ["autoregister"]).exit_code != 0


def test_api_and_entry_page_show_the_profile(seeded_client: TestClient) -> None:
    warehouse = seeded_client.app.state.warehouse  # type: ignore[attr-defined]
    land_people(warehouse)
    admin = bearer_for(seeded_client, Role.PLATFORM_ADMIN)
    done = seeded_client.post("/api/catalog/autoregister", json={"all": True}, headers=admin)
    assert done.status_code == 200, done.text
    (registered,) = done.json()
    assert registered["created"] and registered["table"] == TABLE
    code = registered["resource_code"]

    user = bearer_for(seeded_client, Role.ORG_USER)  # of 371300_gaj, the provider
    refused = seeded_client.post("/api/catalog/autoregister", json={"all": True}, headers=user)
    assert refused.status_code == 403
    profile = seeded_client.get(f"/api/catalog/profiles/{TABLE}", headers=user).json()
    assert profile["rows"] == 3 and profile["resource_codes"] == [code]
    columns = {c["column"]: c for c in profile["columns"]}
    assert columns["xm"]["top_values"] == [["张三", 2]] and columns["xm"]["distinct"] == 2
    assert columns["gmsfhm"]["masked"] and "*" in columns["gmsfhm"]["min"]
    assert columns["gmsfhm"]["suggestions"][0]["element_name"] == "公民身份号码"
    missing = seeded_client.get("/api/catalog/profiles/ods_x.none", headers=user)
    assert missing.status_code == 404

    sign_in(seeded_client, "org_user")
    page = seeded_client.get(f"/catalog/entries/{code}")
    assert page.status_code == 200
    assert "数据画像" in page.text and "张三 (2)" in page.text and "371*" in page.text
