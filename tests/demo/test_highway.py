"""`datapolis demo land`: every demo department through the data highway."""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner

from datapolis.config import get_settings
from datapolis.demo import highway
from datapolis.demo.cli import app
from datapolis.demo.manifest import Manifest, SystemInfo
from datapolis.ingest import jobs, stream
from datapolis.ingest.models import Source, SourceTableChoice, SyncJob, SyncRun
from datapolis.registry import migrate
from datapolis.registry.db import open_registry
from datapolis.warehouse import DuckDBEngine

runner = CliRunner()
PEOPLE = "300"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A DATAPOLIS_HOME with a migrated registry, as `make run` has before `demo build`."""
    monkeypatch.setenv("DATAPOLIS_HOME", str(tmp_path / "var"))
    get_settings.cache_clear()
    registry = open_registry(get_settings().registry_url)
    migrate.upgrade(registry)
    registry.close()
    yield tmp_path / "var"
    get_settings.cache_clear()


def counts() -> tuple[int, int, int, int]:
    registry = open_registry(get_settings().registry_url, create=False)
    try:
        with registry.session() as session:
            return tuple(  # type: ignore[return-value]
                session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Source, SourceTableChoice, SyncJob, SyncRun))
    finally:
        registry.close()


def ods_count(warehouse: DuckDBEngine, target: str) -> int:
    return int(warehouse.query(f"SELECT count(*) AS n FROM {target}").column("n")[0].as_py())


def test_land_everything_once(home: Path) -> None:
    result = runner.invoke(app, ["land"])
    assert result.exit_code == 1 and "no demo at" in result.output
    assert "Traceback" not in result.output

    assert runner.invoke(app, ["build", "--people", PEOPLE]).exit_code == 0
    result = runner.invoke(app, ["land", "--password", "nosuch=x"])
    assert result.exit_code == 1 and "no system nosuch" in result.output
    result = runner.invoke(app, ["land"])
    assert result.exit_code == 0, result.output
    assert "cdc skipped" in result.output and "PostgreSQL or MariaDB" in result.output
    demo = get_settings().demo_dir
    manifest = Manifest.load(demo)

    warehouse = DuckDBEngine(get_settings().warehouse_file)
    try:
        # Every source table has its ods table with the same row count.
        for system in manifest.systems:
            org = system.department
            for table, rows in system.tables.items():
                assert ods_count(warehouse, f"ods_{org}.{table}") == rows, (system.name, table)
            if system.storage == "sqlite":  # and the manifest agrees with the files
                with sqlite3.connect(demo / system.url) as db:
                    for table in system.tables:
                        (n,), = db.execute(f"SELECT count(*) FROM {table}")
                        assert n == system.tables[table]
        # The GBK files landed with their Chinese values decoded.
        mzj = manifest.system("mzj_dibao")
        assert mzj.storage == "files" and mzj.tables
        for stem in mzj.tables:
            with open(demo / mzj.url / f"{stem}.csv", encoding="gbk", newline="") as handle:
                source_rows = list(csv.DictReader(handle))
            landed = warehouse.query(
                f'SELECT "序号", "区县", "保障类别" FROM ods_371300_mzj.{stem} ORDER BY "序号"'
            ).to_pylist()
            expected = sorted(source_rows, key=lambda r: int(r["序号"]))
            assert [(r["区县"], r["保障类别"]) for r in landed] == \
                [(r["区县"], r["保障类别"]) for r in expected]
            assert all(r["区县"] and r["区县"].endswith(("区", "县")) for r in landed)
    finally:
        warehouse.close()

    registry = open_registry(get_settings().registry_url, create=False)
    try:
        with registry.session() as session:
            modes: dict[str, set[str]] = {}
            for job in jobs.list_jobs(session):
                assert job.runs and job.runs[0].status == "succeeded", job.code
                modes.setdefault(job.mode, set()).add(job.code)
                assert job.schedule == ("every 5m" if job.mode == "incremental" else "every 1h")
            assert set(modes) == {"snapshot", "incremental"}
            assert modes["incremental"] == {"371300_wgzx_sjxt.sjlz"}
            source = session.scalar(select(Source).where(Source.code == "371300_mzj_dibao"))
            assert source is not None and source.kind == "csv"
    finally:
        registry.close()

    # A second run registers nothing and runs nothing; --rerun runs the batch jobs again.
    before = counts()
    again = runner.invoke(app, ["land"])
    assert again.exit_code == 0, again.output
    assert "already registered" in again.output and "--rerun" in again.output
    assert counts() == before
    rerun = runner.invoke(app, ["land", "--rerun"])
    assert rerun.exit_code == 0, rerun.output
    sources, tables, job_count, runs = counts()
    assert (sources, tables, job_count) == before[:3] and runs == before[3] + job_count


def test_a_postgresql_system_streams_by_cdc(home: Path, pg_url: str) -> None:
    """`pg_url`: a throw-away PostgreSQL database (tests/demo/conftest.py)."""
    result = runner.invoke(app, ["build", "--people", PEOPLE,
                                 "--source-url", f"gaj_hjxt={pg_url}"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["land"])
    assert result.exit_code == 0, result.output
    assert "cdc skipped" not in result.output and "4 cdc jobs" in result.output
    assert "the first run of 4 cdc jobs" in result.output  # their snapshots landed already
    manifest = Manifest.load(get_settings().demo_dir)
    gaj = manifest.system("gaj_hjxt")
    assert gaj.storage == "postgresql"

    settings = get_settings()
    registry = open_registry(settings.registry_url, create=False)
    warehouse = DuckDBEngine(settings.warehouse_file)
    context = jobs.RunContext.from_settings(settings, registry, warehouse)
    with registry.session() as session:
        cdc = sorted(job.code for job in jobs.list_jobs(session) if job.mode == "cdc")
        assert {job.mode for job in jobs.list_jobs(session)} == {"snapshot", "incremental", "cdc"}
    assert cdc == sorted(f"371300_gaj_hjxt.{t}" for t in gaj.tables)
    code = "371300_gaj_hjxt.czrk"
    try:
        assert ods_count(warehouse, "ods_371300_gaj.czrk") == gaj.tables["czrk"]
        run = stream.run_stream(context, code, stop_after_idle=2)  # on from where land ended
        assert run.status == "succeeded" and run.rows_read == 0
        # A change at the source streams in on the next run.
        source = create_engine(pg_url)
        with source.begin() as connection:
            connection.execute(text("DELETE FROM czrk WHERE ctid IN "
                                    "(SELECT ctid FROM czrk LIMIT 1)"))
        source.dispose()
        again = stream.run_stream(context, code, stop_after_idle=2)
        assert again.status == "succeeded" and again.deleted == 1
        alive = warehouse.query(
            "SELECT count(*) AS n FROM ods_371300_gaj.czrk WHERE NOT _deleted")
        assert alive.column("n")[0].as_py() == gaj.tables["czrk"] - 1
    finally:
        try:
            stream.release(context, code)
        finally:
            warehouse.close()
            registry.close()


def test_source_options_follow_the_manifest(tmp_path: Path) -> None:
    system = SystemInfo(name="jy_xlxx", title="学历", department="371300_jyj",
                                storage="mysql", url="mysql+pymysql://root@10.0.0.1:3307/jy",
                                tables={"xlxx": 1})
    kind, options, secrets = highway.source_kind_and_options(system, tmp_path, "pw")
    assert kind == "mysql" and secrets == {"password": "pw"}
    assert options == {"host": "10.0.0.1", "port": 3307, "database": "jy", "user": "root"}
    assert highway.source_code(system) == "371300_jy_xlxx"
