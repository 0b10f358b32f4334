"""`datapolis demo ...`: build and inspect the demo city."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text
from sqlalchemy import func, select

from datapolis.baselib import service as baselib_service
from datapolis.catalog import autoregister
from datapolis.config import Settings, get_settings
from datapolis.demo import catalog as demo_catalog
from datapolis.demo import highway, servers
from datapolis.demo import quality as demo_quality
from datapolis.demo import sharing as demo_sharing
from datapolis.demo import traffic as demo_traffic
from datapolis.demo.build import build_demo
from datapolis.demo.city import seed_registry
from datapolis.demo.manifest import MANIFEST, Manifest
from datapolis.demo.systems import all_systems
from datapolis.errors import UserError
from datapolis.ingest.jobs import RunContext
from datapolis.orgs.models import Organisation
from datapolis.registry import migrate
from datapolis.registry.db import Registry, open_registry
from datapolis.sharing.monitoring import monitor
from datapolis.sharing.monitoring.alerts import Rules as AlertRules
from datapolis.standardise import hook as std_hook
from datapolis.warehouse import DuckDBEngine

app = typer.Typer(
    help="The demo city: a synthetic Linyi (临沂市) whose departments run real databases.",
    no_args_is_help=True,
)
console = Console()
errors = Console(stderr=True)


class _RowsColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed or 0.0
        total = int(task.total or 0)
        return Text(f"{int(task.completed):,}/{total:,} rows  {speed:,.0f} rows/s",
                    style="progress.data.speed")


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _parse_urls(values: list[str], option: str = "--source-url", what: str = "URL",
                redact: bool = False) -> dict[str, str]:
    urls: dict[str, str] = {}
    for value in values:
        system, sep, url = value.partition("=")
        if not sep or not system or not url:
            shown = "" if redact else f", got {value!r}"
            raise UserError(f"{option} wants SYSTEM={what}{shown}")
        urls[system.strip()] = url.strip()
    return urls


@app.command()
def build(
    people: Annotated[int | None, typer.Option(
        help="Number of persons [default: DATAPOLIS_DEMO_PEOPLE].")] = None,
    seed: Annotated[int | None, typer.Option(
        help="Random seed; one seed always builds the same city [default: DATAPOLIS_DEMO_SEED]."
    )] = None,
    out: Annotated[Path | None, typer.Option(
        help="Output directory [default: <DATAPOLIS_HOME>/demo].")] = None,
    replace: Annotated[bool, typer.Option(help="Rebuild over an existing demo.")] = False,
    if_absent: Annotated[bool, typer.Option(
        help="Do nothing (and succeed) when a demo already exists.")] = False,
    source_url: Annotated[list[str] | None, typer.Option(
        help="Put a system into a database instead of SQLite: SYSTEM=URL (repeatable), e.g. "
        "gaj_hjxt=postgresql://postgres@127.0.0.1/gaj")] = None,
    stream_server: Annotated[str | None, typer.Option(
        help=f"Put {servers.STREAMED_SYSTEM} into a database of the demo's own on this server "
        "(e.g. postgresql://postgres@127.0.0.1:5432), so that it streams by cdc; when the "
        "server cannot be reached it stays in SQLite.")] = None,
) -> None:
    """Build the department systems, the GBK files and the truth of the demo city."""
    try:
        settings = get_settings()
        out_dir = out or settings.demo_dir
        # The registry is checked first, so a build never ends without its organisations.
        registry = _migrated_registry(settings)
        if if_absent and (out_dir / MANIFEST).is_file():
            console.print(f"A demo already exists at {out_dir}; nothing to build.", soft_wrap=True)
            _seed(registry)
            return
        urls = _parse_urls(source_url or [])
        if stream_server and servers.STREAMED_SYSTEM not in urls:
            prepared = servers.prepare(stream_server, out_dir,
                                       all_systems()[servers.STREAMED_SYSTEM].tables)
            console.print(prepared.note, soft_wrap=True, highlight=False)
            if prepared.url:
                urls[servers.STREAMED_SYSTEM] = prepared.url
        columns = (TextColumn("{task.description}"), BarColumn(), _RowsColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("generating", total=None)

            def progress(label: str, done: int, total: int) -> None:
                bar.update(task, description=label, completed=done, total=total)

            manifest = build_demo(out_dir=out_dir,
                                  people=settings.demo_people if people is None else people,
                                  seed=settings.demo_seed if seed is None else seed,
                                  source_urls=urls, progress=progress, replace=replace)
    except UserError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        raise _fail("interrupted; the demo was not written", 130) from None
    rate = manifest.rows / manifest.build_seconds if manifest.build_seconds else 0.0
    console.print(f"Built the demo city at [bold]{out_dir}[/bold]: {manifest.people:,} persons, "
                  f"{manifest.rows:,} rows in {manifest.build_seconds:.1f} s "
                  f"({rate:,.0f} rows/s).", soft_wrap=True)
    _seed(registry)


def _migrated_registry(settings: Settings) -> Registry:
    registry = open_registry(settings.registry_url, create=False)
    if migrate.current_revision(registry) != migrate.head_revision():
        registry.close()
        raise UserError("the registry is not migrated: run `datapolis db upgrade` first")
    return registry


def _seed(registry: Registry) -> None:
    """Put the city's organisations and demo users into the registry (idempotent)."""
    try:
        with registry.session() as session:
            before = session.scalar(select(func.count()).select_from(Organisation)) or 0
            logins = seed_registry(session)
            after = session.scalar(select(func.count()).select_from(Organisation)) or 0
    finally:
        registry.close()
    if after > before:
        console.print(f"Registered {after - before} organisations of 临沂市 and "
                      f"{len(logins)} demo users in the registry.")


@app.command()
def info(
    out: Annotated[Path | None, typer.Option(
        help="Demo directory [default: <DATAPOLIS_HOME>/demo].")] = None,
) -> None:
    """Show what the demo holds: systems, where they live, tables and row counts."""
    try:
        out_dir = out or get_settings().demo_dir
        manifest = Manifest.load(out_dir)
    except UserError as exc:
        raise _fail(str(exc)) from None
    console.print(f"Demo city at [bold]{out_dir}[/bold]: seed {manifest.seed}, "
                  f"{manifest.people:,} persons, as of {manifest.as_of}, built "
                  f"{manifest.built_at} in {manifest.build_seconds:.1f} s", soft_wrap=True)
    table = Table("system", "title", "department", "storage", "location", "table", "rows")
    for system in manifest.systems:
        for i, (name, rows) in enumerate(system.tables.items()):
            first = i == 0
            table.add_row(system.name if first else "", system.title if first else "",
                          system.department if first else "", system.storage if first else "",
                          system.url if first else "", name, f"{rows:,}")
    table.add_row("total", "", "", "", "", "", f"{manifest.rows:,}", style="bold")
    console.print(table)
    truth = ", ".join(f"{k} {v:,}" for k, v in manifest.truth.items())
    console.print(f"Truth (Parquet under truth/): {truth}", soft_wrap=True)


@app.command()
def land(
    out: Annotated[Path | None, typer.Option(
        help="Demo directory [default: <DATAPOLIS_HOME>/demo].")] = None,
    rerun: Annotated[bool, typer.Option(
        help="Run every batch job again, also those that already succeeded.")] = False,
    password: Annotated[list[str] | None, typer.Option(
        help="Password of a database system, SYSTEM=PASSWORD (repeatable); the manifest keeps "
        "database URLs without their passwords.")] = None,
) -> None:
    """Land every demo department through the data highway: register sources, choose all
    tables, create jobs (snapshot, incremental, cdc) and run the batch jobs once."""
    try:
        settings = get_settings()
        out_dir = out or settings.demo_dir
        manifest = Manifest.load(out_dir)
        passwords = _parse_urls(password or [], "--password", "PASSWORD", redact=True)
        unknown = sorted(set(passwords) - {system.name for system in manifest.systems})
        if unknown:
            raise UserError(f"--password: the demo has no system {', '.join(unknown)}")
        registry = _migrated_registry(settings)
    except UserError as exc:
        raise _fail(str(exc)) from None
    warehouse = DuckDBEngine(settings.warehouse_file)
    try:
        context = RunContext.from_settings(settings, registry, warehouse)
        with registry.session() as session:
            plan = highway.ensure(session, manifest, out_dir, context.keyring, passwords)
            todo = highway.jobs_to_run(session, plan, rerun)
            streams = highway.streams_to_start(session, plan)
        autoregister.install()  # landed tables become draft catalog entries (idempotent)
        std_hook.install()  # ... and rebuild the std tables that read them
        outcomes = _run_with_progress(context, plan, todo + streams, frozenset(streams))
        with registry.session() as session:
            curated = demo_catalog.curate(session, manifest, out_dir)
        started = time.monotonic()
        bases = baselib_service.build_all(registry, warehouse, trigger="demo",
                                          keyring=context.keyring)
        base_seconds = time.monotonic() - started
        quality = demo_quality.run(registry, warehouse)  # rules, checks, issues, a few moves
        shared = demo_sharing.run(registry)  # applications and grants between departments
        traffic = demo_traffic.generate(settings, registry, warehouse)  # calls to monitor
        with registry.session() as session:  # so the monitoring pages show it from the start
            monitor.run_once(session, AlertRules.from_settings(settings), max_hours=None)
    except UserError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        raise _fail("interrupted; finished runs are kept, the others run next time", 130) \
            from None
    finally:
        warehouse.close()
        registry.close()
    _report_land(plan, todo, streams, outcomes)
    _report_catalog(curated)
    console.print("Base libraries: " + ", ".join(
        f"{b.table} {b.rows_out:,} records ({b.conflicts:,} conflicts)" for b in bases)
        + f" in {base_seconds:.1f} s.", soft_wrap=True, highlight=False)
    console.print(f"Quality: {quality.rules} rules on {quality.runs} tables checked, "
                  f"{quality.issues} issues (问题工单), {quality.moved} moved by department "
                  "users.", soft_wrap=True, highlight=False)
    console.print(f"Sharing: {len(shared.applications)} applications, {len(shared.granted)} "
                  f"granted ({len(shared.revoked)} since revoked), {len(shared.rejected)} "
                  f"rejected, {len(shared.waiting)} waiting for the provider.", soft_wrap=True,
                  highlight=False)
    if traffic.existing:
        console.print(f"Interface calls: {traffic.existing:,} call records already there.",
                      soft_wrap=True, highlight=False)
    else:
        console.print(f"Interface calls: {traffic.live:,} signed calls through the gateway "
                      f"on {traffic.grants} grants, {traffic.history:,} earlier calls recorded.",
                      soft_wrap=True, highlight=False)
    if any(outcome.error for outcome in outcomes):
        raise typer.Exit(1)


def _run_with_progress(context: RunContext, plan: highway.Plan, todo: list[str],
                       streams: frozenset[str]) -> list[highway.Outcome]:
    if not todo:
        return []
    columns = (TextColumn("{task.description}"), BarColumn(), _RowsColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        total = sum(plan.expected_rows.get(code, 0) for code in todo)
        task = bar.add_task("landing", total=total or None)
        before = 0
        current = ("", 0)

        def progress(code: str, rows: int) -> None:
            nonlocal before, current
            if code != current[0]:
                before += current[1]
            current = (code, rows)
            done = before + rows
            bar.update(task, description=code, completed=done, total=max(total, done))

        return highway.run_batch(context, todo, progress, streams)


def _report_land(plan: highway.Plan, todo: list[str], streams: list[str],
                 outcomes: list[highway.Outcome]) -> None:
    if plan.sources_added or plan.jobs_added:
        console.print(f"Registered {len(plan.sources_added)} sources, "
                      f"{len(plan.tables_added)} tables and {len(plan.jobs_added)} sync jobs.")
    else:
        console.print("Every demo system is already registered with its tables and jobs.")
    ran = [o for o in outcomes if o.run is not None]
    rows = sum(o.run.rows_read for o in ran if o.run is not None)
    seconds = sum((o.run.ended_at - o.run.started_at).total_seconds()
                  for o in ran if o.run is not None and o.run.ended_at)
    if outcomes:
        rate = rows / seconds if seconds else 0.0
        first = f" and the first run of {len(streams)} cdc jobs" if streams else ""
        console.print(f"Landed {len(ran)} of {len(outcomes)} jobs ({len(todo)} batch jobs{first}): "
                      f"{rows:,} rows in {seconds:.1f} s ({rate:,.0f} rows/s).", soft_wrap=True)
    else:
        console.print("Every job has already landed once; `--rerun` runs the batch jobs again.")
    for outcome in outcomes:
        if outcome.error:
            errors.print(f"[red]failed:[/red] {outcome.job}: {outcome.error}", highlight=False,
                         soft_wrap=True)
    if plan.cdc_jobs:
        count = f"{len(plan.cdc_jobs)} cdc job" + ("s" if len(plan.cdc_jobs) > 1 else "")
        console.print(f"{count} ({', '.join(plan.cdc_jobs)}) stream on under "
                      "`datapolis serve`, or once with `datapolis sync run JOB --until-idle 5`.",
                      soft_wrap=True)
    elif plan.cdc_note:
        console.print(f"[yellow]cdc skipped:[/yellow] {plan.cdc_note}.", soft_wrap=True)


def _report_catalog(curated: demo_catalog.Curated) -> None:
    if curated.published or curated.submitted:
        console.print(f"Catalog: {len(curated.published)} entries published, "
                      f"{len(curated.submitted)} submitted for review.")
    for code, why in curated.not_ready.items():
        errors.print(f"[yellow]catalog:[/yellow] {code} stays a draft: {why}", highlight=False,
                     soft_wrap=True)
