"""Sync jobs: define how a chosen table syncs, run it once (one run per job at a time), and
keep its history."""

from __future__ import annotations

import fcntl
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from openlineage.client.event_v2 import RunState
from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.config import Settings
from datapolis.errors import Conflict, NotFound, UserError
from datapolis.ingest import hooks, land, seal, service, throughput
from datapolis.ingest.errors import SourceError
from datapolis.ingest.lineage import Lineage
from datapolis.ingest.models import SchemaChange, SourceTableChoice, SyncJob, SyncRun
from datapolis.ingest.schedules import parse_schedule
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry
from datapolis.security.audit import service as audit
from datapolis.security.crypto import Keyring
from datapolis.warehouse.engine import Engine, WarehouseError

MODES = ("snapshot", "incremental", "cdc")
DELETE_MODES = ("soft", "hard")
CDC_KINDS = ("postgres", "mysql")  # sources whose change logs we can read
JOB_CODE = re.compile(r"^[a-z0-9][a-z0-9_.]{1,99}$")


class JobBusy(Conflict):
    """Another run of the same job is in progress."""


def create_job(
    session: Session,
    *,
    table: SourceTableChoice,
    mode: str,
    code: str | None = None,
    cursor_column: str | None = None,
    overlap_seconds: int = 0,
    delete_mode: str = "soft",
    schedule: str | None = None,
) -> SyncJob:
    code = code or f"{table.source.code}.{table.target_table.split('.', 1)[1]}"
    if not JOB_CODE.match(code):
        raise UserError(f"job code {code!r} must be 2-100 lower-case letters, digits, _ or .")
    if mode not in MODES:
        raise UserError(f"unknown sync mode {mode!r}; use one of {', '.join(MODES)}")
    if delete_mode not in DELETE_MODES:
        raise UserError(f"delete mode must be soft or hard, not {delete_mode!r}")
    if mode == "incremental" and not cursor_column:
        raise UserError("an incremental job needs a cursor column (a timestamp or increasing id)")
    if mode == "cdc" and table.source.kind not in CDC_KINDS:
        raise UserError(f"cdc reads database logs: only {', '.join(CDC_KINDS)} sources, "
                        f"not {table.source.kind}")
    if mode in ("incremental", "cdc") and not table.primary_key:
        raise UserError(f"{table.name} has no primary key; {mode} sync merges on one")
    if overlap_seconds < 0:
        raise UserError("overlap cannot be negative")
    if schedule is not None:
        schedule = parse_schedule(schedule).text
    if session.scalar(select(SyncJob.id).where(SyncJob.code == code)) is not None:
        raise Conflict(f"job code {code!r} is already taken")
    job = SyncJob(code=code, table=table, mode=mode, cursor_column=cursor_column,
                  overlap_seconds=overlap_seconds, delete_mode=delete_mode, schedule=schedule)
    session.add(job)
    session.flush()
    audit.record(session, kind="job.created", org=table.source.org.code, details={
        "job": code, "table": table.target_table, "mode": mode, "schedule": schedule})
    return job


def get_job(session: Session, code: str) -> SyncJob:
    job = session.scalar(select(SyncJob).where(SyncJob.code == code))
    if job is None:
        raise NotFound(f"no sync job with code {code!r}")
    return job


def list_jobs(session: Session) -> list[SyncJob]:
    return list(session.scalars(select(SyncJob).order_by(SyncJob.code)))


def jobs_landing_in(session: Session, target_table: str) -> list[SyncJob]:
    """The jobs that land rows in a warehouse table (its lineage from source systems)."""
    query = (select(SyncJob).join(SyncJob.table)
             .where(SourceTableChoice.target_table == target_table).order_by(SyncJob.code))
    return list(session.scalars(query))


def schema_changes(session: Session, job: SyncJob) -> list[SchemaChange]:
    query = select(SchemaChange).where(SchemaChange.job_id == job.id)
    return list(session.scalars(query.order_by(SchemaChange.id)))


@contextmanager
def exclusive(lock_dir: Path, job_code: str) -> Iterator[None]:
    """Hold the job's lock file; a second run, in any process or thread, is refused.

    The kernel drops an flock when its holder dies, even by SIGKILL: no stale locks.
    """
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{job_code}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobBusy(f"job {job_code} is already running") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class RunContext:
    registry: Registry
    warehouse: Engine
    keyring: Keyring
    lock_dir: Path
    lineage: Lineage = field(default_factory=lambda: Lineage(""))

    @classmethod
    def from_settings(cls, settings: Settings, registry: Registry, warehouse: Engine) -> RunContext:
        return cls(registry=registry, warehouse=warehouse,
                   keyring=service.secrets_keyring(settings), lock_dir=settings.home / "locks",
                   lineage=Lineage(settings.lineage_sink))


def run_job(
    context: RunContext, job_code: str, progress: Callable[[int], None] | None = None
) -> SyncRun:
    """Run a snapshot or incremental job once and record the run (also when it fails)."""
    with context.registry.session() as session:
        job = get_job(session, job_code)
        if job.mode == "cdc":
            raise UserError(f"job {job_code} streams changes; run it with stream.run_stream")
        source, table = job.table.source, job.table
        session.expunge_all()
    with exclusive(context.lock_dir, job_code):
        run_id = start_run(context.registry, job_code)
        context.lineage.emit(RunState.START, job_code=job_code, run_number=run_id, table=table)
        try:
            with service.connect(source, context.keyring) as plugin:
                sealer = seal.for_run(context.registry, context.keyring)
                result = _land(context.warehouse, plugin, job, table, progress, sealer)
        except (SourceError, WarehouseError) as exc:
            finish_run(context.registry, run_id, error=exc)
            context.lineage.emit(RunState.FAIL, job_code=job_code, run_number=run_id, table=table)
            raise
        run = finish_run(context.registry, run_id, result=result)
        context.lineage.emit(RunState.COMPLETE, job_code=job_code, run_number=run_id, table=table)
        hooks.landed(hooks.Landed(context.registry, context.warehouse, context.keyring, job_code,
                                  table.target_table, job.mode, run.rows_read, final=True))
        return run


def _land(
    engine: Engine,
    plugin: Any,
    job: SyncJob,
    table: SourceTableChoice,
    progress: Callable[[int], None] | None,
    sealer: seal.Sealer | None,
) -> land.LandResult:
    if job.mode == "snapshot":
        return land.land_snapshot(engine, plugin, job=job.code, table=table.name,
                                  target=table.target_table, progress=progress, sealer=sealer)
    assert job.cursor_column is not None
    offset = land.decode_cursor(land.read_offset(engine, job.code))
    return land.land_incremental(
        engine, plugin, job=job.code, table=table.name, target=table.target_table,
        key=table.primary_key, cursor_column=job.cursor_column,
        overlap=_overlap(offset, job.overlap_seconds), progress=progress, sealer=sealer,
    )


def _overlap(offset: Any, seconds: int) -> Any:
    # Seconds for time cursors; for increasing ids the same number counts ids back.
    if isinstance(offset, (datetime, date)):
        return timedelta(seconds=seconds)
    return seconds


INTERRUPTED = "interrupted: the worker stopped before finishing (killed or crashed)"


def start_run(registry: Registry, job_code: str) -> int:
    """Record a new run; runs still marked running lost their worker (we hold the lock)."""
    with registry.session() as session:
        job = get_job(session, job_code)
        for stale in session.scalars(
            select(SyncRun).where(SyncRun.job_id == job.id, SyncRun.status == "running")
        ):
            stale.status, stale.error_kind, stale.error = "failed", "transient", INTERRUPTED
        run = SyncRun(job=job, started_at=utcnow(), status="running")
        session.add(run)
        session.flush()
        return run.id


def finish_run(
    registry: Registry,
    run_id: int,
    *,
    result: land.LandResult | None = None,
    error: Exception | None = None,
    lag_seconds: float | None = None,
    status: str = "succeeded",
) -> SyncRun:
    """End a run: with its result (`lag_seconds` for streams, whose offsets are not times), or
    failed with `error`; `status="running"` records a streaming run's progress so far."""
    with registry.session() as session:
        run = session.get_one(SyncRun, run_id)
        if status != "running":
            run.ended_at = utcnow()
        if result is not None:
            landed = result.rows_read - run.rows_read  # since the run's last report
            run.status = status
            run.rows_read, run.inserted = result.rows_read, result.inserted
            run.updated, run.deleted = result.updated, result.deleted
            run.bytes_read, run.offset = result.bytes_read, result.offset
            run.lag_seconds = (
                lag_seconds if lag_seconds is not None
                else _lag_seconds(result.offset, run.ended_at or utcnow())
            )
            throughput.record(session, job_id=run.job_id, at=utcnow(), rows=landed,
                              lag_seconds=run.lag_seconds)
            session.add_all(
                SchemaChange(job_id=run.job_id, run_id=run.id, column=d.column, change=d.change,
                             old_type=d.old_type, new_type=d.new_type,
                             seen_at=run.ended_at or utcnow())
                for d in result.drifts
            )
        else:
            run.status = "failed"
            run.error = str(error)
            run.error_kind = (
                "transient" if isinstance(error, SourceError) and error.transient else "terminal"
            )
        session.flush()
        session.expunge(run)
        return run


def _lag_seconds(offset: str | None, committed: datetime) -> float | None:
    """For a time cursor: how far the newest landed row trails the warehouse commit."""
    try:
        newest = land.decode_cursor(offset)
    except (ValueError, KeyError):
        return None
    if isinstance(newest, datetime) and newest.tzinfo is not None:
        return max(0.0, (committed - newest.astimezone(UTC)).total_seconds())
    return None
