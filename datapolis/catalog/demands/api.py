"""JSON API of supply–demand docking under /api/catalog/demands (included by catalog/api.py).

Everyone signed in reads demands (providers must see them to answer); registering and every
step need catalog.edit, and the service decides whose step it is (403 otherwise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from datapolis.catalog import service as catalog_service
from datapolis.catalog.access import actor_of, check_provider, check_visible, own_provider_ids
from datapolis.catalog.demands import matching
from datapolis.catalog.demands import service as demands
from datapolis.catalog.demands.models import DataDemand, DemandEvent, DemandStatus, Urgency
from datapolis.catalog.demands.sheet import demand_sheet
from datapolis.catalog.lists import city_name
from datapolis.catalog.lists_api import today, xlsx_response
from datapolis.catalog.schemas import EntrySummary
from datapolis.catalog.sheets import write_workbook
from datapolis.orgs import service as orgs_service
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.security.audit import service as audit

router = APIRouter(prefix="/demands")
Reader = Annotated[Principal, Depends(requires(Permission.READ_CATALOG))]
Editor = Annotated[Principal, Depends(requires(Permission.EDIT_CATALOG))]


class DemandCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, description="What data is wanted")
    purpose: str = Field(min_length=1, description="The business it serves (应用场景)")
    description: str = ""
    fields: list[str] = Field([], description="Information items wanted, by name")
    urgency: Urgency = Urgency.NORMAL
    provider_hint: str | None = Field(None, description="Code of the suspected provider")
    requester_code: str | None = Field(None, description="Default: the caller's organisation")


class StepBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = None
    sharing_reference: str | None = Field(None, description="The sharing application, if any")


class MatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_code: str
    comment: str | None = None


class EventPublic(BaseModel):
    number: int
    action: str
    from_status: DemandStatus | None
    to_status: DemandStatus
    entry_code: str | None
    comment: str | None
    actor: str
    created_at: datetime

    @classmethod
    def of(cls, event: DemandEvent) -> EventPublic:
        return cls(number=event.number, action=event.action, from_status=event.from_status,
                   to_status=event.to_status, entry_code=event.entry_code,
                   comment=event.comment, actor=event.actor, created_at=event.created_at)


class DemandPublic(BaseModel):
    code: str
    title: str
    purpose: str
    description: str
    fields: list[str]
    urgency: Urgency
    status: DemandStatus
    requester_code: str
    requester_name: str
    provider_hint: str | None
    entry: EntrySummary | None
    sharing_reference: str | None
    close_reason: str | None
    created_at: datetime
    events: list[EventPublic] = []

    @classmethod
    def of(cls, demand: DataDemand, *, events: bool = False) -> DemandPublic:
        return cls(
            code=demand.code, title=demand.title, purpose=demand.purpose,
            description=demand.description, fields=list(demand.fields), urgency=demand.urgency,
            status=demand.status, requester_code=demand.requester.code,
            requester_name=demand.requester.name,
            provider_hint=demand.provider_hint.code if demand.provider_hint else None,
            entry=EntrySummary.of(demand.entry) if demand.entry else None,
            sharing_reference=demand.sharing_reference, close_reason=demand.close_reason,
            created_at=demand.created_at,
            events=[EventPublic.of(e) for e in demand.events] if events else [],
        )


class CandidatePublic(BaseModel):
    entry: EntrySummary
    score: float
    words: list[str]
    fields: list[str]
    suggested_provider: bool


def filtered(
    session: Session, status_: DemandStatus | None, requester: str | None, provider: str | None
) -> list[DataDemand]:
    return demands.list_demands(
        session, status=status_,
        requester=orgs_service.get_organisation(session, requester) if requester else None,
        provider=orgs_service.get_organisation(session, provider) if provider else None,
    )


StatusQuery = Annotated[DemandStatus | None, Query(alias="status")]
OrgQuery = Annotated[str | None, Query(description="Organisation code")]


@router.get("")
def list_demands(
    session: SessionDep, _: Reader, status_: StatusQuery = None, requester: OrgQuery = None,
    provider: OrgQuery = None,
) -> list[DemandPublic]:
    """Demands; `provider`: those suggested to it or matched to one of its entries."""
    return [DemandPublic.of(d) for d in filtered(session, status_, requester, provider)]


@router.get("/xlsx", response_class=Response)
def demands_xlsx(
    session: SessionDep, _: Reader, status_: StatusQuery = None, requester: OrgQuery = None,
    provider: OrgQuery = None,
) -> Response:
    """The supply–demand list (供需清单), printable."""
    found = filtered(session, status_, requester, provider)
    sheet = demand_sheet(found, city=city_name(session), made_on=today())
    audit.record(session, kind="export.demands", details={"format": "xlsx", "rows": len(found)})
    return xlsx_response(write_workbook([sheet]), f"{sheet.title}-{today():%Y%m%d}.xlsx")


@router.post("", status_code=status.HTTP_201_CREATED)
def register_demand(body: DemandCreate, session: SessionDep, principal: Editor) -> DemandPublic:
    requester = (orgs_service.get_organisation(session, body.requester_code)
                 if body.requester_code else principal.org)
    check_provider(session, principal, requester)  # one's own organisation or one below it
    hint = orgs_service.get_organisation(session, body.provider_hint) if body.provider_hint \
        else None
    demand = demands.register_demand(session, data=demands.DemandInput(
        title=body.title, purpose=body.purpose, description=body.description,
        fields=tuple(body.fields), urgency=body.urgency, provider_hint=hint,
    ), requester=requester, actor=actor_of(principal))
    return DemandPublic.of(demand, events=True)


@router.get("/{code}")
def get_demand(code: str, session: SessionDep, _: Reader) -> DemandPublic:
    return DemandPublic.of(demands.get_demand(session, code), events=True)


@router.get("/{code}/candidates")
def demand_candidates(
    code: str, session: SessionDep, _: Reader,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[CandidatePublic]:
    """Published entries that could supply the demand, best first, with the reasons."""
    found = matching.propose(session, demands.get_demand(session, code), limit=limit)
    return [CandidatePublic(entry=EntrySummary.of(c.entry), score=c.score, words=list(c.words),
                            fields=list(c.fields), suggested_provider=c.suggested_provider)
            for c in found]


@router.post("/{code}/match")
def match_demand(
    code: str, body: MatchBody, session: SessionDep, principal: Editor
) -> DemandPublic:
    """Confirm that a published entry supplies the demand (the bureau or its provider)."""
    demand = demands.get_demand(session, code)
    entry = catalog_service.get_entry(session, body.entry_code)
    check_visible(session, principal, entry)
    demands.confirm_match(session, demand=demand, entry=entry, actor=actor_of(principal),
                          scope=own_provider_ids(session, principal), comment=body.comment)
    return DemandPublic.of(demand, events=True)


def _step(session: Session, principal: Principal, code: str, step: demands.Step,
          body: StepBody | None) -> DemandPublic:
    demand = demands.get_demand(session, code)
    demands.advance(session, demand=demand, step=step, actor=actor_of(principal),
                    scope=own_provider_ids(session, principal),
                    comment=body.comment if body else None,
                    sharing_reference=body.sharing_reference if body else None)
    return DemandPublic.of(demand, events=True)


@router.post("/{code}/start")
def start_demand(
    code: str, session: SessionDep, principal: Editor, body: StepBody | None = None
) -> DemandPublic:
    """Docking under way, e.g. the requester applied for sharing (`sharing_reference`)."""
    return _step(session, principal, code, demands.Step.START, body)


@router.post("/{code}/fulfil")
def fulfil_demand(
    code: str, session: SessionDep, principal: Editor, body: StepBody | None = None
) -> DemandPublic:
    return _step(session, principal, code, demands.Step.FULFIL, body)


@router.post("/{code}/close")
def close_demand(
    code: str, session: SessionDep, principal: Editor, body: StepBody | None = None
) -> DemandPublic:
    """Close a demand that cannot be met; the comment (the reason) is required."""
    return _step(session, principal, code, demands.Step.CLOSE, body)
