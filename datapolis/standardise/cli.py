"""`datapolis std ...`: build standardised tables from ods, list specs and past builds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from datapolis.config import get_settings
from datapolis.errors import UserError
from datapolis.ingest.service import secrets_keyring
from datapolis.orgs.cli import cli_actor
from datapolis.registry.db import Registry, open_registry
from datapolis.standardise import build as std_build
from datapolis.standardise.spec import get_spec, load_specs
from datapolis.standardise.transforms import list_transforms
from datapolis.warehouse import DuckDBEngine

app = typer.Typer(help="Standardisation (治理层): std tables rebuilt from ods by spec.",
                  no_args_is_help=True)
console = Console()


@contextmanager
def stores() -> Iterator[tuple[Registry, DuckDBEngine]]:
    settings = get_settings()
    registry = open_registry(settings.registry_url, create=False)
    try:
        warehouse = DuckDBEngine(settings.warehouse_file)
        try:
            yield registry, warehouse
        finally:
            warehouse.close()
    finally:
        registry.close()


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(),
                    TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                    console=console, transient=True)


@app.command("build")
def build(
    table: Annotated[str | None, typer.Argument(help="std table, e.g. gaj_czrk")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every spec whose sources landed")] = False,
) -> None:
    """Rebuild std tables from ods (atomic: a failure keeps the previous table)."""
    if (table is None) == (not all_):
        raise UserError("name one std table or pass --all")
    settings = get_settings()
    specs = load_specs(settings.home)
    todo = list(specs.values()) if all_ else [get_spec(specs, table or "")]
    report = Table("table", "rows in", "rows out", "rows changed", "deduplicated", "seconds")
    failed = []
    with stores() as (registry, warehouse), progress_bar() as bar:
        with registry.session() as session:
            codes = std_build.load_code_tables(session)
        task = bar.add_task("std", total=len(todo))
        for spec in todo:
            bar.update(task, description=spec.table)
            try:
                done = std_build.build(registry, warehouse, spec, trigger="cli",
                                       keyring=secrets_keyring(settings), code_tables=codes,
                                       actor=cli_actor())
            except UserError as exc:
                if not all_:
                    raise
                failed.append(f"{spec.table}: {exc}")
            else:
                report.add_row(done.table, f"{done.rows_in:,}", f"{done.rows_out:,}",
                               f"{done.rows_changed:,}", f"{done.details['deduplicated']:,}",
                               f"{done.seconds:.2f}")
            bar.advance(task)
    console.print(report)
    for line in failed:
        console.print(f"[yellow]skipped[/] {line}")


@app.command("specs")
def specs() -> None:
    """List the specs (shipped and <home>/standardise/*.json) and the transforms."""
    table = Table("std table", "title", "sources", "columns", "dedupe key")
    for spec in load_specs(get_settings().home).values():
        table.add_row(spec.target, spec.title, ", ".join(spec.sources),
                      ", ".join(spec.columns), ", ".join(spec.dedupe.key) if spec.dedupe else "")
    console.print(table)
    transforms = Table("transform", "what it does")
    for transform in list_transforms():
        transforms.add_row(transform.name, transform.help)
    console.print(transforms)


@app.command("history")
def history(table: Annotated[str | None, typer.Argument()] = None,
            limit: int = 20) -> None:
    """Recent std and base builds with their counts."""
    report = Table("id", "table", "trigger", "status", "started", "rows in", "rows out",
                   "changed", "seconds", "error")
    with stores() as (registry, _), registry.session() as session:
        for b in std_build.history(session, table, limit):
            report.add_row(str(b.id), b.warehouse_table, b.trigger, b.status,
                           f"{b.started_at:%Y-%m-%d %H:%M:%S}", _n(b.rows_in), _n(b.rows_out),
                           _n(b.rows_changed), f"{b.seconds or 0:.2f}", b.error or "")
    console.print(report)


def _n(value: int | None) -> str:
    return "" if value is None else f"{value:,}"
