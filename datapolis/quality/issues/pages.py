"""Pages of the rectification loop and the governance dashboard: the issue board per
organisation (columns by state, overdue marked), an issue with its history and the moves the
caller may make, and /governance with scores and rectification rates as charts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.errors import NotFound, UserError
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.models import Organisation
from datapolis.orgs.permissions import Permission
from datapolis.quality import scores
from datapolis.quality.issues import access, service, states
from datapolis.quality.issues.api import detail, org_scope
from datapolis.quality.issues.charts import gauge_chart, percent_bars, score_bars
from datapolis.web.charts import line_chart
from datapolis.web.i18n import N_, gettext
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Quality issues"), "/quality/issues", Permission.READ_ISSUES, icon="issues"),
       NavItem(N_("Governance"), "/governance", Permission.READ_QUALITY, icon="governance")]
IssueReader = Annotated[Principal, Depends(requires(Permission.READ_ISSUES))]
Rectifier = Annotated[Principal, Depends(requires(Permission.RECTIFY_QUALITY))]
ScoreReader = Annotated[Principal, Depends(requires(Permission.READ_QUALITY))]

STATE_LABELS = {states.OPEN: N_("Open"), states.ACKNOWLEDGED: N_("Acknowledged"),
                states.RECTIFYING: N_("Rectifying"), states.SUBMITTED: N_("Submitted as fixed"),
                states.REOPENED: N_("Reopened"), states.VERIFIED: N_("Verified"),
                states.WITHDRAWN: N_("Rule withdrawn")}
ACTION_LABELS = {states.ACKNOWLEDGED: N_("Acknowledge"), states.RECTIFYING: N_("Start rectifying"),
                 states.SUBMITTED: N_("Submit as fixed")}
SEVERITY_LABELS = {"error": N_("Error"), "warning": N_("Warning"), "info": N_("Info")}


def _orgs_shown(session: Session, principal: Principal) -> list[Organisation]:
    scope = access.readable(session, principal)
    query = select(Organisation).order_by(Organisation.code)
    if scope is not None:
        query = query.where(Organisation.id.in_(scope))
    return list(session.scalars(query))


@router.get("/quality/issues", response_class=HTMLResponse)
def board(request: Request, session: SessionDep, principal: IssueReader,
          org: str | None = None, overdue: bool = False) -> HTMLResponse:
    found = service.list_issues(session, org_ids=org_scope(session, principal, org or None),
                                overdue=True if overdue else None, limit=2000)
    columns = {state: [i for i in found if i.state == state] for state in states.STATES}
    return render(request, "quality_issues/board.html", {
        "columns": columns, "state_labels": STATE_LABELS, "severity_labels": SEVERITY_LABELS,
        "orgs": _orgs_shown(session, principal), "org": org or "", "overdue_only": overdue,
        "overdue": {i.id for i in found if service.is_overdue(i)}, "total": len(found)})


def _issue_page(request: Request, session: Session, principal: Principal, issue_id: int,
                error: str | None = None, status_code: int = 200) -> HTMLResponse:
    issue = access.check_sees(session, principal, service.get_issue(session, issue_id))
    return render(request, "quality_issues/issue.html", {
        "issue": detail(session, principal, issue), "state_labels": STATE_LABELS,
        "action_labels": ACTION_LABELS, "severity_labels": SEVERITY_LABELS, "error": error,
    }, status_code=status_code)


@router.get("/quality/issues/{issue_id}", response_class=HTMLResponse)
def issue_page(request: Request, issue_id: int, session: SessionDep, principal: IssueReader
               ) -> HTMLResponse:
    return _issue_page(request, session, principal, issue_id)


@router.post("/quality/issues/{issue_id}/transition", response_class=HTMLResponse)
async def move(request: Request, issue_id: int, session: SessionDep, principal: Rectifier
               ) -> Response:
    form = await request.form()
    target, comment = str(form.get("to", "")), str(form.get("comment", ""))
    issue = access.check_sees(session, principal, service.get_issue(session, issue_id))
    if not access.may_act(session, principal, issue):
        raise NotFound(f"no quality issue {issue_id}")
    try:
        service.transition(session, issue, target, actor=principal.name, comment=comment)
    except UserError as exc:
        session.rollback()
        return _issue_page(request, session, principal, issue_id, error=str(exc),
                           status_code=exc.status_code)
    return RedirectResponse(f"/quality/issues/{issue_id}", status_code=303)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


@router.get("/governance", response_class=HTMLResponse)
def governance(request: Request, session: SessionDep, principal: ScoreReader) -> HTMLResponse:
    dimensions = scores.dimension_scores(session)
    departments = scores.department_scores(session)
    counties = scores.county_scores(session)
    trend = scores.trend(session)
    rates = service.rectification(session, org_ids=access.readable(session, principal))
    overall = scores.weighted(r for rs in scores.latest_results(session).values() for r in rs)
    measured = [d for d in dimensions if d.score is not None]
    overdue = sum(r.overdue for r in rates)
    return render(request, "quality_issues/governance.html", {
        "overall": overall, "dimensions": dimensions, "departments": departments,
        "counties": counties, "rates": rates, "overdue": overdue,
        "pending": sum(r.pending for r in rates),
        "overall_chart": gauge_chart(overall, gettext(request, "Quality score"))
        if overall is not None else None,
        "dimension_chart": score_bars([d.name for d in measured], [d.score for d in measured])
        if measured else None,
        "department_chart": score_bars([d.name for d in departments],
                                       [d.score for d in departments], horizontal=True)
        if departments else None,
        "county_chart": score_bars([c.name for c in counties], [c.score for c in counties])
        if counties else None,
        "trend_chart": line_chart([p.label for p in trend], [p.score for p in trend],
                                  gettext(request, "Quality score")) if trend else None,
        "rate_chart": percent_bars([r.org_name for r in rates],
                                   [_percent(r.rate) for r in rates],
                                   [_percent(r.on_time_share) for r in rates],
                                   gettext(request, "Rectification rate"),
                                   gettext(request, "On time")) if rates else None,
    })

