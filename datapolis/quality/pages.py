"""Quality pages: the tables that have rules, and one table's rule editor with suggestions and
its last run's results (samples masked by field grade)."""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from datapolis.errors import UserError
from datapolis.orgs.deps import Principal, SessionDep, get_registry, requires
from datapolis.orgs.permissions import Permission
from datapolis.quality import samples, schedules, service, suggest
from datapolis.quality.access import check_table, is_admin, may_see
from datapolis.quality.rules import RULE_KINDS, kind
from datapolis.quality.schemas import RuleIn
from datapolis.warehouse.deps import WarehouseDep
from datapolis.web.i18n import N_
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Quality rules"), "/quality/tables", Permission.READ_QUALITY, icon="quality")]
Reader = Annotated[Principal, Depends(requires(Permission.READ_QUALITY))]
Manager = Annotated[Principal, Depends(requires(Permission.MANAGE_QUALITY))]
PAGE = "/quality/tables"


@router.get(PAGE, response_class=HTMLResponse)
def tables_page(request: Request, session: SessionDep, who: Reader) -> HTMLResponse:
    rows = []
    for table in service.tables_with_rules(session):
        if may_see(who, table):
            rows.append({"table": table, "rules": len(service.list_rules(session, table)),
                         "run": service.last_run(session, table, succeeded=False)})
    return render(request, "quality/tables.html", {"rows": rows})


def _table_page(request: Request, session: Session, who: Principal, table: str, *,
                error: str = "", status_code: int = 200) -> HTMLResponse:
    check_table(who, table)
    run = service.last_run(session, table, succeeded=False)
    shown = samples.treatments(session, table)
    results: list[dict[str, Any]] = []
    for result in run.results if run else []:
        sample, touched = samples.masked(result.sample, shown)
        results.append({"r": result, "sample": sample, "masked": touched})
    kind("not_null")  # the built-ins register on first use
    scheduled = schedules.get_schedule(session, table)
    context = {
        "table": table, "rules": service.list_rules(session, table),
        "suggestions": suggest.suggest(session, table), "run": run, "results": results,
        "kinds": sorted(RULE_KINDS.values(), key=lambda k: k.name),
        "can_manage": who.can(Permission.MANAGE_QUALITY), "admin": is_admin(who),
        "error": error, "schedule": scheduled,
        "schedule_next": schedules.next_due(session, scheduled)
        if scheduled is not None and scheduled.enabled else None,
    }
    return render(request, "quality/table.html", context, status_code=status_code)


@router.get(PAGE + "/{table}", response_class=HTMLResponse)
def table_page(request: Request, table: str, session: SessionDep, who: Reader) -> HTMLResponse:
    return _table_page(request, session, who, table)


@router.post(PAGE + "/{table}/rules", response_class=HTMLResponse, response_model=None)
async def add_rule(request: Request, table: str, session: SessionDep, who: Manager
                   ) -> HTMLResponse | RedirectResponse:
    """A rule from the editor's form or an accepted suggestion (same fields)."""
    check_table(who, table)
    posted = await request.form()
    try:
        params = json.loads(str(posted.get("params") or "{}"))
        if not isinstance(params, dict):
            raise UserError("parameters must be a JSON object")
        columns = [c.strip() for c in str(posted.get("columns") or "").split(",") if c.strip()]
        data = RuleIn(kind=str(posted.get("kind") or ""), columns=columns, params=params,
                      threshold=float(str(posted.get("threshold") or "1")),
                      severity=str(posted.get("severity") or "warning"))
        service.create_rule(session, table, data, actor=who.name, admin=is_admin(who))
    except json.JSONDecodeError:
        return _table_page(request, session, who, table, status_code=400,
                           error="parameters are not JSON")
    except (UserError, ValueError) as exc:
        session.rollback()
        return _table_page(request, session, who, table, status_code=400,
                           error=str(exc).splitlines()[-1])
    return RedirectResponse(f"{PAGE}/{table}", status_code=303)


@router.post(PAGE + "/{table}/rules/{rule_id}/delete", response_class=HTMLResponse,
             response_model=None)
def delete_rule(request: Request, table: str, rule_id: int, session: SessionDep,
                who: Manager) -> HTMLResponse | RedirectResponse:
    rule = service.get_rule(session, rule_id)
    check_table(who, rule.warehouse_table)
    try:
        service.delete_rule(session, rule, admin=is_admin(who))
    except UserError as exc:
        return _table_page(request, session, who, table, status_code=400, error=str(exc))
    return RedirectResponse(f"{PAGE}/{rule.warehouse_table}", status_code=303)


@router.post(PAGE + "/{table}/schedule", response_class=HTMLResponse, response_model=None)
async def save_schedule(request: Request, table: str, session: SessionDep, who: Manager
                        ) -> HTMLResponse | RedirectResponse:
    """Set, pause or remove the table's scheduled checks."""
    check_table(who, table)
    posted = await request.form()
    try:
        if posted.get("remove"):
            schedules.remove_schedule(session, table)
        else:
            schedules.set_schedule(session, table, str(posted.get("schedule") or ""),
                                   actor=who.name, enabled=bool(posted.get("enabled")))
    except UserError as exc:
        session.rollback()
        return _table_page(request, session, who, table, status_code=exc.status_code,
                           error=str(exc))
    return RedirectResponse(f"{PAGE}/{table}", status_code=303)


@router.post(PAGE + "/{table}/run", response_class=HTMLResponse, response_model=None)
def run_now(request: Request, table: str, session: SessionDep, warehouse: WarehouseDep,
            who: Manager) -> HTMLResponse | RedirectResponse:
    check_table(who, table)
    with suppress(UserError):  # a failed run is stored and shown with its error
        service.run_table(get_registry(request), warehouse, table, trigger="manual")
    session.expire_all()
    return RedirectResponse(f"{PAGE}/{table}", status_code=303)
