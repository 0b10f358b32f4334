"""Streaming (cdc) jobs: an initial snapshot consistent with the stream's start, then every
committed source change applied to ods, the stream position committed with the rows.

The first run (no offset in the warehouse) reads the table as of the stream's start point and
lands it batch by batch; the LAST batch commits together with that start point, so a run killed
mid-snapshot leaves no offset and the next run snapshots again from scratch. Later runs stream
from the stored offset through `apply.apply_changes`; PostgreSQL is told a position only after
the warehouse committed it. See docs/ingest.md.
"""

from __future__ import annotations

import re
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

import pyarrow as pa
from openlineage.client.event_v2 import RunState

from datapolis.errors import UserError
from datapolis.ingest import apply, changelog, drift, hooks, jobs, seal, service
from datapolis.ingest.cdc import mysql, postgres
from datapolis.ingest.cdc.events import Change, Heartbeat
from datapolis.ingest.cdc.pgconnect import ConnectionParams
from datapolis.ingest.errors import SourceError
from datapolis.ingest.land import (
    OFFSETS,
    LandResult,
    ensure_offsets,
    read_offset,
    write_offset,
)
from datapolis.ingest.models import SyncJob, SyncRun
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.warehouse.engine import Engine, TableName, WarehouseError

SNAPSHOT_BATCH_ROWS = 10_000
HEARTBEAT_SECONDS = 1.0  # how often an idle stream moves its offset and reports lag
SAVE_EVERY_SECONDS = 1.0  # how often a streaming run's counters reach the registry
LANDED_EVERY_SECONDS = 60.0  # how often a stream runs the after-landing hooks, at most

Events = Iterator[Change | Heartbeat]


@dataclass(frozen=True)
class StreamStatus:
    """What a streaming run has done so far, reported after each warehouse commit."""

    rows: int
    lag_seconds: float | None


StreamProgress = Callable[[StreamStatus], None]


def capture_name(job_code: str, database: str) -> str:
    """The slot and publication (PostgreSQL) of a job: a valid identifier, stable per job and
    source database. Slot names are unique per server, not per database: two installations
    (a test and a production one, two checkouts) with the same job code reading different
    databases of one server must not take each other's slot."""
    slug = re.sub(r"[^a-z0-9_]", "_", job_code.lower())[:40]
    return f"datapolis_{slug}_{zlib.crc32(f'{database}/{job_code}'.encode()):08x}"


@dataclass(frozen=True)
class InitialSnapshot:
    rows: Iterator[list[dict[str, Any]]]  # batches typed as the stream types rows
    position: str  # where the stream continues


class Capture(Protocol):
    table: str  # as the stream names it: "schema.table" or "database.table"

    def position_key(self, position: str) -> Any: ...

    def snapshot(self) -> AbstractContextManager[InitialSnapshot]: ...

    def events(self, position: str) -> Events: ...

    def acknowledge(self, position: str) -> None: ...


class PostgresCapture:
    """Logical replication through the job's own slot and publication."""

    def __init__(self, params: ConnectionParams, name: str, table: str) -> None:
        self.params, self.name = params, name
        self.table = table if "." in table else f"public.{table}"
        self._reader = postgres.PostgresChangeReader(
            params, slot=name, publication=name, heartbeat_seconds=HEARTBEAT_SECONDS
        )

    def position_key(self, position: str) -> Any:
        return apply.pg_lsn(position)

    @contextmanager
    def snapshot(self) -> Iterator[InitialSnapshot]:
        postgres.ensure_publication(self.params, self.name, [self.table])
        postgres.drop_slot(self.params, self.name)  # left behind by a first run that died
        with postgres.create_slot(self.params, self.name) as start:
            batches = postgres.read_snapshot(
                self.params, start, [self.table], batch_rows=SNAPSHOT_BATCH_ROWS
            )
            yield InitialSnapshot((b.rows for b in batches), start.consistent_point)

    def events(self, position: str) -> Events:
        return self._reader.stream(position)

    def acknowledge(self, position: str) -> None:
        self._reader.acknowledge(position)

    def release(self) -> None:
        postgres.drop_slot(self.params, self.name)
        postgres.drop_publication(self.params, self.name)


class MysqlCapture:
    """The binlog, read as a replica with a server id derived from the job code."""

    def __init__(self, connection: mysql.MySQLConnection, job_code: str, table: str) -> None:
        # Like slots, replica ids are per server: a second reader with the same id is cut off.
        self.connection = connection
        self.server_id = mysql.server_id_for(f"{connection.database}/{job_code}")
        self.table = table if "." in table else f"{connection.database}.{table}"

    def position_key(self, position: str) -> Any:
        return mysql.BinlogPosition.parse(position)

    @contextmanager
    def snapshot(self) -> Iterator[InitialSnapshot]:
        mysql.check_server(self.connection)
        with mysql.Snapshot(self.connection) as snapshot:
            rows = snapshot.read(self.table, batch_rows=SNAPSHOT_BATCH_ROWS)
            yield InitialSnapshot(rows, str(snapshot.position))

    def events(self, position: str) -> Events:
        return mysql.stream(self.connection, position, [self.table], server_id=self.server_id,
                            heartbeat=HEARTBEAT_SECONDS)

    def acknowledge(self, position: str) -> None:
        """The binlog keeps no reader state: the warehouse offset is the only position."""

    def release(self) -> None:
        """Nothing lives on the server for a binlog reader."""


def open_capture(job: SyncJob, secrets: Mapping[str, str]) -> PostgresCapture | MysqlCapture:
    source, options = job.table.source, job.table.source.options
    if source.kind == "postgres":
        params = {"host": options.get("host", "127.0.0.1"), "port": int(options.get("port", 5432)),
                  "dbname": options.get("database", "postgres"),
                  "user": options.get("user", "postgres"),
                  "connect_timeout": int(options.get("connect_timeout", 10))}
        if secrets.get("password"):
            params["password"] = secrets["password"]
        return PostgresCapture(params, capture_name(job.code, str(params["dbname"])),
                               job.table.name)
    if source.kind == "mysql":
        connection = mysql.MySQLConnection(
            host=str(options.get("host", "127.0.0.1")), port=int(options.get("port", 3306)),
            user=str(options.get("user", "root")), password=secrets.get("password", ""),
            database=str(options.get("database", "")),
            connect_timeout=float(options.get("connect_timeout", 10)),
        )
        return MysqlCapture(connection, job.code, job.table.name)
    raise UserError(f"cdc reads database logs; {source.kind} sources have none")


def _load(context: jobs.RunContext, job_code: str) -> tuple[SyncJob, dict[str, str]]:
    with context.registry.session() as session:
        job = jobs.get_job(session, job_code)
        if job.mode != "cdc":
            raise UserError(f"job {job_code} is a {job.mode} job; run it with `sync run`")
        secrets = service.decrypted_secrets(job.table.source, context.keyring)
        _ = job.table.source.options  # loaded before the session closes
        session.expunge_all()
    return job, secrets


def release(context: jobs.RunContext, job_code: str) -> None:
    """Drop what the job holds at its source (a PostgreSQL slot keeps WAL until dropped) and
    forget its offset: a next run starts over with a new initial snapshot."""
    job, secrets = _load(context, job_code)
    with jobs.exclusive(context.lock_dir, job_code):
        open_capture(job, secrets).release()
        ensure_offsets(context.warehouse)
        context.warehouse.execute(f"DELETE FROM {OFFSETS} WHERE job = ?", [job_code])  # noqa: S608


def run_stream(
    context: jobs.RunContext,
    job_code: str,
    *,
    stop_after_idle: float | None,
    progress: StreamProgress | None = None,
    stop: threading.Event | None = None,
) -> SyncRun:
    """Run a cdc job: snapshot first if needed, then stream until `stop_after_idle` seconds
    pass without a change (None: until interrupted) or `stop` is set (another thread asking;
    seen at the next heartbeat, between transactions). The run is recorded as it goes."""
    job, secrets = _load(context, job_code)
    capture = open_capture(job, secrets)
    with jobs.exclusive(context.lock_dir, job_code):
        tracker = _Tracker(context.registry, jobs.start_run(context.registry, job_code), progress)
        tracker.on_landed = partial(_landed, context, job)
        lineage = partial(context.lineage.emit, job_code=job_code, run_number=tracker.run_id,
                          table=job.table)
        lineage(RunState.START)
        try:
            _stream(context, capture, job, tracker, stop_after_idle, stop)
        except (SourceError, WarehouseError) as exc:
            jobs.finish_run(context.registry, tracker.run_id, error=exc)
            lineage(RunState.FAIL)
            raise
        except KeyboardInterrupt:
            pass  # an operator stopping the worker: everything committed is recorded
        run = tracker.save("succeeded")
        lineage(RunState.COMPLETE)
        if tracker.unreported:
            tracker.report_landed(final=True)
        return run


def _landed(context: jobs.RunContext, job: SyncJob, rows: int, final: bool) -> None:
    hooks.landed(hooks.Landed(context.registry, context.warehouse, context.keyring, job.code,
                              job.table.target_table, job.mode, rows, final))


def _stream(
    context: jobs.RunContext, capture: Capture, job: SyncJob, tracker: _Tracker,
    idle: float | None, stop: threading.Event | None,
) -> None:
    engine = context.warehouse
    target, keys = job.table.target_table, list(job.table.primary_key)
    position = read_offset(engine, job.code)
    sealer = seal.for_run(context.registry, context.keyring)
    if position is None:
        declared = declared_decimals(job, context.keyring)
        with capture.snapshot() as snapshot:
            tracker.committed(snapshot.position, land_snapshot(
                engine, snapshot, job=job.code, target=target, keys=keys,
                delete_mode=job.delete_mode, declared=declared,
                progress=tracker.snapshot_progress, sealer=sealer,
            ))
            position = snapshot.position

    def committed(at: str, batch: LandResult) -> None:
        tracker.committed(at, batch)
        capture.acknowledge(at)  # only now is it safe for the source to forget

    apply.apply_changes(
        engine, _watch(capture.events(position), tracker, idle, stop), job=job.code,
        targets={capture.table: target}, delete_mode=job.delete_mode,
        position_key=capture.position_key, committed=committed, sealer=sealer,
    )


def land_snapshot(
    engine: Engine,
    snapshot: InitialSnapshot,
    *,
    job: str,
    target: str,
    keys: list[str],
    delete_mode: str,
    declared: Mapping[str, pa.DataType] | None = None,
    progress: Callable[[int], None] | None = None,
    sealer: seal.Sealer | None = None,
) -> LandResult:
    """Replace ods rows with the snapshot's, merged in batches; the offset rides the last one."""
    ensure_offsets(engine)
    result = LandResult(offset=snapshot.position)
    alive = {apply.DELETED: False, apply.DELETED_AT: None} if delete_mode == "soft" else {}
    batch = next(snapshot.rows, None)
    first = True
    while first or batch is not None:
        following = next(snapshot.rows, None) if batch is not None else None
        with engine.transaction():
            if first:
                changelog.close_log(engine, target)
            if first and engine.table_exists(target):  # an earlier, unfinished snapshot
                engine.execute(f"DELETE FROM {TableName.parse(target).sql}")  # noqa: S608
            if batch:
                sealed = seal.seal_rows(engine, sealer, target, [row | alive for row in batch])
                rows = apply.rows_as_ods_types(engine, target, sealed)
                if declared and not engine.table_exists(target):
                    rows = _with_types(rows, declared)
                result.drifts += drift.reconcile(engine, target, rows.schema)
                merged = engine.merge(target, rows, keys)
                result.rows_read += len(batch)
                result.inserted += merged.inserted
                result.updated += merged.updated
            if following is None:
                write_offset(engine, job, snapshot.position)
        if progress is not None:
            progress(result.rows_read)
        first, batch = False, following
    return result


def declared_decimals(job: SyncJob, keyring: Keyring) -> dict[str, pa.DataType]:
    """The source's declared decimal columns. Values alone would give ods the narrowest
    decimal that fits the snapshot, and a later, longer value would not fit."""
    with service.connect(job.table.source, keyring) as plugin:
        columns = plugin.columns(job.table.name)
    return {c.name: c.arrow_type for c in columns if pa.types.is_decimal(c.arrow_type)}


def _with_types(rows: pa.Table, declared: Mapping[str, pa.DataType]) -> pa.Table:
    fields = [f.with_type(declared.get(f.name, f.type)) for f in rows.schema]
    return rows.cast(pa.schema(fields))


def _watch(
    events: Events, tracker: _Tracker, idle: float | None, stop: threading.Event | None
) -> Events:
    """Note each change's source commit time (for lag); end after `idle` quiet seconds, or at
    the first heartbeat after `stop` is set."""
    last_change = time.monotonic()
    try:
        for event in events:
            if isinstance(event, Change):
                tracker.newest = event.committed_at
                last_change = time.monotonic()
            yield event
            quiet = idle is not None and time.monotonic() - last_change >= idle
            asked = stop is not None and stop.is_set()
            if (quiet or asked) and isinstance(event, Heartbeat):  # between transactions
                return
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


class _Tracker:
    """A streaming run's totals and lag, saved to the registry as they move."""

    def __init__(self, registry: Registry, run_id: int, progress: StreamProgress | None) -> None:
        self.registry, self.run_id, self.progress = registry, run_id, progress
        self.total = LandResult()
        self.newest: datetime | None = None
        self.lag: float | None = None
        self._saved_drifts = 0
        self._saved_at = 0.0
        self.on_landed: Callable[[int, bool], None] | None = None
        self.unreported = False  # rows landed since the hooks last ran
        self._reported_at = 0.0

    def committed(self, position: str, batch: LandResult) -> None:
        total = self.total
        total.offset = position
        for name in ("rows_read", "inserted", "updated", "deleted"):
            setattr(total, name, getattr(total, name) + getattr(batch, name))
        total.drifts += batch.drifts
        if batch.rows_read and self.newest is not None:
            self.lag = max(0.0, (datetime.now(UTC) - self.newest).total_seconds())
        elif not batch.rows_read:
            self.lag = 0.0  # a heartbeat: nothing at the source is waiting
        if self.progress is not None:
            self.progress(StreamStatus(total.rows_read, self.lag))
        if time.monotonic() - self._saved_at >= SAVE_EVERY_SECONDS:
            self.save("running")
        self.unreported = self.unreported or batch.rows_read > 0
        if self.unreported and time.monotonic() - self._reported_at >= LANDED_EVERY_SECONDS:
            self.report_landed(final=False)

    def report_landed(self, *, final: bool) -> None:
        self.unreported, self._reported_at = False, time.monotonic()
        if self.on_landed is not None:
            self.on_landed(self.total.rows_read, final)

    def snapshot_progress(self, rows: int) -> None:
        if self.progress is not None:
            self.progress(StreamStatus(rows, None))

    def save(self, status: str) -> SyncRun:
        unsaved = replace(self.total, drifts=self.total.drifts[self._saved_drifts:])
        self._saved_drifts = len(self.total.drifts)
        self._saved_at = time.monotonic()
        return jobs.finish_run(self.registry, self.run_id, result=unsaved,
                               lag_seconds=self.lag, status=status)
