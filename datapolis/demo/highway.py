"""Land the demo city through the data highway: one source per department system, every table
chosen, one job per table, and the batch jobs run once.

Modes: `snapshot` for most tables; `incremental` for the grid-event status history
(`wgzx_sjxt.sjlz`, cursor `id`: its records are only ever appended, with increasing ids); `cdc`
for the tables of one system the demo put into PostgreSQL or MariaDB (`demo build
--source-url`). With every system in SQLite there is nothing to stream: the plan says so and
cdc is skipped. Idempotent: what exists is reused, and jobs that already succeeded run again
only with `rerun`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from datapolis.demo.city import seed_registry
from datapolis.demo.manifest import Manifest, SystemInfo
from datapolis.errors import Conflict, UserError
from datapolis.ingest import jobs, service, stream
from datapolis.ingest.errors import SourceError
from datapolis.ingest.models import Source, SourceTableChoice, SyncJob, SyncRun
from datapolis.orgs.service import get_organisation
from datapolis.warehouse.engine import WarehouseError

SNAPSHOT_SCHEDULE = "every 1h"
INCREMENTAL_SCHEDULE = "every 5m"
STREAM_IDLE_SECONDS = 1.0  # a first cdc run ends this long after its snapshot, if all is quiet
# (system, table) -> cursor column: append-only tables whose cursor only ever grows.
INCREMENTAL = {("wgzx_sjxt", "sjlz"): "id"}
DATABASE_STORAGE = ("postgresql", "mysql")
CDC_NEEDS_DATABASE = ("cdc needs a department system in PostgreSQL or MariaDB "
                      "(`datapolis demo build --source-url SYSTEM=URL`); every system here is "
                      "SQLite or files, so no cdc job was created")


def source_code(system: SystemInfo) -> str:
    """`gaj_hjxt` of 371300_gaj → `371300_gaj_hjxt`."""
    city = system.department.split("_", 1)[0]
    return f"{city}_{system.name}"


def source_kind_and_options(
    system: SystemInfo, out_dir: Path, password: str | None = None
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The highway source kind, options and secrets that read one demo system."""
    if system.storage == "files":
        return "csv", {"path": str((out_dir / system.url).resolve())}, {}
    if system.storage == "sqlite":
        return "sqlite", {"path": str((out_dir / system.url).resolve())}, {}
    if system.storage in DATABASE_STORAGE:
        url = make_url(system.url)
        options: dict[str, Any] = {"host": url.host or "127.0.0.1",
                                   "database": url.database or "",
                                   "user": url.username or ("postgres"
                                                            if system.storage == "postgresql"
                                                            else "root")}
        if url.port:
            options["port"] = url.port
        secret = password if password is not None else url.password
        secrets = {"password": str(secret)} if secret else {}
        return ("postgres" if system.storage == "postgresql" else "mysql"), options, secrets
    raise UserError(f"{system.name}: unknown demo storage {system.storage!r}")


def cdc_system(manifest: Manifest) -> SystemInfo | None:
    """The one system whose tables stream: the first in a database, preferring one without an
    incremental table (so that both modes are shown)."""
    candidates = [s for s in manifest.systems if s.storage in DATABASE_STORAGE]
    incremental = {name for name, _ in INCREMENTAL}
    candidates.sort(key=lambda s: s.name in incremental)
    return candidates[0] if candidates else None


@dataclass
class Plan:
    """What `ensure` registered (new things only) and what exists for the demo."""

    sources_added: list[str] = field(default_factory=list)
    tables_added: list[str] = field(default_factory=list)
    jobs_added: list[str] = field(default_factory=list)
    batch_jobs: list[str] = field(default_factory=list)  # every demo snapshot/incremental job
    cdc_jobs: list[str] = field(default_factory=list)
    cdc_note: str | None = None  # why cdc was skipped
    expected_rows: dict[str, int] = field(default_factory=dict)  # job -> rows in the manifest


def ensure(
    session: Session,
    manifest: Manifest,
    out_dir: Path,
    keyring: Any,
    passwords: Mapping[str, str] | None = None,
) -> Plan:
    """Register (once) a source per system, choose all its tables, and create their jobs."""
    seed_registry(session)
    plan = Plan()
    streaming = cdc_system(manifest)
    if streaming is None:
        plan.cdc_note = CDC_NEEDS_DATABASE
    for system in manifest.systems:
        code = source_code(system)
        source = session.scalar(select(Source).where(Source.code == code))
        if source is None:
            kind, options, secrets = source_kind_and_options(
                system, out_dir, (passwords or {}).get(system.name))
            source = service.add_source(
                session, keyring=keyring, org=get_organisation(session, system.department),
                code=code, name=system.title, kind=kind, options=options, secrets=secrets)
            plan.sources_added.append(code)
        chosen = {choice.name for choice in source.tables}
        names = [table.name for table in service.browse_tables(source, keyring)]
        plan.tables_added += [f"{code}:{n}" for n in names if n not in chosen]
        for choice in service.choose_tables(session, source=source, keyring=keyring,
                                            names=names):
            _ensure_job(session, plan, system, choice,
                        stream=streaming is not None and system.name == streaming.name)
    return plan


def _ensure_job(
    session: Session, plan: Plan, system: SystemInfo, choice: SourceTableChoice, *, stream: bool
) -> None:
    ods_name = choice.target_table.split(".", 1)[1]
    code = f"{choice.source.code}.{ods_name}"
    cursor = INCREMENTAL.get((system.name, ods_name))
    if stream and choice.primary_key:
        mode, schedule = "cdc", None
    elif cursor and choice.primary_key:
        mode, schedule = "incremental", INCREMENTAL_SCHEDULE
    else:
        mode, schedule, cursor = "snapshot", SNAPSHOT_SCHEDULE, None
    job = session.scalar(select(SyncJob).where(SyncJob.code == code))
    if job is None:
        job = jobs.create_job(session, table=choice, mode=mode, code=code, cursor_column=cursor,
                              schedule=schedule)
        plan.jobs_added.append(code)
    (plan.cdc_jobs if job.mode == "cdc" else plan.batch_jobs).append(code)
    plan.expected_rows[code] = system.tables.get(ods_name, 0)


def jobs_to_run(session: Session, plan: Plan, rerun: bool) -> list[str]:
    """Batch jobs without a succeeded run (every batch job with `rerun`)."""
    if rerun:
        return list(plan.batch_jobs)
    return _never_succeeded(session, plan.batch_jobs)


def streams_to_start(session: Session, plan: Plan) -> list[str]:
    """cdc jobs that never ran to the end of a stream: their initial snapshot lands here, so the
    catalog sees their tables before `serve` streams on from where it ended."""
    return _never_succeeded(session, plan.cdc_jobs)


def _never_succeeded(session: Session, codes: list[str]) -> list[str]:
    done = set(session.scalars(
        select(SyncJob.code).join(SyncRun, SyncRun.job_id == SyncJob.id)
        .where(SyncJob.code.in_(codes), SyncRun.status == "succeeded")))
    return [code for code in codes if code not in done]


@dataclass(frozen=True)
class Outcome:
    job: str
    run: SyncRun | None
    error: str | None = None


def run_batch(
    context: jobs.RunContext,
    codes: list[str],
    progress: Callable[[str, int], None] | None = None,
    streams: frozenset[str] = frozenset(),
) -> list[Outcome]:
    """Run each job once (the cdc jobs in `streams` until their source is idle); a failure is
    recorded on its run and reported, the others go on."""
    outcomes = []
    for code in codes:
        def report(rows: int, code: str = code) -> None:
            if progress is not None:
                progress(code, rows)

        def streamed(status: stream.StreamStatus, code: str = code) -> None:
            report(status.rows, code)

        try:
            run = (stream.run_stream(context, code, stop_after_idle=STREAM_IDLE_SECONDS,
                                     progress=streamed)
                   if code in streams else jobs.run_job(context, code, report))
            outcomes.append(Outcome(code, run))
        except (SourceError, WarehouseError, Conflict) as exc:
            outcomes.append(Outcome(code, None, str(exc).splitlines()[0] if str(exc) else
                                    type(exc).__name__))
    return outcomes
