"""SIGKILL at any moment: the warehouse still ends identical to the source.

A real `datapolis sync run` process is killed at random points (during start-up, mid-read,
mid-commit), the source keeps changing between attempts, and a final run must leave ods equal
to the source row for row: nothing lost, nothing doubled.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from datapolis.ingest import jobs, service
from datapolis.registry import migrate
from datapolis.registry.db import open_registry
from datapolis.security.crypto import Keyring
from tests.commands import DATAPOLIS, environment, run
from tests.conftest import make_city
from tests.ingest.kills import running_run, wait_for_a_new_run

KEYRING = Keyring.from_secret("k" * 40)
ROWS = 300_000
CHANGES = 100_000  # new rows per round, so incremental runs have work to be killed in
KILLS = 3  # kills that land mid-run
MAX_ATTEMPTS = 8


def make_source(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, name TEXT, amount REAL, "
                   "version INTEGER NOT NULL)")
        db.executemany("INSERT INTO ledger VALUES (?, ?, ?, ?)",
                       ((i, f"户{i}", i * 0.5, i) for i in range(ROWS)))


def change_source(path: Path, round_: int) -> None:
    """Updates (a higher version) and inserts, as a department system does between syncs."""
    with sqlite3.connect(path) as db:
        top = db.execute("SELECT max(version) FROM ledger").fetchone()[0]
        picked = random.Random(round_).sample(range(ROWS), 5_000)
        db.executemany("UPDATE ledger SET name = ?, version = ? WHERE id = ?",
                       ((f"改{round_}", top + 1 + n, row_id) for n, row_id in enumerate(picked)))
        start = ROWS + round_ * CHANGES
        db.executemany("INSERT INTO ledger VALUES (?, ?, ?, ?)",
                       ((i, f"新{i}", 1.0, top + 10_000 + i)
                        for i in range(start, start + CHANGES)))


def source_rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT id, name, amount, version FROM ledger ORDER BY id").fetchall()


def landed_rows(home: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as db:
        return db.execute(
            "SELECT id, name, amount, version FROM ods_371300_gaj.ledger ORDER BY id"
        ).fetchall()


def setup_job(home: Path, source: Path, mode: str) -> str:
    assert run(home, "db", "upgrade").returncode == 0
    registry = open_registry(f"sqlite:///{home / 'registry.sqlite'}")
    migrate.upgrade(registry)
    with registry.session() as session:
        city = make_city(session)
        added = service.add_source(
            session, keyring=KEYRING, org=city.city_dept,
            code="371300_gaj_ledger", name="台账", kind="sqlite", options={"path": str(source)},
        )
        (table,) = service.choose_tables(session, source=added, keyring=KEYRING,
                                         names=["ledger"])
        job = jobs.create_job(session, table=table, mode=mode,
                              cursor_column="version" if mode == "incremental" else None,
                              overlap_seconds=10 if mode == "incremental" else 0)
        code = job.code
    registry.close()
    return code


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["snapshot", "incremental"])
def test_killed_runs_leave_nothing_lost_or_doubled(tmp_path: Path, mode: str) -> None:
    home, source = tmp_path / "var", tmp_path / "ledger.sqlite"
    make_source(source)
    code = setup_job(home, source, mode)
    chance = random.Random(mode)
    interrupted: set[int] = set()  # runs a kill left marked running
    for attempt in range(MAX_ATTEMPTS):
        worker = subprocess.Popen([DATAPOLIS, "sync", "run", code],
                                  env=environment(home), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        wait_for_a_new_run(home, code, worker, interrupted)
        time.sleep(chance.uniform(0.0, 1.0))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        # A worker killed inside start_run's transaction leaves the previous run marked
        # running, already counted: count runs, not kills.
        left = running_run(home, code)
        if left is not None:
            interrupted.add(left)
        change_source(source, attempt)
        if len(interrupted) >= KILLS:
            break
    # The kills really landed mid-run, not only before a run started or after it ended.
    assert interrupted
    final = run(home, "sync", "run", code)
    assert final.returncode == 0, final.stderr
    assert landed_rows(home) == source_rows(source)
    status = run(home, "sync", "status")
    assert code in status.stdout and "succeeded" in status.stdout
    registry = open_registry(f"sqlite:///{home / 'registry.sqlite'}")
    with registry.session() as session:
        runs = jobs.get_job(session, code).runs
        assert runs[0].status == "succeeded"
        assert {r.id for r in runs if r.error == jobs.INTERRUPTED} == interrupted
    registry.close()

