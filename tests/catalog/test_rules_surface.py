"""The normalisation rules through the API, the pages, the CLI and the docs."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import bearer_for
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web.forms import HTML

from datapolis.catalog.cli import app
from datapolis.catalog.rules.registry import list_rules
from datapolis.orgs.models import Role
from datapolis.registry.db import Registry
from tests.catalog.conftest import create
from tests.catalog.test_pages import sign_in
from tests.orgs.test_cli import assert_one_line_error, city_registry, cli_env  # noqa: F401

DOCS = Path(__file__).resolve().parents[2] / "docs" / "catalog.md"


def api(client: TestClient, role: Role, method: str, path: str) -> dict[str, object] | list[
        dict[str, object]]:
    response = client.request(method, path, headers=bearer_for(client, role))
    assert response.status_code == 200, response.text
    body: dict[str, object] | list[dict[str, object]] = response.json()
    return body


def test_every_rule_is_documented_with_its_severity() -> None:
    text = DOCS.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([A-Z]+\d+)` \|[^|]*\|[^|]*\| (blocking|warning) \|", text,
                           re.MULTILINE))
    assert rows == {rule.code: rule.severity.value for rule in list_rules()}


def test_the_api_lists_rules_reports_and_refuses_to_publish(
    seeded_client: TestClient, sqlite_registry: Registry
) -> None:
    client = seeded_client
    with sqlite_registry.session() as session:
        good = create(session)
        bad = create(session, name="户籍人口信息", summary="人口信息一览表", record_count=10,
                     warehouse_table="ods_371300_gaj.hjrk")  # R02: the summary is too short
        county = create(session, provider_code="371302_gaj", name="兰山区户籍人口",
                        warehouse_table="ods_371302_gaj.hjrk")
    rules = api(client, Role.ORG_USER, "GET", "/api/catalog/rules")
    assert isinstance(rules, list) and len(rules) == len(list_rules()) >= 30
    assert rules[0] == {**rules[0], "code": "R01", "severity": "blocking",
                        "title_zh": "资源名称必填（2至100字）"}

    report = api(client, Role.PLATFORM_ADMIN, "GET", "/api/catalog/rules/report")
    assert isinstance(report, dict)
    orgs = {o["code"]: o for o in report["organisations"]}  # type: ignore[union-attr]
    assert set(orgs) == {"371300_gaj", "371302_gaj"}
    city = orgs["371300_gaj"]
    assert city["entries"] == 2 and city["entries_blocked"] == 1
    (bad_row,) = [r for r in city["results"] if r["resource_code"] == bad]
    assert bad_row["outcomes"]["R02"] == "failed" and bad_row["blocked"] is True
    assert [f["code"] for f in bad_row["failures"] if f["severity"] == "blocking"] == ["R02"]
    # The app's (empty) warehouse is at hand: the table is missing, so R43 fails and R44 is moot.
    assert bad_row["outcomes"]["R43"] == "failed" and bad_row["outcomes"]["R44"] == (
        "not_applicable")
    assert 0 < city["counts"]["pass_rate"] < 1

    # A department user's report covers its own organisation only.
    own = api(client, Role.ORG_USER, "GET", "/api/catalog/rules/report")
    assert [o["code"] for o in own["organisations"]] == ["371300_gaj"]  # type: ignore[index]
    one = api(client, Role.PLATFORM_ADMIN, "GET", "/api/catalog/rules/report?org=371302")
    assert [o["code"] for o in one["organisations"]] == ["371302_gaj"]  # type: ignore[index]
    hidden = client.get(f"/api/catalog/entries/{county}/rules",
                        headers=bearer_for(client, Role.ORG_USER))
    assert hidden.status_code == 404

    results = api(client, Role.ORG_USER, "GET", f"/api/catalog/entries/{good}/rules")
    assert {r["code"]: r["outcome"] for r in results}["R02"] == "passed"  # type: ignore[index]

    admin = bearer_for(client, Role.PLATFORM_ADMIN)
    client.post(f"/api/catalog/entries/{bad}/submit", headers=bearer_for(client, Role.ORG_ADMIN))
    assert client.post(f"/api/catalog/entries/{bad}/approve", headers=admin).status_code == 200
    refused = client.post(f"/api/catalog/entries/{bad}/publish", headers=admin)
    assert refused.status_code == 409
    assert "blocking normalisation rules fail: R02" in refused.json()["detail"]
    assert client.get(f"/api/catalog/entries/{bad}", headers=admin).json()["status"] == "approved"


def test_the_report_page_in_chinese_and_english(
    seeded_client: TestClient, sqlite_registry: Registry
) -> None:
    client = seeded_client
    with sqlite_registry.session() as session:
        code = create(session, name="户籍人口信息", share_conditions="",
                      warehouse_table="ods_371300_gaj.hjrk")
    sign_in(client, "platform_admin")
    page = client.get("/catalog/rules", headers=HTML)
    assert page.status_code == 200
    assert "目录梳理规则" in page.text and "有条件共享须注明共享条件" in page.text
    assert "临沂市公安局" in page.text and "通过率" in page.text
    assert "有条件共享但未注明共享条件" in page.text  # R15's finding, translated
    entry = client.get(f"/catalog/entries/{code}", headers=HTML).text
    assert "R15" in entry and "有条件共享但未注明共享条件" in entry and "阻断" in entry

    client.get("/lang/en?next=/catalog/rules", headers=HTML)
    english = client.get("/catalog/rules?org=371300_gaj&status=draft", headers=HTML).text
    assert "Normalisation rules" in english and "Conditional sharing states its conditions" in (
        english)
    assert "conditional sharing without its conditions" in english
    assert "Pass rate" in english
    empty = client.get("/catalog/rules?status=published", headers=HTML).text
    assert "No entries to check." in empty


def test_cli_lists_rules_and_reports_per_organisation(
    city_registry: Registry,  # noqa: F811
) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["standards", "seed"]).exit_code == 0
    with city_registry.session() as session:
        create(session)
        bad = create(session, name="户籍人口信息", share_conditions="",
                     warehouse_table="ods_371300_gaj.hjrk")
        create(session, provider_code="371302_gaj", name="兰山区户籍人口",
               warehouse_table="ods_371302_gaj.hjrk", tags=[])
    listed = runner.invoke(app, ["rules", "list"])
    assert listed.exit_code == 0, listed.output
    assert "R49" in listed.output and "有条件共享须注明共享条件" in listed.output

    report = runner.invoke(app, ["rules", "report", "--entries"])
    assert report.exit_code == 0, report.output
    city_line = next(line for line in report.output.splitlines() if "371300_gaj" in line)
    assert re.search(r"│\s*2\s*│\s*1\s*│\s*1\s*│", city_line), city_line  # entries, blocked, fails
    assert bad in report.output and "conditional sharing without its conditions" in report.output

    county = runner.invoke(app, ["rules", "report", "--org", "371302_gaj"])
    assert "371302_gaj" in county.output and "371300_gaj" not in county.output
    assert_one_line_error(runner.invoke(app, ["rules", "report", "--org", "nowhere"]),
                          "nowhere")
