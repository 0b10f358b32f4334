"""SIGKILL a streaming worker at any moment: the warehouse still ends identical to the source.

A real `datapolis sync run JOB --until-idle 3` process is killed at random moments (during
start-up, the initial snapshot, mid-stream) while a writer keeps inserting, updating and
deleting at the source; a final run until idle must leave ods equal to the source row for row.
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from datapolis.ingest import jobs
from datapolis.ingest.cdc import postgres
from datapolis.registry import migrate
from datapolis.registry.db import Registry, open_registry
from datapolis.warehouse import DuckDBEngine
from tests.commands import DATAPOLIS, environment, run
from tests.ingest.kills import running_run, wait_for_a_new_run
from tests.ingest.test_stream import (
    Department,
    delete,
    department,
    insert,
    landed,
    setup_job,
    target_of,
    update,
)

__all__ = ["department"]  # the fixture, parametrized over PostgreSQL and MariaDB

ROWS = 2_000
CHANGES = 3_000  # source transactions (1-3 changes each) made while the worker is killed
KILLS = 3  # kills that land mid-run
MAX_ATTEMPTS = 8


class Writer(threading.Thread):
    """Mixed inserts, updates and deletes, one to three per transaction, until told to stop."""

    def __init__(self, dept: Department, seed: int) -> None:
        super().__init__(daemon=True)
        self.dept, self.chance = dept, random.Random(seed)
        self.alive, self.next_id = list(range(ROWS)), ROWS
        self.stop, self.made = threading.Event(), 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set() and self.made < CHANGES:
                self.dept.execute(*(self.transaction() for _ in range(10)))
                self.made += 10
                time.sleep(0.01)
        except BaseException as exc:  # reported by the test
            self.error = exc

    def transaction(self) -> list[tuple[str, dict[str, object]]]:
        statements = []
        for _ in range(self.chance.randint(1, 3)):
            roll = self.chance.random()
            if roll < 0.4 or len(self.alive) < 100:
                statements += insert(range(self.next_id, self.next_id + 1))
                self.alive.append(self.next_id)
                self.next_id += 1
            elif roll < 0.8:
                row_id = self.chance.choice(self.alive)
                statements.append(update(row_id, f"改{self.made}"))
            else:
                row_id = self.alive.pop(self.chance.randrange(len(self.alive)))
                statements.append(delete(row_id))
        return statements


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "var"
    assert run(home, "db", "upgrade").returncode == 0
    yield home


def registry_of(home: Path) -> Registry:
    registry = open_registry(f"sqlite:///{home / 'registry.sqlite'}")
    migrate.upgrade(registry)
    return registry


def wait_for_slot_release(dept: Department) -> None:
    """A killed reader's walsender notices its peer is gone a moment later."""
    params = dict(make_url(dept.url).translate_connect_args(username="user", database="dbname"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with postgres._session(params, "slots") as cursor:
            cursor.execute("SELECT count(*) FROM pg_replication_slots WHERE active"
                           " AND database = %s", (params["dbname"],))
            row = cursor.fetchone()
        if row is not None and row[0] == 0:
            return
        time.sleep(0.1)


@pytest.mark.slow
def test_killed_stream_leaves_nothing_lost_or_doubled(home: Path, department: Department) -> None:
    department.execute(insert(range(ROWS)))
    delete_mode = "soft" if department.postgres else "hard"
    registry = registry_of(home)
    code = setup_job(registry, department, delete_mode)
    target = target_of(registry, code)
    registry.close()
    writer = Writer(department, seed=len(department.kind))
    writer.start()
    chance = random.Random(department.kind)
    killed_runs: set[int] = set()  # a kill before the next run starts leaves the same one
    try:
        for _ in range(MAX_ATTEMPTS):
            worker = subprocess.Popen(
                [DATAPOLIS, "sync", "run", code, "--until-idle", "3"], env=environment(home),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            wait_for_a_new_run(home, code, worker, killed_runs)
            time.sleep(chance.uniform(0.0, 1.5))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            killed_runs.add(running_run(home, code) or 0)
            killed_runs.discard(0)
            if len(killed_runs) >= KILLS:
                break
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None, writer.error
    # The kills really landed mid-run, not only before a run started or after it ended.
    assert killed_runs
    if department.postgres:
        wait_for_slot_release(department)
    final = run(home, "sync", "run", code, "--until-idle", "3")
    assert final.returncode == 0, final.stderr
    source = department.rows()
    assert len(source) == len(writer.alive)
    warehouse = DuckDBEngine(home / "warehouse.duckdb", read_only=True)
    try:
        assert landed(warehouse, target, alive_only=delete_mode == "soft") == source
    finally:
        warehouse.close()
    registry = registry_of(home)
    try:
        with registry.session() as session:
            runs = jobs.get_job(session, code).runs
            assert runs[0].status == "succeeded" and runs[0].lag_seconds is not None
            assert {r.id for r in runs if r.error == jobs.INTERRUPTED} == killed_runs
    finally:
        registry.close()
