"""Quality service: rule definitions in the registry, runs that store their results.

The engine (runner.py) never reads the registry: here rules are resolved into what it runs
(a code table's codes, a catalog entry's update cycle as a maximum age), the primary key and
the change column come from the data highway's job, and results are stored per run and rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.standards import get_code_table
from datapolis.errors import NotFound, UserError
from datapolis.ingest import changelog
from datapolis.ingest.freshness import landed_by_table
from datapolis.ingest.jobs import jobs_landing_in
from datapolis.ingest.land import encode_cursor
from datapolis.quality.issues import service as issues
from datapolis.quality.models import QualityResult, QualityRule, QualityRun
from datapolis.quality.rules import (
    Dimension,
    Rule,
    RuleError,
    Severity,
    TableContext,
    kind,
    validate,
)
from datapolis.quality.runner import CheckReport, LandingLog, run_checks
from datapolis.quality.schemas import RuleIn
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry
from datapolis.warehouse.engine import Engine, TableName

log = logging.getLogger(__name__)

TRIGGERS = ("sync", "manual", "schedule")
# Hours in one update cycle of the catalog (UpdateCycle values); a table is late when its last
# landing is older than the cycle and half of it again.
CYCLE_HOURS = {"realtime": 1, "hourly": 1, "daily": 24, "weekly": 24 * 7, "ten_days": 24 * 10,
               "monthly": 24 * 31, "quarterly": 24 * 92, "half_yearly": 24 * 183,
               "yearly": 24 * 366}
GRACE = 1.5


def list_rules(session: Session, table: str, *, enabled_only: bool = False
               ) -> list[QualityRule]:
    query = select(QualityRule).where(QualityRule.warehouse_table == table)
    if enabled_only:
        query = query.where(QualityRule.enabled.is_(True))
    return list(session.scalars(query.order_by(QualityRule.id)))


def get_rule(session: Session, rule_id: int) -> QualityRule:
    rule = session.get(QualityRule, rule_id)
    if rule is None:
        raise NotFound(f"no quality rule {rule_id}")
    return rule


def _checked(session: Session, table: str, data: RuleIn, *, admin: bool) -> dict[str, Any]:
    TableName.parse(table)
    spec = kind(data.kind)
    if spec.admin_only and not admin:
        raise UserError(f"only a platform admin may define {data.kind} rules")
    params = dict(data.params)
    if data.kind == "freshness" and params.get("cycle") == "catalog":
        params["max_age_hours"] = catalog_max_age(session, table)
    rule = Rule("new", data.kind, tuple(data.columns), _resolved(session, data.kind, params),
                Dimension(data.dimension) if data.dimension else None,
                Severity(data.severity), data.threshold)
    validate(rule)
    return {"kind": data.kind, "columns": list(data.columns), "params": params,
            "dimension": (data.dimension or spec.dimension).value,
            "severity": Severity(data.severity).value, "threshold": data.threshold,
            "enabled": data.enabled, "note": data.note}


def create_rule(session: Session, table: str, data: RuleIn, *, actor: str, admin: bool
                ) -> QualityRule:
    rule = QualityRule(warehouse_table=table, created_by=actor,
                       **_checked(session, table, data, admin=admin))
    session.add(rule)
    session.flush()
    return rule


def update_rule(session: Session, rule: QualityRule, data: RuleIn, *, admin: bool
                ) -> QualityRule:
    if kind(rule.kind).admin_only and not admin:
        raise UserError(f"only a platform admin may change {rule.kind} rules")
    was_enabled = rule.enabled
    for name, value in _checked(session, rule.warehouse_table, data, admin=admin).items():
        setattr(rule, name, value)
    session.flush()
    if was_enabled and not rule.enabled:  # no run checks it now: its issues cannot verify
        issues.withdraw_rule_issues(session, rule.id, why="disabled")
    return rule


def delete_rule(session: Session, rule: QualityRule, *, admin: bool) -> None:
    if kind(rule.kind).admin_only and not admin:
        raise UserError(f"only a platform admin may delete {rule.kind} rules")
    issues.withdraw_rule_issues(session, rule.id, why="deleted")
    session.delete(rule)
    session.flush()


def catalog_max_age(session: Session, table: str) -> float:
    entry = session.scalar(select(CatalogEntry).where(CatalogEntry.warehouse_table == table)
                           .order_by(CatalogEntry.id))
    if entry is None:
        raise RuleError(f"no catalog entry describes {table}: give max_age_hours instead")
    hours = CYCLE_HOURS.get(str(entry.update_cycle.value))
    if hours is None:
        raise RuleError(f"the catalog entry of {table} declares no regular update cycle "
                        f"({entry.update_cycle.value}): give max_age_hours instead")
    return hours * GRACE


def _resolved(session: Session, rule_kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as the engine reads them: code tables become their codes."""
    out = dict(params)
    if rule_kind == "in_set" and out.get("code_table"):
        out["values"] = [v.code for v in get_code_table(session, str(out["code_table"])).values]
    if rule_kind == "resident_id" and out.get("division_table"):
        out["divisions"] = [v.code for v in
                            get_code_table(session, str(out["division_table"])).values
                            if len(v.code) == 6 and v.code.isdigit()]
    return out


def engine_rule(session: Session, rule: QualityRule) -> Rule:
    return Rule(str(rule.id), rule.kind, tuple(rule.columns),
                _resolved(session, rule.kind, rule.params), Dimension(rule.dimension),
                Severity(rule.severity), rule.threshold)


# --- runs --------------------------------------------------------------------------------

def table_key(session: Session, table: str) -> tuple[list[str], str | None, int]:
    """The primary key the highway merges on, the column that marks changed rows (an
    incremental job's cursor) and the job's overlap; ([], None, 0) for a table no job lands
    in."""
    found = jobs_landing_in(session, table)
    # Only when every job landing here moves the same cursor: a snapshot or cdc job changes
    # rows without moving it.
    cursors = {(job.mode, job.cursor_column) for job in found}
    for job in found:
        key = list(job.table.primary_key or [])
        column = job.cursor_column if len(cursors) == 1 and job.mode == "incremental" else None
        if key:
            return key, column, max(j.overlap_seconds for j in found) if column else 0
    return [], None, 0


def last_run(session: Session, table: str, *, succeeded: bool = True) -> QualityRun | None:
    query = select(QualityRun).where(QualityRun.warehouse_table == table)
    if succeeded:
        query = query.where(QualityRun.status == "succeeded")
    return session.scalar(query.order_by(QualityRun.id.desc()).limit(1)
                          .options(selectinload(QualityRun.results)))


def list_runs(session: Session, table: str | None = None, *, limit: int = 50
              ) -> list[QualityRun]:
    query = select(QualityRun)
    if table is not None:
        query = query.where(QualityRun.warehouse_table == table)
    return list(session.scalars(query.order_by(QualityRun.id.desc()).limit(limit)))


def get_run(session: Session, run_id: int) -> QualityRun:
    run = session.scalar(select(QualityRun).where(QualityRun.id == run_id)
                         .options(selectinload(QualityRun.results)))
    if run is None:
        raise NotFound(f"no quality run {run_id}")
    return run


def run_table(
    registry: Registry,
    warehouse: Engine,
    table: str,
    *,
    trigger: str = "manual",
    changed_only: bool = True,
    progress: Callable[[str], None] | None = None,
) -> QualityRun:
    """Check `table` against its enabled rules and store the run; a failure is stored too
    (status failed, the error) and raised again for a user error."""
    if trigger not in TRIGGERS:
        raise UserError(f"trigger must be one of {', '.join(TRIGGERS)}")
    TableName.parse(table)
    with registry.session() as session:
        rules = [engine_rule(session, r) for r in list_rules(session, table, enabled_only=True)]
        key, change_column, _ = table_key(session, table)
        previous = last_run(session, table)
        context = TableContext(rows=0, last_landed=landed_by_table(session).get(table),
                               previous_rows=previous.rows if previous else None,
                               now=utcnow())
        run = QualityRun(warehouse_table=table, trigger=trigger, started_at=utcnow(),
                         status="running",
                         changed_only=bool(changed_only and previous and change_column and key),
                         change_column=change_column)
        session.add(run)
        session.flush()
        run_id = run.id
    if not rules:
        return _finish(registry, run_id, error="no enabled rules for this table")
    # A table incremental jobs land in: the rows they merged since the last check (the
    # landing log, opened by the first check), or all of them when asked.
    changed = LandingLog(restart=not changed_only) if change_column and key else None
    try:  # no registry session stays open while the warehouse scans
        report = run_checks(warehouse, table, rules, key=key, changed=changed, context=context,
                            progress=progress)
    except UserError as exc:
        _finish(registry, run_id, error=str(exc))
        raise
    except Exception as exc:
        _finish(registry, run_id, error=f"{type(exc).__name__}: {exc}")
        raise
    return _finish(registry, run_id, report=report)


def _finish(registry: Registry, run_id: int, *, report: CheckReport | None = None,
            error: str | None = None) -> QualityRun:
    with registry.session() as session:
        run = session.get_one(QualityRun, run_id)
        run.finished_at = utcnow()
        run.seconds = (run.finished_at - run.started_at).total_seconds()
        if report is None:
            run.status, run.error = "failed", error
        else:
            run.status, run.rows, run.passed = "succeeded", report.rows, report.passed
            run.changed_only = report.incremental
            run.watermark = None if report.watermark is None else _encode(report.watermark)
            run.results.extend(_results(report))
        session.flush()
        issues.sync_from_run(session, run)  # open, update, verify or reopen 问题工单
        session.refresh(run, ["results"])
        session.expunge_all()
        return run


def _encode(value: Any) -> str | None:
    try:
        return encode_cursor(value)
    except UserError:  # a change column of a type a cursor cannot hold: always full checks
        return None


def _results(report: CheckReport) -> list[QualityResult]:
    out, bit = [], 0
    for result in report.results:
        rule = result.rule
        position = None
        if rule.spec.scope == "row":
            position, bit = bit, bit + 1
        out.append(QualityResult(
            rule_id=int(rule.code) if rule.code.isdigit() else None, position=position,
            kind=rule.kind, columns=list(rule.columns), dimension=rule.effective_dimension.value,
            severity=rule.severity.value, threshold=rule.threshold, checked=result.checked,
            failed=result.failed, pass_rate=round(result.pass_rate, 6), passed=result.passed,
            sample=result.sample, detail=result.detail))
    return out


def run_after_landing(registry: Registry, warehouse: Engine, table: str) -> QualityRun | None:
    """The ingest hook's body: check a landed table that has rules."""
    with registry.session() as session:
        if not list_rules(session, table, enabled_only=True):
            changelog.close_log(warehouse, table)  # nobody reads it any more: stop recording
            return None
    return run_table(registry, warehouse, table, trigger="sync")


def tables_with_rules(session: Session) -> Sequence[str]:
    return list(session.scalars(select(QualityRule.warehouse_table).distinct()
                                .order_by(QualityRule.warehouse_table)))
