"""CLI verbs: `datapolis catalog rules list` and `datapolis catalog rules report`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from datapolis.catalog.enums import EntryStatus
from datapolis.catalog.rules import service
from datapolis.catalog.rules.registry import Severity, list_rules
from datapolis.catalog.rules.report import Counts
from datapolis.config import get_settings
from datapolis.orgs.cli import registry_session
from datapolis.warehouse.engine import Engine

app = typer.Typer(help="Normalisation rules (目录梳理规则) and their report.",
                  no_args_is_help=True)


def _console() -> Console:
    # Made per command: Rich reads the terminal width (COLUMNS) when a console is created.
    return Console(highlight=False, soft_wrap=True)

SEVERITY_STYLE = {Severity.BLOCKING: "red", Severity.WARNING: "yellow"}


@app.command("list")
def list_command() -> None:
    """List every registered rule: code, severity, category and title."""
    table = Table("code", "severity", "category", "title", "标题", title="Normalisation rules")
    for rule in list_rules():
        table.add_row(rule.code, f"[{SEVERITY_STYLE[rule.severity]}]{rule.severity.value}[/]",
                      rule.category.value, rule.title, rule.title_zh)
    _console().print(table)


def _rate(counts: Counts) -> str:
    return f"{counts.pass_rate:.1%}" if counts.pass_rate is not None else "—"


@contextmanager
def _maybe_warehouse(wanted: bool) -> Iterator[Engine | None]:
    if not wanted:
        yield None
        return
    from datapolis.warehouse import DuckDBEngine

    engine = DuckDBEngine(get_settings().warehouse_file)
    try:
        yield engine
    finally:
        engine.close()


@app.command("report")
def report_command(
    org: Annotated[str | None, typer.Option(help="Organisation code (and those below it).")]
    = None,
    status: Annotated[EntryStatus | None, typer.Option(help="Only entries in this status.")]
    = None,
    entries: Annotated[bool, typer.Option("--entries", help="Also list each failing entry.")]
    = False,
    warehouse: Annotated[bool, typer.Option(
        "--warehouse", help="Also check tables and record counts against the warehouse file "
        "(not while `datapolis serve` holds it).")] = False,
) -> None:
    """Pass and fail counts per provider organisation, by severity, with a pass rate."""
    console = _console()
    with registry_session() as session, _maybe_warehouse(warehouse) as engine:
        found = service.report(session, provider_ids=None, org_code=org, status=status,
                               warehouse=engine)
        table = Table("organisation", "name", "entries", "blocked", "blocking failures",
                      "warnings", "passed", "pass rate", title="Catalog normalisation report")
        for one in found.orgs:
            c = one.counts
            table.add_row(one.org.code, one.org.name, str(len(one.rows)),
                          str(one.entries_blocked), str(c.failed_blocking),
                          str(c.failed_warning), str(c.passed), _rate(c))
        c = found.counts
        table.add_row("all", "", str(sum(len(o.rows) for o in found.orgs)),
                      str(sum(o.entries_blocked for o in found.orgs)), str(c.failed_blocking),
                      str(c.failed_warning), str(c.passed), _rate(c), style="bold")
        console.print(table)
        if entries:
            failing = Table("resource code", "name", "rule", "severity", "finding",
                            title="Failing checks")
            for one in found.orgs:
                for row in one.rows:
                    for result in row.results:
                        for finding in result.findings:
                            failing.add_row(row.entry.resource_code, row.entry.name,
                                            result.rule.code, result.rule.severity.value,
                                            finding.text())
            console.print(failing)
