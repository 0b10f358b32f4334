"""`datapolis source ...`: register department systems, test them, browse and choose tables."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from datapolis.config import get_settings
from datapolis.errors import UserError
from datapolis.ingest import jobs, service, stream
from datapolis.ingest.sources.registry import get_kind, list_kinds
from datapolis.orgs.cli import cli_actor
from datapolis.orgs.service import get_organisation
from datapolis.registry.db import open_registry
from datapolis.security.audit import service as audit
from datapolis.warehouse import DuckDBEngine

app = typer.Typer(help="Department systems the data highway reads from.", no_args_is_help=True)
console = Console()


@contextmanager
def _session() -> Iterator[Session]:
    registry = open_registry(get_settings().registry_url, create=False)
    try:
        with registry.session() as session:
            audit.act_as(session, cli_actor(), None)
            yield session
    finally:
        registry.close()


def _pairs(values: list[str], what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise UserError(f"{what} {value!r} must look like NAME=VALUE")
        pairs[key.strip()] = text
    return pairs


@app.command("kinds")
def kinds() -> None:
    """List the kinds of source this platform can read."""
    table = Table("kind", "label", "options", "secrets")
    for kind in list_kinds():
        table.add_row(kind.name, kind.label, ", ".join(kind.option_fields),
                      ", ".join(kind.secret_fields))
    console.print(table)


@app.command("add")
def add(
    code: Annotated[str, typer.Argument(help="Stable code, e.g. 371300_gaj_hjxt")],
    org: Annotated[str, typer.Option(help="Code of the department that owns the system")],
    kind: Annotated[str, typer.Option(help="Source kind (see `datapolis source kinds`)")],
    name: Annotated[str, typer.Option(help="Display name, e.g. 户籍管理系统")] = "",
    option: Annotated[list[str] | None, typer.Option(help="NAME=VALUE, repeatable")] = None,
    secrets_stdin: Annotated[bool, typer.Option(
        "--secrets-stdin", help="Read the secrets as a JSON object from standard input")] = False,
) -> None:
    """Register a source. Secrets are prompted for (hidden) or read from stdin, never argv."""
    source_kind = get_kind(kind)
    if secrets_stdin:
        loaded = json.loads(sys.stdin.read() or "{}")
        if not isinstance(loaded, dict):
            raise UserError("--secrets-stdin expects a JSON object such as {\"password\": \"...\"}")
        secrets = {str(k): str(v) for k, v in loaded.items()}
    else:
        secrets = {}
        for field in source_kind.secret_fields:
            value = typer.prompt(f"{field} (empty for none)", default="", hide_input=True,
                                 show_default=False)
            if value:
                secrets[field] = value
    settings = get_settings()
    with _session() as session:
        source = service.add_source(
            session, keyring=service.secrets_keyring(settings),
            org=get_organisation(session, org), code=code, name=name, kind=kind,
            options=_pairs(option or [], "option"), secrets=secrets,
        )
        console.print(f"registered source [bold]{source.code}[/] ({source.kind}) "
                      f"for {source.org.name}")


@app.command("list")
def list_() -> None:
    """List registered sources."""
    table = Table("code", "name", "kind", "department", "chosen tables")
    with _session() as session:
        for source in service.list_sources(session):
            table.add_row(source.code, source.name, source.kind, source.org.name,
                          str(len(source.tables)))
    console.print(table)


@app.command("test")
def test(code: str) -> None:
    """Connect to a source and report what answered."""
    settings = get_settings()
    with _session() as session:
        answer = service.test_source(service.get_source(session, code),
                                     service.secrets_keyring(settings))
    console.print(f"[green]ok[/] {code}: {answer}")


@app.command("tables")
def tables(
    code: str,
    choose: Annotated[list[str] | None, typer.Option(
        help="Choose this table for the highway (repeatable)")] = None,
) -> None:
    """Browse a source's tables with their comments; --choose adds tables to the highway."""
    keyring = service.secrets_keyring(get_settings())
    with _session() as session:
        source = service.get_source(session, code)
        if choose:
            for choice in service.choose_tables(session, source=source, keyring=keyring,
                                                names=choose):
                console.print(f"chose {choice.name} → {choice.target_table}")
            return
        chosen = {choice.name: choice.target_table for choice in source.tables}
        table = Table("table", "comment", "primary key", "rows (est.)", "lands in")
        for item in service.browse_tables(source, keyring):
            rows = "" if item.rows_estimate is None else f"{item.rows_estimate:,}"
            table.add_row(item.name, item.comment or "", ", ".join(item.primary_key), rows,
                          chosen.get(item.name, ""))
        console.print(table)


sync_app = typer.Typer(help="Sync jobs: define, run once, and see their status.",
                       no_args_is_help=True)


@sync_app.command("add")
def sync_add(
    source: Annotated[str, typer.Argument(help="Source code")],
    table: Annotated[str, typer.Argument(help="Chosen source table, e.g. public.czrk")],
    mode: Annotated[str, typer.Option(help="snapshot, incremental or cdc")] = "snapshot",
    cursor: Annotated[str | None, typer.Option(help="Cursor column (incremental)")] = None,
    overlap: Annotated[int, typer.Option(
        help="Re-read margin: seconds for time cursors, ids for numeric ones")] = 0,
    deletes: Annotated[str, typer.Option(help="soft or hard (cdc)")] = "soft",
    schedule: Annotated[str | None, typer.Option(help="'every 5m' or a cron line")] = None,
    code: Annotated[str | None, typer.Option(help="Job code [default: source.table]")] = None,
) -> None:
    """Define how a chosen table syncs."""
    with _session() as session:
        chosen = {c.name: c for c in service.get_source(session, source).tables}
        if table not in chosen:
            raise UserError(f"{table} is not chosen for {source}: "
                            f"run `datapolis source tables {source} --choose {table}` first")
        job = jobs.create_job(session, table=chosen[table], mode=mode, code=code,
                              cursor_column=cursor, overlap_seconds=overlap,
                              delete_mode=deletes, schedule=schedule)
        console.print(f"job [bold]{job.code}[/]: {job.mode} {table} → {job.table.target_table}")


@sync_app.command("run")
def sync_run(
    job: str,
    until_idle: Annotated[float | None, typer.Option(
        help="cdc jobs: stop after this many seconds without a change [default: until Ctrl-C]",
    )] = None,
) -> None:
    """Run a job once, with a progress bar of rows and rows/s; a cdc job streams (rows, lag)."""
    settings = get_settings()
    registry = open_registry(settings.registry_url, create=False)
    warehouse = DuckDBEngine(settings.warehouse_file)
    context = jobs.RunContext.from_settings(settings, registry, warehouse)
    columns = (TextColumn("{task.description}"), SpinnerColumn(),
               TextColumn("{task.completed:,.0f} rows"), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn())
    try:
        with _session() as session:
            found = jobs.get_job(session, job)
            streaming = found.mode == "cdc"
            audit.record(session, kind="job.run_requested", org=found.table.source.org.code,
                         details={"job": job, "via": "cli"})
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(job, total=None, rate="")
            started = time.monotonic()

            def progress(rows: int) -> None:
                rate = rows / max(time.monotonic() - started, 1e-6)
                bar.update(task, completed=rows, rate=f"{rate:,.0f} rows/s")

            def streamed(status: stream.StreamStatus) -> None:
                lag = "" if status.lag_seconds is None else f"lag {status.lag_seconds:,.1f} s"
                bar.update(task, completed=status.rows, rate=lag)

            if streaming:
                run = stream.run_stream(context, job, stop_after_idle=until_idle,
                                        progress=streamed)
            else:
                run = jobs.run_job(context, job, progress)
    finally:
        warehouse.close()
        registry.close()
    seconds = (run.ended_at - run.started_at).total_seconds() if run.ended_at else 0.0
    console.print(f"[green]{job}[/]: read {run.rows_read:,} rows in {seconds:.1f} s — "
                  f"{run.inserted:,} inserted, {run.updated:,} updated, {run.deleted:,} deleted")


@sync_app.command("release")
def sync_release(
    job: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """cdc jobs: drop the job's PostgreSQL slot and publication and forget its offset; the
    next run starts over with a new initial snapshot."""
    settings = get_settings()
    with _session() as session:
        streaming = jobs.get_job(session, job).mode == "cdc"
    if not streaming:
        raise UserError(f"job {job} does not stream; only cdc jobs hold anything to release")
    if not yes:
        typer.confirm(f"Release {job}? Its next run starts over with a full snapshot",
                      abort=True)
    registry = open_registry(settings.registry_url, create=False)
    warehouse = DuckDBEngine(settings.warehouse_file)
    try:
        stream.release(jobs.RunContext.from_settings(settings, registry, warehouse), job)
    finally:
        warehouse.close()
        registry.close()
    with _session() as session:
        audit.record(session, kind="job.released", details={"job": job})
    console.print(f"[green]{job}[/]: released; the next run starts with a new snapshot")


@sync_app.command("status")
def sync_status() -> None:
    """Every job with its last run."""
    table = Table("job", "mode", "lands in", "last run", "status", "rows", "lag",
                  "schema changes", "error")
    with _session() as session:
        for job in jobs.list_jobs(session):
            last = job.runs[0] if job.runs else None
            lag = "" if last is None or last.lag_seconds is None else f"{last.lag_seconds:.0f} s"
            table.add_row(
                job.code, job.mode, job.table.target_table,
                last.started_at.strftime("%Y-%m-%d %H:%M:%S") if last else "never",
                last.status if last else "", f"{last.rows_read:,}" if last else "", lag,
                str(len(jobs.schema_changes(session, job))),
                (last.error or "")[:60] if last else "",
            )
    console.print(table)


@sync_app.command("drift")
def sync_drift(job: str) -> None:
    """Every schema change a job has seen at its source."""
    table = Table("seen", "column", "change", "from", "to")
    with _session() as session:
        for change in jobs.schema_changes(session, jobs.get_job(session, job)):
            table.add_row(change.seen_at.strftime("%Y-%m-%d %H:%M:%S"), change.column,
                          change.change, change.old_type or "", change.new_type or "")
    console.print(table)
