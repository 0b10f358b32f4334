"""CLI verbs of the catalog: `datapolis catalog standards seed`, `entries list/show`, `export`.

They open the registry named by the settings directly, like the identity verbs.
"""

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

from datapolis.catalog import autoregister, bureau_cli, profiles, service, standards
from datapolis.catalog.enums import LABELS, CatalogType, EntryStatus
from datapolis.catalog.rules import cli as rules_cli
from datapolis.catalog.schemas import EntryPublic
from datapolis.catalog.versions import diff_snapshots, list_versions
from datapolis.config import get_settings
from datapolis.errors import UserError
from datapolis.orgs import service as orgs_service
from datapolis.orgs.cli import err_console, registry_session
from datapolis.registry.db import Registry
from datapolis.security.audit import service as audit
from datapolis.security.crypto import Keyring
from datapolis.warehouse.engine import Engine

app = typer.Typer(help="The resource catalog (政务信息资源目录) and its data standards.",
                  no_args_is_help=True)
standards_app = typer.Typer(help="Code tables and data elements.", no_args_is_help=True)
entries_app = typer.Typer(help="Catalog entries.", no_args_is_help=True)
app.add_typer(standards_app, name="standards")
app.add_typer(entries_app, name="entries")
app.add_typer(rules_cli.app, name="rules")
app.command("import")(bureau_cli.import_entries)
app.command("lists")(bureau_cli.export_list)
app.add_typer(bureau_cli.demands_app, name="demands")

console = Console(highlight=False, soft_wrap=True)


@standards_app.command("seed")
def seed() -> None:
    """Create or update the national code tables and common data elements (idempotent)."""
    with registry_session() as session:
        report = standards.seed_standards(session)
    console.print(
        f"code tables: {report.tables_created} created, {report.tables_updated} updated; "
        f"values: {report.values_added} added, {report.values_changed} changed, "
        f"{report.values_removed} removed; data elements: {report.elements_created} created, "
        f"{report.elements_updated} updated"
    )


@standards_app.command("list")
def list_standards() -> None:
    """List the code tables and data elements."""
    with registry_session() as session:
        tables = Table("code", "name", "standard", "values", title="Code tables")
        for table, count in standards.list_code_tables(session):
            tables.add_row(table.code, table.name, table.standard or "", str(count))
        elements = Table("code", "name", "type", "code table", title="Data elements")
        for element in standards.list_elements(session):
            elements.add_row(element.code, element.name, element.data_type.value,
                             element.code_table.code if element.code_table else "")
    console.print(tables)
    console.print(elements)


@entries_app.command("list")
def list_entries(
    provider: Annotated[str | None, typer.Option(help="Provider organisation code.")] = None,
    status: Annotated[EntryStatus | None, typer.Option(help="Only entries in this status.")]
    = None,
    kind: Annotated[CatalogType | None, typer.Option("--type", help="Catalog type.")] = None,
) -> None:
    """List catalog entries (every status: the operator sees everything)."""
    with registry_session() as session:
        org = orgs_service.get_organisation(session, provider) if provider else None
        entries = service.list_entries(session, provider_ids=None, provider=org, status=status,
                                       catalog_type=kind)
        table = Table("resource code", "name", "provider", "type", "status", "items",
                      title=f"Catalog entries ({len(entries)})")
        for entry in entries:
            table.add_row(entry.resource_code, entry.name, entry.provider.code,
                          LABELS[entry.catalog_type], entry.status.value, str(len(entry.items)))
    console.print(table)


@entries_app.command("show")
def show_entry(
    code: str,
    history: Annotated[bool, typer.Option("--history", help="Also list versions and changes.")]
    = False,
) -> None:
    """Show one entry as JSON (and, with --history, each version's changes)."""
    with registry_session() as session:
        entry = service.get_entry(session, code)
        console.print_json(EntryPublic.of(entry).model_dump_json())
        if history:
            previous: dict[str, object] = {}
            for version in list_versions(session, entry):
                console.print(f"version {version.number} {version.action} by {version.actor} "
                              f"at {version.created_at:%Y-%m-%d %H:%M:%S} UTC"
                              + (f": {version.comment}" if version.comment else ""))
                if previous:
                    for line in diff_snapshots(previous, version.snapshot).lines():
                        console.print(f"  {line}")
                previous = version.snapshot


@app.command("export")
def export(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default: stdout).")]
    = None,
    status: Annotated[EntryStatus | None, typer.Option(help="Only entries in this status.")]
    = None,
) -> None:
    """Export entries with their items as a JSON array."""
    with registry_session() as session:
        entries = service.list_entries(session, provider_ids=None, status=status)
        data = [EntryPublic.of(entry).model_dump(mode="json") for entry in entries]
        audit.record(session, kind="export.catalog", details={"format": "json",
                                                              "entries": len(data)})
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        console.print(f"{len(data)} entries written to {output}")


# --- profiling and auto-registration (autoregister.py) -------------------------------------


@contextmanager
def _warehouse_and_registry() -> Iterator[tuple[Engine, Registry, Keyring]]:
    from datapolis.ingest.service import secrets_keyring
    from datapolis.registry.db import open_registry
    from datapolis.warehouse import DuckDBEngine

    settings = get_settings()
    with registry_session():  # refuses an unmigrated registry with one line
        pass
    registry = open_registry(settings.registry_url, create=False)
    try:
        warehouse = DuckDBEngine(settings.warehouse_file)
    except UserError as exc:
        registry.close()
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    try:
        yield warehouse, registry, secrets_keyring(settings)
    except UserError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    finally:
        warehouse.close()
        registry.close()


@app.command("profile")
def profile(table: str) -> None:
    """Profile one warehouse table (schema.table) now and print each column's figures."""
    with _warehouse_and_registry() as (warehouse, registry, keyring):
        if not warehouse.table_exists(table):
            raise UserError(f"no table {table} in the warehouse")
        done = autoregister.register_table(registry, warehouse, table, keyring=keyring)
        with registry.session() as session:
            stored = profiles.get_profile(session, table)
            assert stored is not None
            shown = Table("column", "type", "null %", "distinct", "min", "max", "top values",
                          "patterns", "suggested element",
                          title=f"{table}: {stored.row_count:,} rows, profiled in "
                          f"{stored.seconds:.2f} s")
            for column in stored.columns:
                shown.add_row(
                    column.column_name, column.data_type, f"{column.null_share():.1%}",
                    "" if column.distinct_count is None else
                    f"{'' if column.distinct_exact else '≈'}{column.distinct_count:,}",
                    column.min_value or "", column.max_value or "",
                    ", ".join(f"{v} ({n:,})" for v, n in column.top_values),
                    ", ".join(f"{k} {v:.0%}" for k, v in column.pattern_shares().items()),
                    column.suggestions[0]["element_name"] if column.suggestions else "",
                )
    console.print(shown)
    if done.created:
        console.print(f"registered as draft entry {done.resource_code}")


@app.command("autoregister")
def autoregister_tables(
    tables: Annotated[list[str] | None, typer.Argument(help="schema.table, repeatable.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every table in ods_*, std and base.")]
    = False,
) -> None:
    """Register (once) and profile landed tables as draft catalog entries."""
    if not tables and not every:
        raise typer.BadParameter("name tables or pass --all")
    with _warehouse_and_registry() as (warehouse, registry, keyring):
        todo = autoregister.candidate_tables(warehouse) if every else list(tables or [])
        results = []
        columns = (TextColumn("{task.description}"), BarColumn(),
                   TextColumn("{task.completed}/{task.total} tables"), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("profiling", total=len(todo))
            for table in todo:
                bar.update(task, description=table)
                results.append(autoregister.register_table(registry, warehouse, table,
                                                           keyring=keyring))
                bar.advance(task)
    created = [r for r in results if r.created]
    for result in results:
        if result.skipped:
            console.print(f"skipped {result.table}: {result.skipped}")
        elif result.created:
            console.print(f"{result.table} → new draft entry {result.resource_code}")
        elif result.added_items:
            console.print(f"{result.table} → {result.resource_code}: new items "
                          + ", ".join(result.added_items))
    console.print(f"{len(results)} tables profiled, {len(created)} new draft entries")
