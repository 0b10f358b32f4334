"""`datapolis portal ...`: the open portal's desk for operators' scripts — public data requests
and their answers, error reports, applications for conditionally open datasets, and the
self-assessment figures."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from datapolis.orgs.cli import registry_session
from datapolis.portal import applications, assessment, feedback
from datapolis.web.render import local_time

app = typer.Typer(help="Open-data portal (公共数据开放网): requests, error reports, "
                  "applications, self-assessment.", no_args_is_help=True)
console = Console()
AsUser = Annotated[str, typer.Option("--as", help="who answers or decides (recorded)")]


@app.command("requests")
def list_requests(status: Annotated[str, typer.Option(help="open, answered or declined")] = "",
                  limit: int = 50) -> None:
    """Public data requests, newest first (contacts included: this is the operator's view)."""
    with registry_session() as session:
        total, found = feedback.requests(session, status=status or None, limit=limit)
        table = Table(title=f"data requests ({total})")
        for heading in ("id", "filed", "status", "title", "requester", "contact"):
            table.add_column(heading)
        for item in found:
            table.add_row(str(item.id), local_time(item.created_at), item.status, item.title,
                          item.requester, item.contact or "")
        console.print(table)


@app.command("answer")
def answer_request(request_id: int, text: Annotated[str, typer.Option("--text")],
                   actor: AsUser,
                   status: Annotated[str, typer.Option(help="answered or declined")]
                   = "answered") -> None:
    """Answer a public data request (shown publicly)."""
    with registry_session() as session:
        found = feedback.answer_request(session, request_id=request_id, answer=text,
                                        status=status, actor=actor)
        console.print(f"request {found.id} {found.status}")


@app.command("reports")
def list_reports(status: str = "open", org: str = "") -> None:
    """Error reports on datasets."""
    with registry_session() as session:
        table = Table(title="error reports")
        for heading in ("id", "filed", "dataset", "provider", "status", "report"):
            table.add_column(heading)
        for report in feedback.reports(session, status=status or None, org_code=org or None):
            table.add_row(str(report.id), local_time(report.created_at), report.dataset_code,
                          report.org_code, report.status, report.description)
        console.print(table)


@app.command("triage")
def triage(report_id: int, status: Annotated[str, typer.Option(help="confirmed, fixed or "
                                                                     "rejected")],
           text: Annotated[str, typer.Option("--text")], actor: AsUser) -> None:
    """Move an error report on, with a reply shown on the dataset page."""
    with registry_session() as session:
        found = feedback.triage_report(session, report_id=report_id, status=status,
                                       response=text, actor=actor, org_code=None)
        console.print(f"report {found.id} {found.status}")


@app.command("applications")
def list_applications(status: str = "pending", org: str = "") -> None:
    """Applications for conditionally open datasets."""
    with registry_session() as session:
        table = Table(title="applications")
        for heading in ("id", "filed", "dataset", "provider", "user", "status", "purpose"):
            table.add_column(heading)
        for item in applications.queue(session, org or None, status or None):
            table.add_row(str(item.id), local_time(item.created_at), item.dataset_code,
                          item.org_code, item.user.username, item.status, item.purpose)
        console.print(table)


@app.command("decide")
def decide(application_id: int,
           decision: Annotated[str, typer.Argument(help="approve, reject or revoke")],
           actor: AsUser, comment: str = "") -> None:
    """Decide an application as the bureau."""
    with registry_session() as session:
        found = applications.decide(session, application_id=application_id, decision=decision,
                                    actor=actor, org_code=None, comment=comment)
        console.print(f"application {found.id} {found.status}")


@app.command("assessment")
def show_assessment(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The open-data self-assessment indicators (reads the warehouse: not while serving)."""
    from datapolis.config import get_settings
    from datapolis.warehouse import DuckDBEngine

    with registry_session() as session:
        engine = DuckDBEngine(get_settings().warehouse_file)
        try:
            found = assessment.indicators(session, engine)
        finally:
            engine.close()
    if as_json:
        console.print_json(json.dumps([{"key": i.key, "value": i.value, "unit": i.unit}
                                       for i in found]))
        return
    table = Table(title="open-data self-assessment")
    for heading in ("indicator", "value"):
        table.add_column(heading)
    for item in found:
        table.add_row(item.label, f"{item.value:,}{'%' if item.unit == '%' else ''}")
    console.print(table)
