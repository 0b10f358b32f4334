"""Monitoring through the app: who may see which calls and alerts, acknowledgement from the
page, the export over HTTP and the CLI verbs."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from datapolis.config import Settings
from datapolis.orgs.models import Organisation, Role
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry
from datapolis.sharing.monitoring import alerts
from datapolis.sharing.monitoring.monitor import run_once
from tests.conftest import bearer_for, make_city, make_users
from tests.sharing.monitoring.world import add_calls, make_callers
from tests.web.forms import HTML, chart_option, form_token, login


@pytest.fixture
def world_app(settings: Settings, sqlite_registry: Registry) -> FastAPI:
    from datapolis.web.app import create_app

    now = utcnow()
    with sqlite_registry.session() as session:
        city = make_city(session)
        make_users(session, city)
        callers = make_callers(session, city)
        # 临沂市公安局 (the org_user's department) provides; the county's police calls it.
        add_calls(session, callers.county_app, city.city_dept.id, now - timedelta(minutes=30),
                  5, rows=3, client_ip="10.9.9.9")
        # A call between two organisations the department has nothing to do with.
        add_calls(session, callers.street_app, city.county.id, now - timedelta(minutes=20),
                  2, status=403, error_code="no_grant", rows=0, resource="371302-XZ-00009")
        add_calls(session, callers.county_app, city.city_dept.id, now - timedelta(minutes=10),
                  1, status=429, error_code="quota_rows", rows=0)
        run_once(session, alerts.Rules(), now=now)
    settings = settings.model_copy(update={"sharing_monitor_seconds": 0})
    return create_app(settings, sqlite_registry)


@pytest.fixture
def client(world_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(world_app, base_url="https://testserver") as test_client:
        yield test_client


def test_the_bureau_sees_every_call_and_chart(client: TestClient) -> None:
    login(client, "platform_admin")
    page = client.get("/sharing/monitor", headers=HTML)
    assert page.status_code == 200, page.text
    assert "接口监控" in page.text and "兰山街道" in page.text
    sankey = chart_option(page.text, "flow-chart")["series"][0]
    assert sankey["type"] == "sankey" and sankey["links"]
    assert chart_option(page.text, "latency-chart")["series"][0]["name"] == "p50"
    daily = client.get("/sharing/monitor?period=7d&interval=day", headers=HTML)
    assert daily.status_code == 200
    assert client.get("/sharing/monitor?period=1y", headers=HTML).status_code == 200
    quarter = client.get("/sharing/monitor?period=90d&interval=hour", headers=HTML)
    assert quarter.status_code == 200 and '<option value="day" selected>' in quarter.text
    volume = client.get("/api/sharing/monitor/volume").json()
    assert sum(p["calls"] for p in volume) == 8
    kinds = client.get("/api/sharing/monitor/interfaces?period=7d").json()
    assert {k["resource_code"] for k in kinds} == {"371300-GAJ-00001", "371302-XZ-00009"}
    assert client.get("/api/sharing/monitor/volume?period=5y").status_code == 400


def test_a_department_sees_only_its_own_calls_and_alerts(client: TestClient) -> None:
    headers = bearer_for(client, Role.ORG_USER)
    volume = client.get("/api/sharing/monitor/volume", headers=headers).json()
    assert sum(p["calls"] for p in volume) == 6  # not the street's 2 refused calls
    flows = client.get("/api/sharing/monitor/flows", headers=headers).json()
    assert {f["consumer"] for f in flows} == {"兰山区公安分局"}
    found = client.get("/api/sharing/alerts", headers=headers).json()
    assert [a["kind"] for a in found] == ["quota"]
    other = client.get("/api/sharing/alerts", headers=bearer_for(client, Role.PLATFORM_ADMIN))
    no_grant = next(a for a in other.json() if a["kind"] == "no_grant")
    assert client.get(f"/api/sharing/alerts/{no_grant['id']}", headers=headers
                      ).status_code == 404
    refused = client.post(f"/api/sharing/alerts/{found[0]['id']}/acknowledge",
                          json={"comment": "ok"}, headers=headers)
    assert refused.status_code == 403
    assert client.get("/api/sharing/stats/export?from=2026-01-01&to=2026-12-31",
                      headers=headers).status_code == 403
    login(client, "org_user")
    page = client.get("/sharing/alerts", headers=HTML)
    assert page.status_code == 200 and "超出配额" in page.text
    assert "371302-XZ-00009" not in page.text and 'name="comment"' not in page.text


def test_auditors_and_strangers_are_kept_out(client: TestClient) -> None:
    assert client.get("/api/sharing/monitor/volume").status_code == 401
    auditor = bearer_for(client, Role.AUDITOR)
    assert client.get("/api/sharing/alerts", headers=auditor).status_code == 403
    anonymous = client.get("/sharing/monitor", headers=HTML, follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)


def test_the_bureau_acknowledges_an_alert_on_the_page(client: TestClient) -> None:
    login(client, "platform_admin")
    page = client.get("/sharing/alerts", headers=HTML)
    token = form_token(page.text)
    alert_id = client.get("/api/sharing/alerts?kind=no_grant").json()[0]["id"]
    empty = client.post(f"/sharing/alerts/{alert_id}/acknowledge", headers=HTML,
                        data={"csrf_token": token, "comment": " "})
    assert empty.status_code == 400 and "comment" in html.unescape(empty.text)
    done = client.post(f"/sharing/alerts/{alert_id}/acknowledge", headers=HTML,
                       data={"csrf_token": token, "comment": "已通知兰山街道先申请"},
                       follow_redirects=False)
    assert done.status_code == 303
    acked = client.get(f"/api/sharing/alerts/{alert_id}").json()
    assert acked["acknowledged_by"] == "platform_admin"
    assert acked["ack_comment"] == "已通知兰山街道先申请"
    again = client.post(f"/api/sharing/alerts/{alert_id}/acknowledge",
                        json={"comment": "again"}, headers={"X-CSRF-Token": token})
    assert again.status_code == 409


def test_the_export_over_http_names_no_app_or_address(client: TestClient) -> None:
    headers = bearer_for(client, Role.PLATFORM_ADMIN)
    today = utcnow().date()
    span = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
    got = client.get(f"/api/sharing/stats/export?{span}&org_level=org&interval=hour",
                     headers=headers)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    assert "10.9.9.9" not in got.text and "dp_" not in got.text
    assert "兰山区公安分局" in got.text and ":00+08:00" in got.text
    as_json = client.get(f"/api/sharing/stats/export?{span}&format=json&org_level=none",
                         headers=headers).json()
    assert sum(r["calls"] for r in as_json["rows"]) == 8
    assert client.get(f"/api/sharing/stats/export?{span}&org_level=app",
                      headers=headers).status_code == 422


def test_cli_lists_acknowledges_and_exports(world_app: FastAPI, settings: Settings,
                                            sqlite_registry: Registry,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from datapolis.cli import app
    from datapolis.config import get_settings

    monkeypatch.setenv("DATAPOLIS_HOME", str(settings.home))
    monkeypatch.setenv("DATAPOLIS_DATABASE_URL", str(sqlite_registry.engine.url))
    get_settings.cache_clear()
    runner = CliRunner()
    listed = runner.invoke(app, ["sharing", "alerts", "--evaluate"])
    assert listed.exit_code == 0, listed.output
    assert "2 alerts" in listed.output
    assert "1 alerts" in runner.invoke(app, ["sharing", "alerts", "--kind", "quota"]).output
    with sqlite_registry.session() as session:
        alert_id = alerts.list_alerts(session, kind="quota")[0].id
        assert session.get(Organisation, 1) is not None
    acked = runner.invoke(app, ["sharing", "alerts", "--ack", str(alert_id), "--comment",
                                "限额已调整"])
    assert acked.exit_code == 0, acked.output
    missing = runner.invoke(app, ["sharing", "alerts", "--ack", "999"])
    assert missing.exit_code == 1 and "no alert 999" in missing.output
    today = utcnow().date()
    out = runner.invoke(app, ["sharing", "stats", "export", "--from", str(today - timedelta(
        days=1)), "--to", str(today + timedelta(days=1)), "--org-level", "none"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("period_start,interval,resource_code")
    bad = runner.invoke(app, ["sharing", "stats", "export", "--from", "yesterday", "--to", "x"])
    assert bad.exit_code == 1 and "YYYY-MM-DD" in bad.output
    get_settings.cache_clear()
