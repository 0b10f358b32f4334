"""JSON API of quality under /api/quality: rule kinds, rules per table with suggestions,
running a check now, runs and their results (samples masked by field grade)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from datapolis.errors import Conflict, NotFound
from datapolis.orgs.deps import Principal, SessionDep, get_registry, requires
from datapolis.orgs.permissions import Permission
from datapolis.quality import compiler, runner, samples, schedules, service, suggest
from datapolis.quality.access import check_table, is_admin, may_see
from datapolis.quality.models import QualityRule, QualityRun, QualitySchedule
from datapolis.quality.rules import RULE_KINDS, kind
from datapolis.quality.schemas import (
    ResultPublic,
    RuleIn,
    RulePublic,
    RunPublic,
    RunWithResults,
    Suggestion,
)
from datapolis.warehouse.deps import WarehouseDep

router = APIRouter(prefix="/api/quality", tags=["quality"])
Reader = Annotated[Principal, Depends(requires(Permission.READ_QUALITY))]
Manager = Annotated[Principal, Depends(requires(Permission.MANAGE_QUALITY))]


class KindPublic(BaseModel):
    name: str
    label: str
    dimension: str
    scope: str
    columns: tuple[int, int | None]
    required: list[str]
    admin_only: bool


class RunRequest(BaseModel):
    changed_only: bool = True


class FailingKeys(BaseModel):
    key: list[str]
    keys: list[dict[str, Any]]
    masked: list[str]


def _rule(rule: QualityRule) -> RulePublic:
    return RulePublic.model_validate(rule, from_attributes=True)


def _run(run: QualityRun) -> RunPublic:
    return RunPublic.model_validate(run, from_attributes=True)


@router.get("/kinds")
def kinds(_: Reader) -> list[KindPublic]:
    kind("not_null")  # the built-ins register on first use
    return [KindPublic(name=k.name, label=k.label, dimension=k.dimension.value, scope=k.scope,
                       columns=k.columns, required=list(k.required), admin_only=k.admin_only)
            for k in RULE_KINDS.values()]


@router.get("/tables/{table}/rules")
def rules(table: str, session: SessionDep, who: Reader) -> list[RulePublic]:
    return [_rule(r) for r in service.list_rules(session, check_table(who, table))]


@router.get("/tables/{table}/suggestions")
def suggestions(table: str, session: SessionDep, who: Reader) -> list[Suggestion]:
    """Rules suggested from the catalog's profile of the table, minus those it has."""
    return suggest.suggest(session, check_table(who, table))


@router.post("/tables/{table}/rules", status_code=status.HTTP_201_CREATED)
def create(table: str, data: RuleIn, session: SessionDep, who: Manager) -> RulePublic:
    rule = service.create_rule(session, check_table(who, table), data, actor=who.name,
                               admin=is_admin(who))
    return _rule(rule)


@router.put("/rules/{rule_id}")
def update(rule_id: int, data: RuleIn, session: SessionDep, who: Manager) -> RulePublic:
    rule = service.get_rule(session, rule_id)
    check_table(who, rule.warehouse_table)
    return _rule(service.update_rule(session, rule, data, admin=is_admin(who)))


@router.delete("/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(rule_id: int, session: SessionDep, who: Manager) -> None:
    rule = service.get_rule(session, rule_id)
    check_table(who, rule.warehouse_table)
    service.delete_rule(session, rule, admin=is_admin(who))


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: str = Field(description="`every 6h` (10s at least) or a five-field cron line "
                                      "read in Asia/Shanghai, e.g. `0 2 * * *`")
    enabled: bool = True


class SchedulePublic(BaseModel):
    table: str
    schedule: str
    enabled: bool
    next_at: datetime | None
    updated_by: str
    updated_at: datetime


def _schedule(session: Session, item: QualitySchedule) -> SchedulePublic:
    return SchedulePublic(table=item.warehouse_table, schedule=item.schedule,
                          enabled=item.enabled,
                          next_at=schedules.next_due(session, item) if item.enabled else None,
                          updated_by=item.updated_by, updated_at=item.updated_at)


@router.get("/tables/{table}/schedule")
def get_schedule(table: str, session: SessionDep, who: Reader) -> SchedulePublic:
    """When the table's rules are checked on a schedule (besides after every sync)."""
    item = schedules.get_schedule(session, check_table(who, table))
    if item is None:
        raise NotFound(f"{table} has no quality schedule")
    return _schedule(session, item)


@router.put("/tables/{table}/schedule")
def put_schedule(table: str, body: ScheduleIn, session: SessionDep, who: Manager
                 ) -> SchedulePublic:
    """Check the table on a schedule (trigger `schedule`), run by `datapolis serve`."""
    item = schedules.set_schedule(session, check_table(who, table), body.schedule,
                                  actor=who.name, enabled=body.enabled)
    return _schedule(session, item)


@router.delete("/tables/{table}/schedule", status_code=status.HTTP_204_NO_CONTENT)
def delete_schedule(table: str, session: SessionDep, who: Manager) -> None:
    schedules.remove_schedule(session, check_table(who, table))


@router.post("/tables/{table}/runs", status_code=status.HTTP_201_CREATED)
def run_now(
    table: str, request: Request, warehouse: WarehouseDep, who: Manager,
    body: Annotated[RunRequest | None, Body()] = None,
) -> RunWithResults:
    """Check the table now (incrementally when its job marks changed rows and nothing but
    rows changed since the last run); the run is stored whatever its outcome."""
    check_table(who, table)
    run = service.run_table(get_registry(request), warehouse, table, trigger="manual",
                            changed_only=(body or RunRequest()).changed_only)
    with get_registry(request).session() as session:
        return _with_results(session, service.get_run(session, run.id))


@router.get("/runs")
def runs(
    session: SessionDep, who: Reader, table: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[RunPublic]:
    if table is not None:
        check_table(who, table)
    found = service.list_runs(session, table, limit=limit)
    return [_run(r) for r in found if may_see(who, r.warehouse_table)]


@router.get("/runs/{run_id}")
def run(run_id: int, session: SessionDep, who: Reader) -> RunWithResults:
    found = service.get_run(session, run_id)
    check_table(who, found.warehouse_table)
    return _with_results(session, found)


@router.get("/runs/{run_id}/results/{position}/keys")
def failing_keys(
    run_id: int, position: int, session: SessionDep, warehouse: WarehouseDep, who: Reader,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> FailingKeys:
    """Keys of every row failing a row-level rule (`position`: the result's bit), masked by
    grade. The warehouse keeps them for the table's latest run only."""
    found = service.get_run(session, run_id)
    table = check_table(who, found.warehouse_table)
    latest = service.last_run(session, table)
    if latest is None or latest.id != run_id:
        raise Conflict(f"failing keys are kept for the latest run of {table} only "
                       f"(run {latest.id if latest else '-'})")
    if not any(r.position == position for r in found.results):
        raise NotFound(f"run {run_id} has no row-level result at position {position}")
    key = service.table_key(session, table)[0]
    rows = runner.failing_keys(warehouse, table, position, key=key, limit=limit)
    masked, touched = samples.masked(rows, samples.treatments(session, table))
    return FailingKeys(key=key or [compiler.ROW_ID], keys=masked, masked=touched)


def _with_results(session: SessionDep, run: QualityRun) -> RunWithResults:
    shown = samples.treatments(session, run.warehouse_table)
    results = []
    for result in run.results:
        sample, touched = samples.masked(result.sample, shown)
        results.append(ResultPublic(
            rule_id=result.rule_id, kind=result.kind, columns=result.columns,
            dimension=result.dimension, severity=result.severity, threshold=result.threshold,
            checked=result.checked, failed=result.failed, pass_rate=result.pass_rate,
            passed=result.passed, sample=sample, masked=touched, detail=result.detail,
            position=result.position))
    return RunWithResults(**_run(run).model_dump(), results=results)
