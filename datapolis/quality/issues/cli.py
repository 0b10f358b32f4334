"""`datapolis quality issues`: the issue list (问题工单) per organisation, and base-library
conflicts turned into issues (`--conflicts`, after `datapolis baselib build`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from datapolis.config import get_settings
from datapolis.errors import UserError
from datapolis.orgs import service as orgs
from datapolis.orgs.cli import err_console, registry_session
from datapolis.quality.issues import service

console = Console()


def issues(
    org: Annotated[str | None, typer.Option("--org", help="organisation code (and those "
                                            "below it)")] = None,
    state: Annotated[str | None, typer.Option("--state", help="one issue state")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="only overdue issues")] = False,
    conflicts: Annotated[bool, typer.Option(
        "--conflicts", help="first turn the base libraries' conflicts into issues")] = False,
) -> None:
    """List quality issues with their state, count and due date; overdue ones in red."""
    with registry_session() as session:
        try:
            if conflicts:
                from datapolis.warehouse import DuckDBEngine

                warehouse = DuckDBEngine(get_settings().warehouse_file)
                try:
                    touched = service.sync_conflicts(session, warehouse)
                finally:
                    warehouse.close()
                console.print(f"{len(touched)} base-library conflict issues opened or updated")
            scope = (orgs.descendant_ids(session, orgs.get_organisation(session, org))
                     if org else None)
            found = service.list_issues(session, org_ids=scope, state=state,
                                        overdue=True if overdue else None)
        except UserError as exc:
            err_console.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(1) from None
        table = Table("id", "table", "rule", "organisation", "state", "failed", "due")
        for issue in found:
            late = service.is_overdue(issue)
            table.add_row(str(issue.id), issue.warehouse_table,
                          f"{issue.kind} {', '.join(issue.columns)}",
                          issue.org.name if issue.org else "-", issue.state,
                          f"{issue.failed:,}",
                          f"[red]{issue.due_at:%Y-%m-%d} overdue[/]" if late
                          else f"{issue.due_at:%Y-%m-%d}")
        console.print(table)
        console.print(f"{len(found)} issues, {sum(map(service.is_overdue, found))} overdue",
                      highlight=False)


def register(app: typer.Typer) -> None:
    """Add the verb to the `quality` group (its other verbs live in quality/cli.py)."""
    app.command("issues")(issues)
