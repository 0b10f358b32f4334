"""Schedules, backoff, and the scheduler running real jobs on a controlled clock."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from datapolis.errors import UserError
from datapolis.ingest import jobs, service, stream
from datapolis.ingest.models import SourceTableChoice
from datapolis.ingest.scheduler import Scheduler
from datapolis.ingest.schedules import RetryPolicy, parse_schedule
from datapolis.orgs.service import get_organisation
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.warehouse import DuckDBEngine
from tests.conftest import make_city
from tests.databases import PG_ADMIN_URL, throwaway_database
from tests.ingest.cdc.test_postgres import _drop_slots_of
from tests.ingest.test_stream import (
    DDL,
    Department,
    delete,
    insert,
    landed,
    setup_job,
    target_of,
    update,
    wait_for_run,
)

T0 = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
KEYRING = Keyring.from_secret("k" * 40)


def test_interval_and_cron_schedules() -> None:
    assert parse_schedule("every 5m").next_after(T0) == T0 + timedelta(minutes=5)
    assert parse_schedule(" EVERY  2h ").text == "EVERY 2h"
    # 02:00 in Asia/Shanghai is 18:00 UTC the day before.
    nightly = parse_schedule("0 2 * * *")
    assert nightly.next_after(T0) == datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
    for bad in ("every 5s", "every day", "61 * * * *", "* * *", ""):
        with pytest.raises(UserError):
            parse_schedule(bad)


def test_backoff_doubles_to_a_ceiling_then_gives_up() -> None:
    policy = RetryPolicy(base=timedelta(seconds=30), ceiling=timedelta(minutes=2), attempts=4)
    assert [policy.delay(n) for n in range(1, 6)] == [
        timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120),
        timedelta(seconds=120), None]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def make_job(
    registry: Registry, code: str, kind: str, options: dict[str, object], mode: str = "snapshot"
) -> None:
    with registry.session() as session:
        org = get_organisation(session, "371300_gaj")
        source = service.add_source(session, keyring=KEYRING, org=org, code=code, name=code,
                                    kind=kind, options=options)
        if kind == "sqlite":
            (table,) = service.choose_tables(session, source=source, keyring=KEYRING,
                                             names=["t"])
        else:  # an unreachable server cannot be browsed: choose the table directly
            table = SourceTableChoice(name="public.t", target_table=f"ods_371300_gaj.{code}",
                                      primary_key=["id"])
            source.tables.append(table)
            session.flush()
        jobs.create_job(session, table=table, mode=mode, code=code,
                        schedule=None if mode == "cdc" else "every 1m")


def test_scheduler_runs_due_jobs_and_retries_transient_failures(
    registry: Registry, tmp_path: Path
) -> None:
    data = tmp_path / "a.sqlite"
    with sqlite3.connect(data) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        db.execute("INSERT INTO t VALUES (1)")
    with registry.session() as session:
        make_city(session)
    make_job(registry, "ok", "sqlite", {"path": str(data)})
    # Nothing listens on port 1: connection refused, a transient failure.
    make_job(registry, "down", "postgres",
             {"host": "127.0.0.1", "port": 1, "database": "x", "user": "postgres"})
    clock = Clock()
    context = jobs.RunContext(registry=registry, warehouse=DuckDBEngine(tmp_path / "w.duckdb"),
                              keyring=KEYRING, lock_dir=tmp_path / "locks")
    scheduler = Scheduler(context, clock=clock,
                          policy=RetryPolicy(base=timedelta(seconds=20), attempts=2))
    try:
        assert sorted(scheduler.tick()) == ["down", "ok"]  # never run: due at once
        scheduler.wait_idle()
        assert scheduler.next_run("ok") == T0 + timedelta(minutes=1)
        assert scheduler.next_run("down") == T0 + timedelta(seconds=20)  # first retry

        clock.now = T0 + timedelta(seconds=30)
        assert scheduler.tick() == ["down"]
        scheduler.wait_idle()
        assert scheduler.next_run("down") == clock.now + timedelta(seconds=40)  # doubled

        clock.now = T0 + timedelta(seconds=75)
        assert sorted(scheduler.tick()) == ["down", "ok"]
        scheduler.wait_idle()
        # Retries used up: back to the schedule.
        assert scheduler.next_run("down") == clock.now + timedelta(minutes=1)
        assert scheduler.tick() == []
    finally:
        scheduler.stop()
    with registry.session() as session:
        ok_runs = jobs.get_job(session, "ok").runs
        down_runs = jobs.get_job(session, "down").runs
        assert [r.status for r in ok_runs] == ["succeeded", "succeeded"]
        assert [(r.status, r.error_kind) for r in down_runs] == [("failed", "transient")] * 3


def test_serve_runs_scheduled_jobs_in_the_background(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from datapolis.config import Settings
    from datapolis.registry import migrate
    from datapolis.registry.db import open_registry
    from datapolis.web.app import create_app
    from tests.conftest import TEST_SECRET_KEY

    registry = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    migrate.upgrade(registry)
    settings = Settings(env="test", home=tmp_path / "var", secret_key=TEST_SECRET_KEY)
    data = tmp_path / "a.sqlite"
    with sqlite3.connect(data) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        db.execute("INSERT INTO t VALUES (7)")
    with registry.session() as session:
        make_city(session)
    keyring = service.secrets_keyring(settings)
    with registry.session() as session:
        source = service.add_source(session, keyring=keyring, org=get_organisation(
            session, "371300_gaj"), code="ok", name="ok", kind="sqlite",
            options={"path": str(data)})
        (table,) = service.choose_tables(session, source=source, keyring=keyring, names=["t"])
        jobs.create_job(session, table=table, mode="snapshot", code="ok", schedule="every 1h")
    with TestClient(create_app(settings, registry)) as client:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with registry.session() as session:
                runs = jobs.get_job(session, "ok").runs
            if runs and runs[0].status == "succeeded":
                break
            time.sleep(0.2)
        warehouse = client.app.state.warehouse  # type: ignore[attr-defined]
        assert warehouse.query("SELECT id FROM ods_371300_gaj.t").to_pylist() == [{"id": 7}]
    registry.close()


def wait_until(ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not ready():
        assert time.monotonic() < deadline, "not there in 30 s"
        time.sleep(0.1)


@pytest.fixture
def pg_department() -> Iterator[Department]:
    for url in throwaway_database(PG_ADMIN_URL, "sched"):
        dept = Department("postgres", url)
        dept.execute([(DDL["postgres"], {})])
        try:
            yield dept
        finally:  # a slot keeps WAL for ever and keeps the database from being dropped
            _drop_slots_of(dict(make_url(url).translate_connect_args(
                username="user", database="dbname")))


def test_scheduler_keeps_cdc_jobs_streaming(
    tmp_path: Path, sqlite_registry: Registry, pg_department: Department
) -> None:
    pg_department.execute(insert(range(10)))
    code = setup_job(sqlite_registry, pg_department, "soft")
    target = target_of(sqlite_registry, code)
    warehouse = DuckDBEngine(tmp_path / "w.duckdb")
    context = jobs.RunContext(sqlite_registry, warehouse, KEYRING, tmp_path / "locks")
    scheduler = Scheduler(context)
    try:
        assert scheduler.tick() == [code]
        assert scheduler.tick() == []  # already streaming
        assert scheduler.streaming() == [code]
        wait_for_run(sqlite_registry, code, lambda r: r.rows_read == 10)
        # No run call: the stream the scheduler keeps alive brings the changes in.
        pg_department.execute(insert(range(10, 15)), [update(2, "改")], [delete(3)])
        wait_until(lambda: landed(warehouse, target, alive_only=True) == pg_department.rows())
    finally:
        scheduler.stop()
        streaming_after_stop = scheduler.streaming()
        stream.release(context, code)
        warehouse.close()
    assert streaming_after_stop == []  # the stream ended within stop()'s join
    with sqlite_registry.session() as session:
        runs = jobs.get_job(session, code).runs
        assert [(r.status, r.error) for r in runs] == [("succeeded", None)]
        assert runs[0].rows_read == 10 + 5 + 1 + 1


def test_a_failing_stream_is_retried_after_the_backoff(
    tmp_path: Path, sqlite_registry: Registry
) -> None:
    with sqlite_registry.session() as session:
        make_city(session)
    make_job(sqlite_registry, "down", "postgres",
             {"host": "127.0.0.1", "port": 1, "database": "x", "user": "postgres"}, mode="cdc")
    clock = Clock()
    context = jobs.RunContext(sqlite_registry, DuckDBEngine(tmp_path / "w.duckdb"), KEYRING,
                              tmp_path / "locks")
    scheduler = Scheduler(context, clock=clock,
                          policy=RetryPolicy(base=timedelta(seconds=20), attempts=2))

    def failed_again() -> datetime:
        wait_until(lambda: scheduler.next_run("down") is not None)
        assert scheduler.streaming() == []
        return scheduler.next_run("down") or T0

    try:
        assert scheduler.tick() == ["down"]
        assert failed_again() == T0 + timedelta(seconds=20)
        assert scheduler.tick() == []  # waiting for its retry

        clock.now = T0 + timedelta(seconds=30)
        assert scheduler.tick() == ["down"]
        assert failed_again() == clock.now + timedelta(seconds=40)  # doubled

        clock.now += timedelta(seconds=40)
        assert scheduler.tick() == ["down"]
        # Retries used up: a stream should run, so it keeps trying at the ceiling.
        assert failed_again() == clock.now + timedelta(minutes=30)
    finally:
        scheduler.stop()
        context.warehouse.close()
    with sqlite_registry.session() as session:
        runs = jobs.get_job(session, "down").runs
        assert [(r.status, r.error_kind) for r in runs] == [("failed", "transient")] * 3


def test_a_terminal_stream_failure_waits_until_the_job_changes(
    tmp_path: Path, sqlite_registry: Registry, pg_department: Department
) -> None:
    code = setup_job(sqlite_registry, pg_department, "soft")
    pg_department.execute([("DROP TABLE ledger", {})])
    warehouse = DuckDBEngine(tmp_path / "w.duckdb")
    context = jobs.RunContext(sqlite_registry, warehouse, KEYRING, tmp_path / "locks")
    scheduler = Scheduler(context)
    try:
        assert scheduler.tick() == [code]
        wait_until(lambda: scheduler.streaming() == [])
        assert scheduler.tick() == []  # not retried: someone must change something
        pg_department.execute([(DDL["postgres"], {})])
        with sqlite_registry.session() as session:
            source = jobs.get_job(session, code).table.source
            source.options = {**source.options, "connect_timeout": 5}
        assert scheduler.tick() == [code]  # the source changed: it streams again
        wait_for_run(sqlite_registry, code, lambda r: r.status == "running")
    finally:
        scheduler.stop()
        stream.release(context, code)
        warehouse.close()
    with sqlite_registry.session() as session:
        runs = jobs.get_job(session, code).runs
        assert [(r.status, r.error_kind) for r in runs] == [
            ("succeeded", None), ("failed", "terminal")]
