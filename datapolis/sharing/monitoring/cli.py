"""`datapolis sharing alerts` (list, evaluate, acknowledge) and `datapolis sharing stats`
(rollup, export for publication)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from datapolis.config import get_settings
from datapolis.errors import UserError
from datapolis.orgs.cli import cli_actor, err_console, registry_session
from datapolis.registry.base import utcnow
from datapolis.sharing.monitoring import alerts as alert_service
from datapolis.sharing.monitoring import publish, rollup
from datapolis.sharing.monitoring.monitor import run_once
from datapolis.web.render import local_time

console = Console()
stats_app = typer.Typer(help="Call statistics: the hourly rollup and exports for publication.",
                        no_args_is_help=True)


def _fail(exc: UserError) -> None:
    err_console.print(f"[red]error:[/] {exc}", highlight=False)
    raise typer.Exit(1) from None


def alerts(
    kind: Annotated[str | None, typer.Option(help="no_grant, quota, spike or off_hours_bulk")]
    = None,
    state: Annotated[str, typer.Option(help="open, acknowledged or all")] = "open",
    evaluate: Annotated[bool, typer.Option(
        "--evaluate", help="first roll up new call records and evaluate the alerts")] = False,
    ack: Annotated[int | None, typer.Option("--ack", help="acknowledge this alert id")] = None,
    comment: Annotated[str, typer.Option(help="what was done (with --ack)")] = "",
) -> None:
    """List sharing alerts (calls without a grant, quota, spikes, off-hours bulk pulls)."""
    with registry_session() as session:
        try:
            if evaluate:
                result = run_once(session, alert_service.Rules.from_settings(get_settings()))
                console.print(f"{result.hours_rolled} hours rolled up, "
                              f"{result.alerts_touched} alerts raised or updated")
            if ack is not None:
                alert = alert_service.acknowledge(
                    session, alert_service.get_alert(session, ack), actor=cli_actor(),
                    comment=comment)
                console.print(f"alert {alert.id} acknowledged")
                return
            found = alert_service.list_alerts(session, kind=kind, state=state)
        except UserError as exc:
            _fail(exc)
            return
        table = Table("id", "kind", "severity", "app", "consumer", "resource", "code",
                      "window (city time)", "calls", "acknowledged")
        for a in found:
            table.add_row(str(a.id), a.kind, a.severity, str(a.app_id or "-"),
                          str(a.consumer_org_id or "-"), a.resource_code or "-",
                          a.error_code or "-",
                          f"{local_time(a.window_start, '%m-%d %H:%M')}–"
                          f"{local_time(a.window_end, '%H:%M')}", f"{a.calls:,}",
                          f"{a.acknowledged_by} {local_time(a.acknowledged_at)}"
                          if a.acknowledged_at else "")
        console.print(table)
        console.print(f"{len(found)} alerts", highlight=False)


@stats_app.command("rollup")
def rollup_command() -> None:
    """Roll up every call record not rolled up yet (the server does this every minute; use
    after importing records or to backfill)."""
    with registry_session() as session, Progress(console=console) as progress:
        task = progress.add_task("rolling up hours", total=None)

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        hours = rollup.refresh(session, utcnow(), progress=step)
    console.print(f"{len(hours)} hours rolled up")


@stats_app.command("export")
def export(
    start: Annotated[str, typer.Option("--from", help="first city day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="last city day, YYYY-MM-DD")],
    interval: Annotated[str, typer.Option(help="hour or day")] = "day",
    org_level: Annotated[str, typer.Option(help="none, county or org")] = "county",
    format: Annotated[str, typer.Option(help="csv or json")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file (default: "
                                                "standard output)")] = None,
) -> None:
    """Export call statistics for publication: no app, no address, organisations at the
    chosen level, times rounded to the hour or the day."""
    with registry_session() as session:
        try:
            try:
                first, last = date.fromisoformat(start), date.fromisoformat(end)
            except ValueError:
                raise UserError("--from and --to take dates as YYYY-MM-DD") from None
            asked = publish.Request(first, last, interval, org_level, format)  # type: ignore[arg-type]
            text = publish.export(session, asked)
        except UserError as exc:
            _fail(exc)
            return
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"written to {output}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `alerts` and `stats` to the `sharing` group."""
    app.command("alerts")(alerts)
    app.add_typer(stats_app, name="stats")
