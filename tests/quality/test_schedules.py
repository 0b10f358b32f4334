"""Scheduled quality checks on SQLite and PostgreSQL: a schedule in the highway's syntax, due
after it was set and then after each scheduled run's start; the scheduler's tick checks due
tables with trigger `schedule` (issues follow as after any run)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from datapolis.errors import NotFound, UserError
from datapolis.quality import schedules, service
from datapolis.quality.issues import service as issues
from datapolis.registry.db import Registry
from datapolis.warehouse import DuckDBEngine
from tests.quality.issue_world import CITY_TABLE, COUNTY_TABLE, build


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
    assert due_at.astimezone(schedules_zone()).hour == 2 and due_at > item.updated_at
    clock = Clock()
    clock.now = due_at
    assert schedules.QualityScheduler(registry, warehouse, clock=clock).tick() == [
        "ods_371300_gaj.none"]
    with registry.session() as session:
        (run,) = service.list_runs(session, "ods_371300_gaj.none")
        assert (run.trigger, run.status) == ("schedule", "failed")


def schedules_zone():  # type: ignore[no-untyped-def]
    from datapolis.ingest.schedules import LOCAL_ZONE

    return LOCAL_ZONE
