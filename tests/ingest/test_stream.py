"""cdc jobs end to end against the real PostgreSQL and MariaDB: an initial snapshot, then the
stream; inserts, updates and deletes (soft or hard) land, and ods ends equal to the source."""

from __future__ import annotations

import json
import secrets
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from datapolis.errors import UserError
from datapolis.ingest import jobs, service, stream, throughput
from datapolis.ingest.errors import TerminalSourceError, TransientSourceError
from datapolis.ingest.land import read_offset
from datapolis.ingest.lineage import Lineage
from datapolis.ingest.models import SyncRun
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry, open_registry
from datapolis.security.crypto import Keyring
from datapolis.warehouse import DuckDBEngine
from datapolis.warehouse.engine import Engine
from tests.commands import DATAPOLIS, environment, run
from tests.conftest import make_city
from tests.databases import MARIADB_ADMIN_URL, PG_ADMIN_URL, throwaway_database
from tests.ingest.cdc.test_postgres import _drop_slots_of

KEYRING = Keyring.from_secret("k" * 40)
Row = tuple[int, str | None, Decimal | None, datetime | None]
DDL = {
    "postgres": "CREATE TABLE ledger (id integer PRIMARY KEY, name text, amount numeric(12, 2),"
                " seen_at timestamp)",
    "mysql": "CREATE TABLE ledger (id int PRIMARY KEY, name varchar(64), amount decimal(12, 2),"
             " seen_at datetime(6)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
}
START = datetime(2024, 5, 1, 8, 30)


@dataclass
class Department:
    """A department database with one `ledger` table, on a real server."""

    kind: str  # the source kind: postgres or mysql
    url: str

    @property
    def options(self) -> dict[str, Any]:
        parsed = make_url(self.url)
        return {"host": parsed.host, "port": parsed.port or (5432 if self.postgres else 3306),
                "database": parsed.database, "user": parsed.username}

    @property
    def postgres(self) -> bool:
        return self.kind == "postgres"

    @property
    def table(self) -> str:
        return "public.ledger" if self.postgres else "ledger"

    def execute(self, *transactions: list[tuple[str, dict[str, Any]]]) -> None:
        """Each list of (statement, parameters) commits as one transaction."""
        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                for statements in transactions:
                    with connection.begin():
                        for statement, params in statements:
                            connection.execute(text(statement), params)
        finally:
            engine.dispose()

    def rows(self) -> list[Row]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                found = connection.execute(
                    text("SELECT id, name, amount, seen_at FROM ledger ORDER BY id")
                ).all()
        finally:
            engine.dispose()
        return [normal(tuple(row)) for row in found]


def normal(row: tuple[Any, ...]) -> Row:
    at = row[3]
    if isinstance(at, datetime) and at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return int(row[0]), row[1], None if row[2] is None else Decimal(row[2]), at


@pytest.fixture(params=["postgres", "mysql"])
def department(request: pytest.FixtureRequest) -> Iterator[Department]:
    postgres = request.param == "postgres"
    for url in throwaway_database(PG_ADMIN_URL if postgres else MARIADB_ADMIN_URL, "stream"):
        dept = Department(request.param, url)
        if not postgres:  # column names travel in the binlog only with full metadata
            admin = create_engine(MARIADB_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text("SET GLOBAL binlog_row_metadata = FULL"))
            admin.dispose()
        dept.execute([(DDL[dept.kind], {})])
        try:
            yield dept
        finally:
            if postgres:  # a database with a slot cannot be dropped; slots keep WAL for ever
                _drop_slots_of(dict(make_url(url).translate_connect_args(
                    username="user", database="dbname")))


def insert(ids: range) -> list[tuple[str, dict[str, Any]]]:
    return [("INSERT INTO ledger VALUES (:id, :name, :amount, :seen_at)",
             {"id": i, "name": f"户{i}", "amount": Decimal(i) / 4,
              "seen_at": START + timedelta(seconds=i, microseconds=i)}) for i in ids]


def update(row_id: int, name: str) -> tuple[str, dict[str, Any]]:
    return ("UPDATE ledger SET name = :name, amount = amount + 1 WHERE id = :id",
            {"id": row_id, "name": name})


def delete(row_id: int) -> tuple[str, dict[str, Any]]:
    return "DELETE FROM ledger WHERE id = :id", {"id": row_id}


def setup_job(registry: Registry, dept: Department, delete_mode: str) -> str:
    with registry.session() as session:
        city = make_city(session)
        source = service.add_source(
            session, keyring=KEYRING, org=city.city_dept,
            code=f"371300_{dept.kind}_{secrets.token_hex(3)}", name="台账", kind=dept.kind,
            options=dept.options,
        )
        (table,) = service.choose_tables(session, source=source, keyring=KEYRING,
                                         names=[dept.table])
        return jobs.create_job(session, table=table, mode="cdc", delete_mode=delete_mode).code


def target_of(registry: Registry, code: str) -> str:
    with registry.session() as session:
        return jobs.get_job(session, code).table.target_table


def landed(engine: Engine, target: str, *, alive_only: bool) -> list[Row]:
    where = "WHERE NOT _deleted" if alive_only else ""
    found = engine.query(f"SELECT id, name, amount, seen_at FROM {target} {where} ORDER BY id")
    return [normal(tuple(row.values())) for row in found.to_pylist()]


@pytest.mark.parametrize("delete_mode", ["soft", "hard"])
def test_snapshot_then_stream(
    tmp_path: Path, sqlite_registry: Registry, department: Department, delete_mode: str
) -> None:
    department.execute(insert(range(200)))
    code = setup_job(sqlite_registry, department, delete_mode)
    target = target_of(sqlite_registry, code)
    warehouse = DuckDBEngine(tmp_path / "warehouse.duckdb")
    events_file = tmp_path / "lineage.jsonl"
    context = jobs.RunContext(sqlite_registry, warehouse, KEYRING, tmp_path / "locks",
                              Lineage(f"file:{events_file}"))
    seen: list[stream.StreamStatus] = []
    try:
        first = stream.run_stream(context, code, stop_after_idle=0.5, progress=seen.append)
        assert (first.status, first.inserted, first.rows_read) == ("succeeded", 200, 200)
        assert seen and seen[0].rows == 200
        soft = delete_mode == "soft"
        assert landed(warehouse, target, alive_only=soft) == department.rows()

        department.execute(
            insert(range(200, 260)),
            [update(i, f"改{i}") for i in range(0, 40)],
            *([delete(i)] for i in range(100, 120)),
            [update(150, "先改"), delete(150)],  # one transaction: the net effect is a delete
            insert(range(300, 301)), [update(300, "后改")], [delete(300)],
            [update(1, "再改")],
            # wider than any snapshot value: ods keeps the declared numeric(12, 2)
            [("UPDATE ledger SET amount = 9999999999.99 WHERE id = 2", {})],
        )
        second = stream.run_stream(context, code, stop_after_idle=0.5)
        assert second.status == "succeeded"
        assert second.inserted >= 60 and second.updated >= 40 and second.deleted >= 21
        assert second.lag_seconds is not None and second.lag_seconds >= 0
        with sqlite_registry.session() as session:  # the live charts count every landed row
            minutes = throughput.last_minutes(session, job_ids=[second.job_id], now=utcnow())
        assert sum(minutes.rows) == first.rows_read + second.rows_read
        source = department.rows()
        assert len(source) == 200 + 60 - 21
        assert landed(warehouse, target, alive_only=soft) == source
        gone = [100, 119, 150]
        if soft:
            tombstones = warehouse.query(
                f"SELECT id, _deleted, _deleted_at FROM {target} WHERE id IN (100, 119, 150)"
            ).to_pylist()
            assert sorted(t["id"] for t in tombstones) == gone
            assert all(t["_deleted"] and t["_deleted_at"] is not None for t in tombstones)
        else:
            ids = {row[0] for row in landed(warehouse, target, alive_only=False)}
            assert not ids & set(gone)

        third = stream.run_stream(context, code, stop_after_idle=0.5)
        assert third.rows_read == 0  # nothing is applied twice
        assert landed(warehouse, target, alive_only=soft) == source

        stream.release(context, code)  # slot, publication and offset gone: a new snapshot
        again = stream.run_stream(context, code, stop_after_idle=0.5)
        assert again.rows_read == len(source)
        assert landed(warehouse, target, alive_only=False) == source
        events = [json.loads(line) for line in events_file.read_text().splitlines()]
        assert [e["eventType"] for e in events] == ["START", "COMPLETE"] * 4
        assert events[0]["outputs"][0]["name"] == target
    finally:
        stream.release(context, code)
        warehouse.close()


def test_cdc_only_for_database_logs(tmp_path: Path, sqlite_registry: Registry) -> None:
    path = tmp_path / "dept.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, name TEXT)")
    with sqlite_registry.session() as session:
        city = make_city(session)
        source = service.add_source(session, keyring=KEYRING, org=city.city_dept,
                                    code="371300_gaj_file", name="台账", kind="sqlite",
                                    options={"path": str(path)})
        (table,) = service.choose_tables(session, source=source, keyring=KEYRING,
                                         names=["ledger"])
        with pytest.raises(UserError, match="only postgres, mysql"):
            jobs.create_job(session, table=table, mode="cdc")


def test_capture_names_are_valid_identifiers() -> None:
    name = stream.capture_name("371300_gaj_hjxt.czrk", "gaj")
    assert name.startswith("datapolis_371300_gaj_hjxt_czrk_") and len(name) <= 63
    assert name == stream.capture_name("371300_gaj_hjxt.czrk", "gaj")
    assert name != stream.capture_name("371300_gaj_hjxt_czrk", "gaj")
    assert name != stream.capture_name("371300_gaj_hjxt.czrk", "gaj_staging")


def last_run(registry: Registry, code: str) -> tuple[str, str | None]:
    with registry.session() as session:
        run = jobs.get_job(session, code).runs[0]
        return run.status, run.error_kind


def test_unreachable_source_fails_as_transient(
    tmp_path: Path, sqlite_registry: Registry, department: Department
) -> None:
    code = setup_job(sqlite_registry, department, "soft")
    with sqlite_registry.session() as session:
        source = jobs.get_job(session, code).table.source
        source.options = {**source.options, "port": 1}  # nobody listens there
    warehouse = DuckDBEngine(tmp_path / "warehouse.duckdb")
    context = jobs.RunContext(sqlite_registry, warehouse, KEYRING, tmp_path / "locks")
    try:
        with pytest.raises(TransientSourceError):
            stream.run_stream(context, code, stop_after_idle=0.5)
    finally:
        warehouse.close()
    assert last_run(sqlite_registry, code) == ("failed", "transient")


def test_missing_table_fails_as_terminal(
    tmp_path: Path, sqlite_registry: Registry, department: Department
) -> None:
    code = setup_job(sqlite_registry, department, "hard")
    department.execute([("DROP TABLE ledger", {})])
    warehouse = DuckDBEngine(tmp_path / "warehouse.duckdb")
    context = jobs.RunContext(sqlite_registry, warehouse, KEYRING, tmp_path / "locks")
    context = replace(context, lineage=Lineage(f"file:{tmp_path / 'lineage.jsonl'}"))
    try:
        with pytest.raises(TerminalSourceError, match="ledger"):
            stream.run_stream(context, code, stop_after_idle=0.5)
        events = (tmp_path / "lineage.jsonl").read_text().splitlines()
        assert [json.loads(e)["eventType"] for e in events] == ["START", "FAIL"]
        assert read_offset(warehouse, code) is None  # nothing committed: the next run snapshots
    finally:
        stream.release(context, code)
        warehouse.close()
    assert last_run(sqlite_registry, code) == ("failed", "terminal")


def test_cli_streams_until_interrupted(tmp_path: Path, department: Department) -> None:
    """`datapolis sync run JOB` streams with no end; the run shows rows and lag as it goes,
    and Ctrl-C stops it cleanly."""
    home = tmp_path / "var"
    assert run(home, "db", "upgrade").returncode == 0
    registry = open_registry(f"sqlite:///{home / 'registry.sqlite'}")
    try:
        department.execute(insert(range(50)))
        code = setup_job(registry, department, "soft")
        worker = subprocess.Popen([DATAPOLIS, "sync", "run", code], env=environment(home),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_run(registry, code, lambda r: r.status == "running" and r.rows_read == 50)
            department.execute(insert(range(50, 60)), [update(3, "改")])
            live = wait_for_run(registry, code, lambda r: r.rows_read == 61)
            assert live.status == "running" and live.lag_seconds is not None
            worker.send_signal(signal.SIGINT)
            out, err = worker.communicate(timeout=30)
        finally:
            worker.kill()
        assert worker.returncode == 0, err
        assert "60 inserted, 1 updated, 0 deleted" in out
        assert wait_for_run(registry, code, lambda r: True).status == "succeeded"
    finally:
        registry.close()


def wait_for_run(registry: Registry, code: str, ready: Callable[[SyncRun], bool]) -> SyncRun:
    deadline = time.monotonic() + 30
    while True:
        with registry.session() as session:
            runs = jobs.get_job(session, code).runs
            if runs and ready(runs[0]):
                session.expunge(runs[0])
                return runs[0]
        assert time.monotonic() < deadline, "the run did not get there in 30 s"
        time.sleep(0.2)


def slots_named(dept: Department, name: str) -> list[str]:
    engine = create_engine(dept.url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(
                "SELECT slot_name FROM pg_replication_slots WHERE slot_name = :name"
            ), {"name": name}).scalars())
    finally:
        engine.dispose()


@pytest.mark.parametrize("department", ["postgres"], indirect=True)
def test_cli_release_drops_the_slot_and_forgets_the_offset(
    tmp_path: Path, department: Department
) -> None:
    home = tmp_path / "var"
    assert run(home, "db", "upgrade").returncode == 0
    registry = open_registry(f"sqlite:///{home / 'registry.sqlite'}")
    try:
        department.execute(insert(range(5)))
        code = setup_job(registry, department, "soft")
    finally:
        registry.close()
    done = run(home, "sync", "run", code, "--until-idle", "0.5")
    assert done.returncode == 0, done.stderr
    name = stream.capture_name(code, department.options["database"])
    assert slots_named(department, name) == [name]

    refused = run(home, "sync", "release", code, stdin="n\n")
    assert refused.returncode != 0
    assert slots_named(department, name) == [name]  # nothing released without a yes

    released = run(home, "sync", "release", code, "--yes")
    assert released.returncode == 0, released.stderr
    assert "released" in released.stdout
    assert slots_named(department, name) == []
    warehouse = DuckDBEngine(home / "warehouse.duckdb")
    try:
        assert read_offset(warehouse, code) is None
    finally:
        warehouse.close()

    unknown = run(home, "sync", "release", "no.such_job", "--yes")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == ["error: no sync job with code 'no.such_job'"]


@pytest.mark.parametrize("department", ["postgres"], indirect=True)
def test_stop_event_ends_a_stream_between_transactions(
    tmp_path: Path, sqlite_registry: Registry, department: Department
) -> None:
    """Another thread sets `stop`: the stream ends at its next heartbeat, the run succeeded
    with everything committed so far."""
    department.execute(insert(range(20)))
    code = setup_job(sqlite_registry, department, "hard")
    warehouse = DuckDBEngine(tmp_path / "warehouse.duckdb")
    context = jobs.RunContext(sqlite_registry, warehouse, KEYRING, tmp_path / "locks")
    stop = threading.Event()
    runs: list[SyncRun] = []
    worker = threading.Thread(target=lambda: runs.append(
        stream.run_stream(context, code, stop_after_idle=None, stop=stop)))
    try:
        worker.start()
        wait_for_run(sqlite_registry, code, lambda r: r.rows_read == 20)
        department.execute(insert(range(20, 25)))
        wait_for_run(sqlite_registry, code, lambda r: r.rows_read == 25)
        stop.set()
        worker.join(timeout=30)
        assert not worker.is_alive()
        assert [(r.status, r.rows_read) for r in runs] == [("succeeded", 25)]
        target = target_of(sqlite_registry, code)
        assert landed(warehouse, target, alive_only=False) == department.rows()
    finally:
        stop.set()
        worker.join(timeout=30)
        stream.release(context, code)
        warehouse.close()
