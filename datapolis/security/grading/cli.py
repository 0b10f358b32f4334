"""`datapolis security`: the classification scheme and field grades at the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from datapolis.catalog import service as catalog_service
from datapolis.catalog.versions import Actor
from datapolis.errors import UserError
from datapolis.orgs.cli import cli_actor, err_console, registry_session
from datapolis.security.grading import scheme, service

app = typer.Typer(help="Data security: classification scheme and field grades (分类分级).",
                  no_args_is_help=True)
scheme_app = typer.Typer(help="The classification scheme: sectors and businesses.",
                         no_args_is_help=True)
app.add_typer(scheme_app, name="scheme")
console = Console()

FormatOption = Annotated[str, typer.Option("--format", "-f", help="yaml or json.")]


@scheme_app.command("list")
def list_scheme() -> None:
    """Sectors and their businesses."""
    with registry_session() as session:
        sectors = scheme.list_sectors(session)
        table = Table("code", "name", "English name")
        for sector in sectors:
            table.add_row(sector.code, f"[bold]{sector.name}[/]", sector.name_en or "")
            for business in sector.children:
                table.add_row(business.code, f"  └ {business.name}", business.name_en or "")
    if not sectors:
        console.print("no scheme yet: `datapolis security scheme seed` loads the default")
        return
    console.print(table)


@scheme_app.command("export")
def export(fmt: FormatOption = "yaml",
           output: Annotated[Path | None, typer.Option("--output", "-o")] = None) -> None:
    """Write the scheme as YAML or JSON (stdout, or a file)."""
    with registry_session() as session:
        try:
            text = scheme.dump(scheme.export_scheme(session), fmt)
        except UserError as exc:
            err_console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(1) from None
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")


@scheme_app.command("import")
def import_(path: Path,
            replace: Annotated[bool, typer.Option(
                help="Also remove categories the file leaves out.")] = False) -> None:
    """Import a YAML or JSON scheme: categories added or renamed by code."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        err_console.print(f"[red]error:[/] cannot read {path}: {exc}")
        raise typer.Exit(1) from None
    with registry_session() as session:
        report = scheme.import_scheme(session, scheme.load(text), actor=cli_actor(),
                                      replace=replace, via="cli")
    console.print(f"added {len(report.added)}, updated {len(report.updated)}, "
                  f"removed {len(report.removed)} categories")


@scheme_app.command("seed")
def seed() -> None:
    """Load the default city-government scheme into an empty registry."""
    with registry_session() as session:
        report = scheme.seed_default(session, actor=cli_actor())
    if report is None:
        console.print("a scheme is already there; nothing changed")
    else:
        console.print(f"loaded the default scheme: {len(report.added)} categories")


@app.command("grades")
def grades(resource_code: str) -> None:
    """An entry's field grades: suggestion, confirmed grade, who and when; the table grade."""
    with registry_session() as session:
        grading = service.entry_grading(session, catalog_service.get_entry(session,
                                                                            resource_code))
        table = Table("item", "column", "suggested", "confidence", "confirmed", "by", "at")
        for row in grading.items:
            table.add_row(row.item.name, row.item.column_name or "",
                          f"{row.suggestion.grade} ({row.suggestion.kind})",
                          f"{row.suggestion.confidence:.0%}", row.grade or "—",
                          row.stored.confirmed_by or "" if row.stored else "",
                          row.stored.confirmed_at.isoformat(timespec="seconds")
                          if row.stored and row.stored.confirmed_at else "")
        console.print(table)
        console.print(f"table grade: {grading.grade or '—'} · unconfirmed: {grading.unconfirmed}")


@app.command("confirm")
def confirm(
    resource_code: str,
    grade: Annotated[list[str] | None, typer.Option(
        "--grade", help="ITEM=GRADE (core, important, L1–L4); repeatable.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Confirm every open suggestion.")] = False,
) -> None:
    """Confirm or change field grades of an entry as the operator."""
    decisions: dict[str, str | None] = {}
    for given in grade or []:
        item, sep, value = given.partition("=")
        if not sep or not item.strip():
            err_console.print(f"[red]error:[/] --grade {given!r} must read ITEM=GRADE")
            raise typer.Exit(1)
        decisions[item.strip()] = value.strip()
    actor = Actor(cli_actor())
    with registry_session() as session:
        entry = catalog_service.get_entry(session, resource_code)
        done = service.confirm_all(session, entry, actor, via="cli") if all_ else []
        if decisions:
            done += service.confirm(session, entry, decisions, actor, via="cli")
    console.print(f"confirmed {len(done)} field grades of {resource_code}")
