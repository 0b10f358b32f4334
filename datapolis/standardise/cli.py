"""`datapolis std ...`: build standardised tables from ods, list specs and past builds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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
from datapolis.standardise import stored
from datapolis.standardise.spec import get_spec
from datapolis.standardise.transforms import list_transforms
from datapolis.warehouse import DuckDBEngine

app = typer.Typer(help="Standardisation (治理层): std tables rebuilt from ods by spec.",
                  no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


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


@contextmanager
def registry_only() -> Iterator[Registry]:
    registry = open_registry(get_settings().registry_url, create=False)
    try:
        yield registry
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
    report = Table("table", "rows in", "rows out", "rows changed", "deduplicated", "seconds")
    failed = []
    with stores() as (registry, warehouse), progress_bar() as bar:
        with registry.session() as session:
            codes = std_build.load_code_tables(session)
            specs = stored.effective_specs(session, settings.home)
        todo = list(specs.values()) if all_ else [get_spec(specs, table or "")]
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
    """List the specs (shipped, <home>/standardise/*.json, edited) and the transforms."""
    table = Table("std table", "origin", "title", "sources", "columns", "dedupe key")
    home = get_settings().home
    with registry_only() as registry, registry.session() as session:
        where = stored.origins(session, home)
        found = stored.effective_specs(session, home)
    for spec in found.values():
        table.add_row(spec.target, where.get(spec.target, ""), spec.title,
                      ", ".join(spec.sources), ", ".join(spec.columns),
                      ", ".join(spec.dedupe.key) if spec.dedupe else "")
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


spec_app = typer.Typer(help="One spec as JSON: show it, store edited ones, export them.",
                       no_args_is_help=True)
app.add_typer(spec_app, name="spec")


@spec_app.command("show")
def spec_show(target: Annotated[str, typer.Argument(help="std table, e.g. gaj_czrk")]) -> None:
    """Print the spec's JSON document (where it comes from on stderr)."""
    with registry_only() as registry, registry.session() as session:
        found = stored.document(session, get_settings().home, target)
    err_console.print(f"std.{found.target}: {found.origin}"
                      + (f", edited by {found.updated_by}" if found.updated_by else ""))
    typer.echo(json.dumps(found.body, ensure_ascii=False, indent=2))


@spec_app.command("import")
def spec_import(
    files: Annotated[list[Path], typer.Argument(help="spec JSON files (one spec each)",
                                                exists=True, dir_okay=False)],
) -> None:
    """Store specs in the registry, each replacing the spec with its target. All files are
    validated first (against the warehouse too, when it can be opened); one bad file stores
    none."""
    bodies = []
    for path in files:
        try:
            bodies.append(json.loads(path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{path.name}: not valid JSON: {exc}") from None
    settings = get_settings()
    with (registry_only() as registry,
          _warehouse_if_free(settings.warehouse_file) as warehouse,
          registry.session() as session):  # one transaction: a bad file stores none
        codes = std_build.load_code_tables(session)
        for path, body in zip(files, bodies, strict=True):
            target = str(body.get("target", "")) if isinstance(body, dict) else ""
            try:
                stored.save(session, body, target or path.stem, actor=cli_actor(),
                            code_tables=codes, warehouse=warehouse)
            except UserError as exc:
                raise UserError(f"{path.name}: {exc}") from None
    console.print(f"stored {len(files)} spec(s); they apply from the next build"
                  + ("" if warehouse else " (the warehouse is in use: source columns are "
                     "checked by the first build)"))


@spec_app.command("export")
def spec_export(
    out: Annotated[Path, typer.Argument(help="folder to write <target>.json files into")],
    target: Annotated[str | None, typer.Option(help="only this spec")] = None,
) -> None:
    """Write the effective specs as JSON files (ready to edit and import)."""
    home = get_settings().home
    out.mkdir(parents=True, exist_ok=True)
    with registry_only() as registry, registry.session() as session:
        names = [target] if target else sorted(stored.effective_specs(session, home))
        documents = [stored.document(session, home, name) for name in names]
    for found in documents:
        (out / f"{found.target}.json").write_text(
            json.dumps(found.body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {len(documents)} spec(s) to {out}")


@contextmanager
def _warehouse_if_free(path: Path) -> Iterator[DuckDBEngine | None]:
    """The warehouse when this process can open it; None while `datapolis serve` holds it."""
    try:
        warehouse = DuckDBEngine(path) if path.exists() else None
    except UserError:
        warehouse = None
    try:
        yield warehouse
    finally:
        if warehouse is not None:
            warehouse.close()
