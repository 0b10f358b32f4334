"""CLI verbs for the bureau's lists, the supply–demand list and the bulk import:

    datapolis catalog import FILE [--user NAME] [--valid-only]
    datapolis catalog lists aggregation|sharing|open [--output FILE] [--provider CODE]
    datapolis catalog demands list [--status S]
    datapolis catalog demands export [--output FILE]
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from datapolis.catalog import xlsx_import
from datapolis.catalog.demands import service as demands
from datapolis.catalog.demands.models import DEMAND_LABELS, DemandStatus
from datapolis.catalog.demands.sheet import demand_sheet
from datapolis.catalog.lists import ListKind, build_list, city_name, list_sheet, zh
from datapolis.catalog.lists_api import today
from datapolis.catalog.sheets import write_workbook
from datapolis.catalog.versions import Actor
from datapolis.orgs import service as orgs_service
from datapolis.orgs.cli import err_console, registry_session
from datapolis.security.audit import service as audit

console = Console(highlight=False, soft_wrap=True)
demands_app = typer.Typer(help="The supply–demand list (供需清单).", no_args_is_help=True)


def import_entries(
    file: Annotated[Path, typer.Argument(help="The filled-in template (.xlsx).")],
    user: Annotated[str | None, typer.Option(
        "--user", help="Import as this user: the drafts are theirs, rows without a provider "
                       "code are their organisation's, and only their organisations are "
                       "allowed. Default: the operator, and every row names its provider.",
    )] = None,
    valid_only: Annotated[bool, typer.Option(
        "--valid-only", help="Import the rows without errors even when others have some.",
    )] = False,
) -> None:
    """Import catalog entries from the XLSX template; every row is checked first."""
    if not file.is_file():
        err_console.print(f"[red]error:[/] no file {file}")
        raise typer.Exit(1)
    data = file.read_bytes()
    with registry_session() as session:
        uploader, scope, actor = None, None, Actor("cli")
        if user is not None:
            account = orgs_service.get_user(session, user)
            uploader, actor = account.org, Actor(account.username, account.id)
            scope = orgs_service.descendant_ids(session, account.org)
        columns = (TextColumn("{task.description}"), BarColumn(),
                   TextColumn("{task.completed}/{task.total} entries"), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("importing", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = xlsx_import.import_workbook(  # a refused file: one line, exit 1
                session, data=data, filename=file.name, uploader=uploader, scope=scope,
                actor=actor, valid_only=valid_only, progress=advance)
    console.print(f"{report.entry_rows} entry rows and {report.item_rows} item rows read")
    if report.errors:
        table = Table("sheet", "row", "column", "problem", title=f"Errors ({len(report.errors)})")
        for error in report.errors:
            table.add_row(error.sheet, str(error.row), error.column or "—", error.message)
        console.print(table)
    if report.errors and not valid_only:
        err_console.print("[red]error:[/] nothing imported: correct the rows above, or import "
                          "the valid rows only (--valid-only)")
        raise typer.Exit(1)
    console.print(f"{len(report.imported)} entries imported as drafts"
                  + (": " + ", ".join(report.imported) if report.imported else ""))


def export_list(
    kind: Annotated[ListKind, typer.Argument(help="aggregation, sharing or open.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="XLSX file.")] = None,
    provider: Annotated[str | None, typer.Option(help="Only this provider's entries.")] = None,
) -> None:
    """Write one of the bureau's lists as a printable workbook."""
    with registry_session() as session:
        org = orgs_service.get_organisation(session, provider) if provider else None
        rows = build_list(session, kind, provider_ids=None, provider=org)
        sheet = list_sheet(kind, rows, city=city_name(session), made_on=today(),
                           note=f"提供单位：{org.name}" if org else "")
    target = output or Path(f"{sheet.title}-{today():%Y%m%d}.xlsx")
    target.write_bytes(write_workbook([sheet]))
    console.print(f"{len(rows)} entries written to {target}")


@demands_app.command("list")
def list_demands(
    status: Annotated[DemandStatus | None, typer.Option(help="Only demands in this status.")]
    = None,
) -> None:
    """List the data demands."""
    with registry_session() as session:
        found = demands.list_demands(session, status=status)
        table = Table("code", "requester", "data wanted", "matched entry", "status",
                      title=f"Data demands ({len(found)})")
        for demand in found:
            table.add_row(demand.code, demand.requester.name, demand.title,
                          demand.entry.resource_code if demand.entry else "",
                          zh(DEMAND_LABELS[demand.status]))
    console.print(table)


@demands_app.command("export")
def export_demands(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="XLSX file.")] = None,
) -> None:
    """Write the supply–demand list (供需清单) as a printable workbook."""
    with registry_session() as session:
        found = demands.list_demands(session)
        sheet = demand_sheet(found, city=city_name(session), made_on=today())
        audit.record(session, kind="export.demands", details={"format": "xlsx",
                                                              "rows": len(found)})
    target = output or Path(f"{sheet.title}-{today():%Y%m%d}.xlsx")
    target.write_bytes(write_workbook([sheet]))
    console.print(f"{len(found)} demands written to {target}")
