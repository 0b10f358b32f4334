"""Scheduled quality checks on SQLite and PostgreSQL: a schedule in the highway's syntax, due
after it was set and then after each scheduled run's start; the scheduler's tick checks due
tables with trigger `schedule` (issues follow as after any run)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import bearer_for
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from datapolis.errors import NotFound, UserError
from datapolis.ingest.schedules import LOCAL_ZONE
from datapolis.orgs.models import Role
from datapolis.quality import schedules, service
from datapolis.quality.cli import app as cli
from datapolis.quality.issues import service as issues
from datapolis.registry.db import Registry
from datapolis.warehouse import DuckDBEngine
from tests.orgs.test_cli import assert_one_line_error, city_registry, cli_env  # noqa: F401
from tests.quality.issue_world import CITY_TABLE, COUNTY_TABLE, build
from tests.web.forms import HTML, form_token, login


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(tmp_path / "warehouse.duckdb")
    yield engine
    engine.close()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_scheduled_table_is_checked_when_due_and_then_on_its_interval(
    registry: Registry, warehouse: DuckDBEngine
) -> None:
    build(registry, warehouse)
    with registry.session() as session:
        item = schedules.set_schedule(session, CITY_TABLE, "every   6h", actor="org_admin")
        assert (item.schedule, item.enabled) == ("every 6h", True)
        with pytest.raises(UserError, match="neither 'every N"):
            schedules.set_schedule(session, COUNTY_TABLE, "nightly", actor="x")
    clock = Clock()
    ticker = schedules.QualityScheduler(registry, warehouse, clock=clock)
    assert ticker.tick() == []  # set just now: first due in 6 hours
    clock.now += timedelta(hours=6, seconds=1)
    assert ticker.tick() == [CITY_TABLE]
    with registry.session() as session:
        (run,) = service.list_runs(session, CITY_TABLE)
        assert (run.trigger, run.status, run.passed) == ("schedule", "succeeded", False)
        assert len(issues.list_issues(session, table=CITY_TABLE)) == 1
    clock.now = run.started_at + timedelta(hours=5)
    assert ticker.tick() == []  # the next one is 6 hours after that run started
    clock.now = run.started_at + timedelta(hours=6, seconds=1)
    assert ticker.tick() == [CITY_TABLE]
    with registry.session() as session:
        schedules.set_schedule(session, CITY_TABLE, "every 6h", actor="x", enabled=False)
    clock.now += timedelta(days=2)
    assert ticker.tick() == []  # disabled
    with registry.session() as session:
        schedules.remove_schedule(session, CITY_TABLE)
        with pytest.raises(NotFound):
            schedules.remove_schedule(session, CITY_TABLE)
        assert schedules.list_schedules(session) == []


def test_a_cron_schedule_is_read_in_shanghai_time_and_a_table_without_rules_fails_its_run(
    registry: Registry, warehouse: DuckDBEngine
) -> None:
    build(registry, warehouse)
    with registry.session() as session:
        item = schedules.set_schedule(session, "ods_371300_gaj.none", "0 2 * * *", actor="x")
        due_at = schedules.next_due(session, item)
    assert due_at.astimezone(LOCAL_ZONE).hour == 2 and due_at > item.updated_at
    clock = Clock()
    clock.now = due_at
    assert schedules.QualityScheduler(registry, warehouse, clock=clock).tick() == [
        "ods_371300_gaj.none"]
    with registry.session() as session:
        (run,) = service.list_runs(session, "ods_371300_gaj.none")
        assert (run.trigger, run.status) == ("schedule", "failed")


def test_the_api_and_the_table_page_set_pause_and_remove_a_schedule(
    seeded_client: TestClient,
) -> None:
    client = seeded_client
    url = f"/api/quality/tables/{CITY_TABLE}/schedule"
    dept = bearer_for(client, Role.ORG_ADMIN)  # 临沂市公安局: its own ods_371300_gaj tables
    user = bearer_for(client, Role.ORG_USER)
    assert client.get(url, headers=dept).status_code == 404
    assert client.put(url, json={"schedule": "every 2h"}, headers=user).status_code == 403
    bad = client.put(url, json={"schedule": "hourly"}, headers=dept)
    assert bad.status_code == 400 and "five-field cron line" in bad.json()["detail"]
    put = client.put(url, json={"schedule": "0 2 * * *"}, headers=dept)
    assert put.status_code == 200, put.text
    body = put.json()
    assert (body["schedule"], body["enabled"], body["updated_by"]) == (
        "0 2 * * *", True, "org_admin")
    assert datetime.fromisoformat(body["next_at"]).astimezone(LOCAL_ZONE).hour == 2
    other = "/api/quality/tables/ods_371302_gaj.rk/schedule"  # a county department's table
    assert client.put(other, json={"schedule": "every 1h"}, headers=dept).status_code == 404
    login(client, "org_admin")
    page = client.get(f"/quality/tables/{CITY_TABLE}", headers=HTML)
    assert "定时检查" in page.text and "0 2 * * *" in page.text and "下次检查" in page.text
    paused = client.post(f"/quality/tables/{CITY_TABLE}/schedule", headers=HTML, data={
        "csrf_token": form_token(page.text), "schedule": "every 6h"}, follow_redirects=True)
    assert paused.status_code == 200 and "已暂停" in paused.text
    assert client.get(url, headers=dept).json()["next_at"] is None
    wrong = client.post(f"/quality/tables/{CITY_TABLE}/schedule", headers=HTML, data={
        "csrf_token": form_token(page.text), "schedule": "every 1s", "enabled": "true"})
    assert wrong.status_code == 400 and "too frequent" in wrong.text
    removed = client.post(f"/quality/tables/{CITY_TABLE}/schedule", headers=HTML, data={
        "csrf_token": form_token(page.text), "remove": "true"}, follow_redirects=True)
    assert "仅在每次同步后检查" in removed.text
    assert client.delete(url, headers=dept).status_code == 404


def test_the_cli_sets_shows_pauses_and_removes_a_schedule(city_registry: Registry) -> None:  # noqa: F811
    runner = CliRunner()
    table = "ods_371300_gaj.qy"
    assert_one_line_error(runner.invoke(cli, ["schedule", table]), "has no quality schedule")
    assert_one_line_error(runner.invoke(cli, ["schedule", table, "nightly"]),
                          "neither 'every N")
    set_ = runner.invoke(cli, ["schedule", table, "0 2 * * *"])
    assert set_.exit_code == 0 and "next" in set_.output and "02:00" in set_.output
    paused = runner.invoke(cli, ["schedule", table, "--off"])
    assert paused.exit_code == 0 and "0 2 * * *, paused" in paused.output
    assert runner.invoke(cli, ["schedule", table, "--remove"]).exit_code == 0
    assert_one_line_error(runner.invoke(cli, ["schedule", table, "--remove"]),
                          "has no quality schedule")
