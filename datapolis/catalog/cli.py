"""CLI verbs of the catalog: `datapolis catalog standards seed`, `entries list/show`, `export`.

They open the registry named by the settings directly, like the identity verbs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from datapolis.catalog import service, standards
from datapolis.catalog.enums import LABELS, CatalogType, EntryStatus
from datapolis.catalog.schemas import EntryPublic
from datapolis.catalog.versions import diff_snapshots, list_versions
from datapolis.orgs import service as orgs_service
from datapolis.orgs.cli import registry_session

app = typer.Typer(help="The resource catalog (政务信息资源目录) and its data standards.",
                  no_args_is_help=True)
standards_app = typer.Typer(help="Code tables and data elements.", no_args_is_help=True)
entries_app = typer.Typer(help="Catalog entries.", no_args_is_help=True)
app.add_typer(standards_app, name="standards")
app.add_typer(entries_app, name="entries")

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
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        console.print(f"{len(data)} entries written to {output}")
