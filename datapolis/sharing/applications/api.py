"""JSON API of applications (共享申请) under /api/sharing/applications."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from datapolis.catalog import service as catalog_service
from datapolis.catalog.enums import EntryStatus
from datapolis.catalog.models import CatalogEntry
from datapolis.errors import NotFound
from datapolis.orgs import service as orgs
from datapolis.orgs.deps import Principal, SessionDep, SettingsDep, requires
from datapolis.orgs.models import Organisation
from datapolis.orgs.permissions import Permission
from datapolis.sharing.applications import service
from datapolis.sharing.applications.models import Application, State
from datapolis.sharing.grants.models import Grant
from datapolis.sharing.grants.service import Limits

router = APIRouter(prefix="/api/sharing/applications", tags=["sharing applications"])
Applicant = Annotated[Principal, Depends(requires(Permission.APPLY_SHARING))]
Approver = Annotated[Principal, Depends(requires(Permission.APPROVE_SHARING))]

_STRICT = ConfigDict(extra="forbid")


class ApplicationIn(BaseModel):
    model_config = _STRICT
    resource: str = Field(description="Resource code of a published catalog entry.")
    app: str = Field(description="App key of one of your organisation's API apps.")
    purpose: str = Field(max_length=2000)
    legal_basis: str = Field(max_length=2000)
    scenario: str = Field(max_length=2000, description="The use scenario.")
    items: list[str] = Field(description="Column names of the requested information items.")
    valid_from: datetime | None = None
    valid_until: datetime | None = None


class MethodIn(BaseModel):
    model_config = _STRICT
    method: str
    params: dict[str, int | str] = Field(default_factory=dict)


class TermsIn(BaseModel):
    model_config = _STRICT
    items: list[str] | None = Field(None, description="A subset of the requested items.")
    methods: dict[str, MethodIn] = Field(
        default_factory=dict, description="Per item, a de-identification at least as strict "
        "as the security policy's.")
    row_scope: str | None = Field(None, description="Rows in the filter language; empty: the "
                                  "default (a county consumer's division).")
    all_rows: bool = Field(False, description="No row scope at all, not even the default.")
    calls_per_day: int | None = None
    rows_per_day: int | None = None
    rate_per_second: float | None = None
    valid_until: datetime | None = None

    def terms(self) -> service.Terms:
        return service.Terms(
            columns=self.items, methods={c: (m.method, m.params) for c, m in self.methods.items()},
            row_scope=self.row_scope or None, default_scope=not self.all_rows,
            limits=Limits(self.calls_per_day, self.rows_per_day, self.rate_per_second),
            valid_until=self.valid_until)


class DecisionIn(BaseModel):
    model_config = _STRICT
    comment: str | None = Field(None, max_length=2000)
    terms: TermsIn | None = None


class StepPublic(BaseModel):
    action: str
    from_state: str | None
    to_state: str
    actor: str
    comment: str | None
    at: datetime


class ApplicationPublic(BaseModel):
    code: str
    resource: str
    resource_name: str
    provider: str
    consumer: str
    app_id: int
    applicant: str
    purpose: str
    legal_basis: str
    scenario: str
    items: list[str]
    valid_from: datetime
    valid_until: datetime | None
    state: str
    grant: str | None
    created_at: datetime
    decided_at: datetime | None
    steps: list[StepPublic]


def public(session: Session, application: Application) -> ApplicationPublic:
    entry = session.get(CatalogEntry, application.entry_id)
    provider = session.get(Organisation, application.provider_org_id)
    consumer = session.get(Organisation, application.consumer_org_id)
    grant = session.get(Grant, application.grant_id) if application.grant_id else None
    assert entry is not None and provider is not None and consumer is not None
    return ApplicationPublic(
        code=application.code, resource=entry.resource_code, resource_name=entry.name,
        provider=provider.code, consumer=consumer.code, app_id=application.app_id,
        applicant=application.applicant, purpose=application.purpose,
        legal_basis=application.legal_basis, scenario=application.scenario,
        items=list(application.columns), valid_from=application.valid_from,
        valid_until=application.valid_until, state=application.state.value,
        grant=grant.code if grant else None, created_at=application.created_at,
        decided_at=application.decided_at,
        steps=[StepPublic.model_validate(s, from_attributes=True) for s in application.steps])


def visible(session: Session, who: Principal, code: str) -> Application:
    application = service.get_application(session, code)
    if not service.may_see(who, application):
        raise NotFound(f"no application {code!r}")
    return application


def shown_entry(session: Session, who: Principal, code: str) -> CatalogEntry:
    """The entry, unless it is another organisation's unpublished one (not found, as in the
    catalog)."""
    entry = catalog_service.get_entry(session, code)
    if entry.status != EntryStatus.PUBLISHED and entry.provider_id != who.org.id \
            and not who.can(Permission.REVIEW_CATALOG):
        raise NotFound(f"no catalog entry with resource code {code!r}")
    return entry


def sides(who: Principal) -> tuple[set[int] | None, set[int] | None]:
    """(consumer ids, provider ids) the caller may list; None, None: everything (bureau)."""
    if who.can(Permission.MANAGE_GRANTS):
        return None, None
    return {who.org.id}, {who.org.id}


@router.post("", status_code=201)
def apply(data: ApplicationIn, session: SessionDep, who: Applicant) -> ApplicationPublic:
    entry = shown_entry(session, who, data.resource)
    app = orgs.get_app(session, data.app)
    application = service.apply(session, who, entry=entry, app=app, request=service.Request(
        purpose=data.purpose, legal_basis=data.legal_basis, scenario=data.scenario,
        columns=data.items, valid_from=data.valid_from, valid_until=data.valid_until))
    return public(session, application)


@router.get("")
def list_applications(
    session: SessionDep, who: Applicant,
    state: Annotated[State | None, Query(description="one state")] = None,
    side: Annotated[str | None, Query(pattern="^(consumer|provider)$",
                                      description="only as consumer or as provider")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[ApplicationPublic]:
    if side == "consumer":
        consumers, providers = {who.org.id}, None
    elif side == "provider":
        consumers, providers = None, {who.org.id}
    else:
        consumers, providers = sides(who)
    found = service.list_applications(session, consumer_ids=consumers, provider_ids=providers,
                                      states={state} if state else None, limit=limit)
    return [public(session, a) for a in found]


@router.get("/queue")
def queue(session: SessionDep, who: Approver) -> list[ApplicationPublic]:
    """What waits for the caller's decision."""
    return [public(session, a) for a in service.queue(session, who)]


@router.get("/{code}")
def get_application(code: str, session: SessionDep, who: Applicant) -> ApplicationPublic:
    return public(session, visible(session, who, code))


@router.post("/{code}/approve")
def approve(code: str, data: DecisionIn, session: SessionDep, who: Approver,
            settings: SettingsDep) -> ApplicationPublic:
    application = visible(session, who, code)
    service.approve(session, application, who, comment=data.comment,
                    terms=data.terms.terms() if data.terms else None,
                    bureau_review=settings.sharing_bureau_review)
    return public(session, application)


@router.post("/{code}/reject")
def reject(code: str, data: DecisionIn, session: SessionDep, who: Approver) -> ApplicationPublic:
    application = visible(session, who, code)
    service.reject(session, application, who, comment=data.comment or "")
    return public(session, application)


@router.post("/{code}/withdraw")
def withdraw(code: str, data: DecisionIn, session: SessionDep, who: Applicant
             ) -> ApplicationPublic:
    application = visible(session, who, code)
    service.withdraw(session, application, who, comment=data.comment)
    return public(session, application)
