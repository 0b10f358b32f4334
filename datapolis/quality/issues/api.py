"""JSON API of the rectification loop under /api/quality/issues, and quality scores under
/api/quality/scores."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from datapolis.errors import NotFound
from datapolis.orgs import service as orgs
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.quality import scores
from datapolis.quality.access import may_see
from datapolis.quality.issues import access, service, states
from datapolis.quality.issues.models import QualityIssue
from datapolis.quality.issues.schemas import (
    EventPublic,
    IssueDetail,
    IssuePublic,
    RatePublic,
    TransitionIn,
)

router = APIRouter(prefix="/api/quality", tags=["quality issues"])
IssueReader = Annotated[Principal, Depends(requires(Permission.READ_ISSUES))]
Rectifier = Annotated[Principal, Depends(requires(Permission.RECTIFY_QUALITY))]
ScoreReader = Annotated[Principal, Depends(requires(Permission.READ_QUALITY))]


def public(issue: QualityIssue) -> IssuePublic:
    return IssuePublic(
        id=issue.id, warehouse_table=issue.warehouse_table, subject=issue.subject,
        origin=issue.origin, rule_id=issue.rule_id, org=issue.org.code if issue.org else None,
        org_name=issue.org.name if issue.org else None, kind=issue.kind,
        columns=list(issue.columns), dimension=issue.dimension, severity=issue.severity,
        state=issue.state, checked=issue.checked, failed=issue.failed,
        opened_at=issue.opened_at, due_at=issue.due_at, overdue=service.is_overdue(issue),
        state_changed_at=issue.state_changed_at, submitted_at=issue.submitted_at,
        verified_at=issue.verified_at)


def detail(session: Session, principal: Principal, issue: QualityIssue) -> IssueDetail:
    sample, masked = service.shown_sample(session, issue)
    acts = principal.can(Permission.RECTIFY_QUALITY) and access.may_act(session, principal,
                                                                         issue)
    return IssueDetail(
        **public(issue).model_dump(), sample=sample, masked_fields=masked,
        events=[EventPublic.model_validate(e, from_attributes=True) for e in issue.events],
        may_act=acts, next_states=sorted(states.MANUAL.get(issue.state, ())) if acts else [])


def org_scope(session: Session, principal: Principal, org: str | None) -> set[int] | None:
    """The organisations to list: the caller's scope, narrowed to `org` (and below) if given."""
    scope = access.readable(session, principal)
    if org is None:
        return scope
    chosen = orgs.descendant_ids(session, orgs.get_organisation(session, org))
    return chosen if scope is None else chosen & scope


@router.get("/issues")
def list_issues(
    session: SessionDep, who: IssueReader,
    org: Annotated[str | None, Query(description="an organisation code")] = None,
    state: Annotated[str | None, Query(description="one issue state")] = None,
    overdue: bool | None = None,
    table: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[IssuePublic]:
    return [public(i) for i in service.list_issues(
        session, org_ids=org_scope(session, who, org), state=state, overdue=overdue,
        table=table, limit=limit)]


@router.get("/issues/rates")
def rates(session: SessionDep, who: IssueReader) -> list[RatePublic]:
    """Rectification rates per provider organisation (verified / opened, on-time share)."""
    return [RatePublic(org=r.org_code, org_name=r.org_name, opened=r.opened,
                       verified=r.verified, pending=r.pending, overdue=r.overdue,
                       on_time=r.on_time, rate=r.rate, on_time_share=r.on_time_share)
            for r in service.rectification(session, org_ids=access.readable(session, who))]


@router.get("/issues/{issue_id}")
def get_issue(issue_id: int, session: SessionDep, who: IssueReader) -> IssueDetail:
    issue = access.check_sees(session, who, service.get_issue(session, issue_id))
    return detail(session, who, issue)


@router.post("/issues/{issue_id}/transitions")
def transition(issue_id: int, data: TransitionIn, session: SessionDep, who: Rectifier
               ) -> IssueDetail:
    issue = access.check_sees(session, who, service.get_issue(session, issue_id))
    if not access.may_act(session, who, issue):
        raise NotFound(f"no quality issue {issue_id}")  # auditors see, but never act
    service.transition(session, issue, data.to, actor=who.name, comment=data.comment)
    return detail(session, who, issue)


class ScoresPublic(BaseModel):
    dimensions: list[scores.GroupScore]
    departments: list[scores.GroupScore]
    counties: list[scores.GroupScore]
    tables: list[scores.GroupScore]
    rules: list[scores.RuleScore]
    trend: list[scores.TrendPoint]


@router.get("/scores")
def get_scores(session: SessionDep, who: ScoreReader, table: str | None = None
               ) -> ScoresPublic:
    """Dimension, department and county scores platform-wide (a league table every department
    may see); per-table and per-rule scores only of the tables the caller may see."""
    if table is not None and not may_see(who, table):
        raise NotFound(f"no quality records for table {table}")
    latest = scores.latest_results(session)
    visible = [t for t in latest if may_see(who, t)]
    only = [table] if table is not None else None
    return ScoresPublic(
        dimensions=scores.dimension_scores(session, only),
        departments=scores.department_scores(session, only),
        counties=scores.county_scores(session, only),
        tables=scores.table_scores(session, only or visible),
        rules=scores.rule_scores(session, only or visible),
        trend=scores.table_trend(session, table) if table else scores.trend(session))
