"""`datapolis quality ...`: run a table's checks, list its rules, see suggestions, add one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from datapolis.config import get_settings
from datapolis.errors import UserError
from datapolis.ingest.schedules import LOCAL_ZONE
from datapolis.orgs.cli import err_console, registry_session
from datapolis.quality import schedules, service, suggest
from datapolis.quality.models import QualityRun
from datapolis.quality.schemas import RuleIn
from datapolis.registry.db import Registry, open_registry
from datapolis.warehouse import DuckDBEngine

app = typer.Typer(help="Data quality (数据质量): rules per table and checks.",
                  no_args_is_help=True)
console = Console()
CLI_ACTOR = "cli"


@contextmanager
def _stores() -> Iterator[tuple[Registry, DuckDBEngine]]:
    settings = get_settings()
    with registry_session():  # refuses an unmigrated registry with one line
        pass
    registry = open_registry(settings.registry_url, create=False)
    try:
        warehouse = DuckDBEngine(settings.warehouse_file)
    except UserError as exc:
        registry.close()
        err_console.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    try:
        yield registry, warehouse
    except UserError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        warehouse.close()
        registry.close()


def _percent(rate: float) -> str:
    return f"{rate * 100:.2f}%"


def print_run(run: QualityRun) -> None:
    mode = "changed rows only" if run.changed_only else "full"
    console.print(f"run {run.id} of {run.warehouse_table}: {run.status}, {run.rows or 0:,} rows, "
                  f"{mode}, {run.seconds or 0:.2f} s", highlight=False)
    report = Table("rule", "kind", "columns", "dimension", "severity", "checked", "failed",
                   "pass rate", "threshold", "result")
    for result in run.results:
        report.add_row(str(result.rule_id or "-"), result.kind, ", ".join(result.columns),
                       result.dimension, result.severity, f"{result.checked:,}",
                       f"{result.failed:,}", _percent(result.pass_rate),
                       _percent(result.threshold),
                       "[green]pass[/]" if result.passed else "[red]fail[/]")
    console.print(report)


@app.command("run")
def run(
    table: Annotated[str, typer.Argument(help="warehouse table, schema.table")],
    full: Annotated[bool, typer.Option("--full", help="Check every row, not only the changed "
                                       "ones")] = False,
) -> None:
    """Check a table against its enabled rules now and print the results."""
    with _stores() as (registry, warehouse):
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task(f"checking {table}", total=None)
            done = service.run_table(
                registry, warehouse, table, trigger="manual", changed_only=not full,
                progress=lambda step: bar.update(task, description=f"{table}: {step}"))
        with registry.session() as session:
            stored = service.get_run(session, done.id)
            if stored.status != "succeeded":
                raise UserError(f"run {stored.id} of {table} failed: {stored.error}")
            print_run(stored)
    if not stored.passed:
        raise typer.Exit(2)


@app.command("rules")
def rules(table: Annotated[str, typer.Argument(help="warehouse table, schema.table")]) -> None:
    """List the rules of a table."""
    with registry_session() as session:
        found = service.list_rules(session, table)
        listing = Table("id", "kind", "columns", "params", "dimension", "severity", "threshold",
                        "enabled", "by")
        for rule in found:
            listing.add_row(str(rule.id), rule.kind, ", ".join(rule.columns),
                            json.dumps(rule.params, ensure_ascii=False), rule.dimension,
                            rule.severity, _percent(rule.threshold), "yes" if rule.enabled
                            else "no", rule.created_by)
        console.print(listing if found else f"no rules for {table}")


@app.command("suggest")
def suggest_(
    table: Annotated[str, typer.Argument(help="warehouse table, schema.table")],
    accept: Annotated[bool, typer.Option("--accept", help="Add every suggestion as a rule")]
    = False,
) -> None:
    """Rules suggested from the catalog profile of a table; --accept adds them."""
    with registry_session() as session:
        found = suggest.suggest(session, table)
        listing = Table("kind", "columns", "params", "dimension", "why")
        for item in found:
            listing.add_row(item.kind, ", ".join(item.columns),
                            json.dumps(item.params, ensure_ascii=False), item.dimension.value,
                            item.reason)
            if accept:
                service.create_rule(session, table, RuleIn(
                    kind=item.kind, columns=item.columns, params=item.params),
                    actor=CLI_ACTOR, admin=True)
        console.print(listing if found else f"nothing to suggest for {table}")
        if accept and found:
            console.print(f"{len(found)} rules added to {table}")


@app.command("add")
def add(
    table: Annotated[str, typer.Argument(help="warehouse table, schema.table")],
    kind: Annotated[str, typer.Argument(help="rule kind, e.g. not_null, resident_id")],
    columns: Annotated[list[str] | None, typer.Argument(help="the column(s) it reads")] = None,
    params: Annotated[str, typer.Option("--params", help="JSON object of parameters")] = "{}",
    threshold: Annotated[float, typer.Option(help="pass rate the rule must reach")] = 1.0,
    severity: Annotated[str, typer.Option(help="info, warning or error")] = "warning",
) -> None:
    """Add a rule to a table (the operator is trusted as an admin: custom SQL allowed)."""
    with registry_session() as session:
        try:
            given = json.loads(params)
        except json.JSONDecodeError as exc:
            raise UserError(f"--params is not JSON: {exc}") from None
        if not isinstance(given, dict):
            raise UserError("--params must be a JSON object")
        try:
            data = RuleIn(kind=kind, columns=columns or [], params=given, threshold=threshold,
                          severity=severity)
        except ValueError as exc:
            raise UserError(str(exc).splitlines()[-1]) from None
        rule = service.create_rule(session, table, data, actor=CLI_ACTOR, admin=True)
        console.print(f"rule {rule.id} ({rule.kind}) added to {table}")


@app.command("schedule")
def schedule(
    table: Annotated[str, typer.Argument(help="warehouse table, schema.table")],
    when: Annotated[str | None, typer.Argument(
        help="`every 6h` or a cron line in Asia/Shanghai, e.g. '0 2 * * *'")] = None,
    off: Annotated[bool, typer.Option("--off", help="Keep the schedule but pause it")] = False,
    remove: Annotated[bool, typer.Option("--remove", help="Drop the schedule")] = False,
) -> None:
    """Check a table's rules on a schedule too (run by `datapolis serve`); without a
    schedule, show the table's."""
    with registry_session() as session:
        if remove:
            schedules.remove_schedule(session, table)
            console.print(f"{table}: no quality schedule any more")
            return
        item = schedules.get_schedule(session, table)
        if when is not None or off:
            text = when or (item.schedule if item else None)
            if text is None:
                raise UserError(f"{table} has no quality schedule to pause; give one")
            item = schedules.set_schedule(session, table, text, actor=CLI_ACTOR,
                                          enabled=not off)
        if item is None:
            raise UserError(f"{table} has no quality schedule")
        due = schedules.next_due(session, item) if item.enabled else None
        console.print(f"{table}: {item.schedule}"
                      + (f", next {due.astimezone(LOCAL_ZONE):%Y-%m-%d %H:%M} (Asia/Shanghai)"
                         if due else ", paused"))
