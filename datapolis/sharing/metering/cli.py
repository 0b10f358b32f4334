"""`datapolis sharing calls` (the call log, or a CSV export of it), `datapolis sharing usage`
(a grant's calls and rows on a day against its quotas) and `datapolis sharing journal` (call
records a stopped server left in its journal; replay them)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from datapolis.config import get_settings
from datapolis.errors import UserError
from datapolis.orgs import service as orgs
from datapolis.orgs.cli import err_console, registry_session
from datapolis.registry.base import utcnow
from datapolis.registry.db import open_registry
from datapolis.sharing.grants import service as grants
from datapolis.sharing.metering.api import Names
from datapolis.sharing.metering.journal import SUFFIX, read_segment
from datapolis.sharing.metering.limits import day_bounds, quota_day
from datapolis.sharing.metering.meter import Meter, committed_usage
from datapolis.sharing.metering.queries import (
    OUTCOMES,
    CallFilter,
    Outcome,
    count_calls,
    iter_calls,
    list_calls,
)
from datapolis.web.render import local_time

console = Console()
COLUMNS = ("record_id", "request_at", "response_at", "consumer_org", "app_key", "provider_org",
           "resource_code", "grant_id", "interface", "params_hash", "rows", "bytes", "status",
           "error_code", "latency_ms", "client_ip", "request_id")


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/] {message}", highlight=False)
    return typer.Exit(1)


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _fail(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def calls(
    since: Annotated[str | None, typer.Option(help="From this city day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="To this city day, included.")] = None,
    app_key: Annotated[str | None, typer.Option("--app", help="Calls of this app key.")] = None,
    org: Annotated[str | None, typer.Option(
        help="Calls this organisation made or answered (its code).")] = None,
    resource: Annotated[str | None, typer.Option(help="Calls on this resource code.")] = None,
    interface: Annotated[str | None, typer.Option(help="lookup, query, batch, bulk, ...")]
    = None,
    outcome: Annotated[str | None, typer.Option(
        help="ok, refused (4xx) or failed (5xx).")] = None,
    error_code: Annotated[str | None, typer.Option(help="e.g. no_grant, quota_calls")] = None,
    limit: Annotated[int, typer.Option(help="Newest calls to list.")] = 50,
    csv_file: Annotated[Path | None, typer.Option(
        "--csv", help="Write every matching call to this CSV file (oldest first) instead.")]
    = None,
) -> None:
    """List call records, newest first, or export them to CSV."""
    first, last = _day(since, "--since"), _day(until, "--until")
    if outcome is not None and outcome not in OUTCOMES:
        raise _fail(f"--outcome must be one of {', '.join(OUTCOMES)}")
    chosen: Outcome | None = outcome  # narrowed by the check above
    with registry_session() as session:
        try:
            flt = CallFilter(
                start=day_bounds(first)[0] if first else None,
                end=day_bounds(last)[1] if last else None,
                org_id=orgs.get_organisation(session, org).id if org else None,
                app_id=orgs.get_app(session, app_key).id if app_key else None,
                resource_code=resource, interface=interface, outcome=chosen,
                error_code=error_code).checked()
            if csv_file is None:
                rows = list_calls(session, flt, limit=max(1, min(limit, 500)))
            else:
                total = count_calls(session, flt)
        except UserError as exc:
            raise _fail(str(exc)) from None
        names = Names(session)

        def org_code(org_id: int | None) -> str | None:
            found = names.org(org_id)
            return found.code if found is not None else None

        if csv_file is None:
            table = Table(title=f"Call records (newest {len(rows)})")
            for heading in ("time", "consumer", "provider", "resource", "interface", "status",
                            "error", "rows", "ms"):
                table.add_column(heading)
            for row in rows:
                table.add_row(local_time(row.request_at, "%Y-%m-%d %H:%M:%S"),
                              org_code(row.consumer_org_id) or "—",
                              org_code(row.provider_org_id) or "—", row.resource_code or "—",
                              row.interface, str(row.status), row.error_code or "",
                              f"{row.rows_out:,}", f"{row.latency_ms:.1f}")
            console.print(table)
            return
        with csv_file.open("w", newline="", encoding="utf-8") as handle, Progress(
                console=err_console) as progress:
            task = progress.add_task("exporting call records", total=total)
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for row in iter_calls(session, flt):
                app = names.app(row.app_id)
                writer.writerow([
                    row.record_id, row.request_at.isoformat(), row.response_at.isoformat(),
                    org_code(row.consumer_org_id), app.app_key if app is not None else None,
                    org_code(row.provider_org_id), row.resource_code, row.grant_id,
                    row.interface, row.params_hash, row.rows_out, row.bytes_out, row.status,
                    row.error_code, row.latency_ms, row.client_ip, row.request_id])
                progress.advance(task)
    console.print(f"wrote {total:,} call records to {csv_file}")


def usage(
    grant: Annotated[str, typer.Argument(help="Grant code, e.g. G2026112400012.")],
    day: Annotated[str | None, typer.Option(help="City day (YYYY-MM-DD); default today.")]
    = None,
) -> None:
    """A grant's successful calls and rows on a day, against its quotas.

    Counts the records committed so far: a running server's last fraction of a second of
    calls may still be on its way."""
    when = _day(day, "--day") or quota_day(utcnow())
    with registry_session() as session:
        try:
            found = grants.get_grant(session, grant)
        except UserError as exc:
            raise _fail(str(exc)) from None
        limits = (found.calls_per_day, found.rows_per_day, found.rate_per_second)
        used_calls, used_rows = committed_usage(session, found.id, when)

    def of(limit: float | None) -> str:
        return "no limit" if limit is None else f"{limit:,}"

    console.print(f"{found.code} on {when}: {used_calls:,} calls of {of(limits[0])}, "
                  f"{used_rows:,} rows of {of(limits[1])}; rate limit {of(limits[2])} per second",
                  highlight=False)


def journal(
    replay: Annotated[bool, typer.Option(
        "--replay", help="Commit the records to the registry and remove the segments.")]
    = False,
) -> None:
    """Call records a stopped server left in its journal; --replay commits them now.

    The journal (<home>/meter) keeps records of a server that was killed or could not reach
    the registry; `datapolis serve` replays it when it starts. --replay is refused while a
    server holds the journal."""
    settings = get_settings()
    directory = settings.home / "meter"
    segments = sorted(directory.glob(f"*{SUFFIX}")) if directory.exists() else []
    records = sum(1 for path in segments for _ in read_segment(path))
    console.print(f"{len(segments)} journal segment(s), {records:,} call record(s) in "
                  f"{directory}", highlight=False)
    if not replay or not segments:
        return
    try:
        registry = open_registry(settings.registry_url, create=False)
    except UserError as exc:
        raise _fail(str(exc)) from None
    try:
        meter = Meter(registry, directory)
        meter.start(thread=False)  # replays, then removes what is committed
        meter.stop()
    except UserError as exc:
        raise _fail(str(exc)) from None
    finally:
        registry.close()
    console.print(f"replayed: {meter.replayed:,} record(s) were missing from the registry")


def register(app: typer.Typer) -> None:
    """Add `calls`, `usage` and `journal` to the `sharing` group."""
    app.command("calls")(calls)
    app.command("usage")(usage)
    app.command("journal")(journal)
