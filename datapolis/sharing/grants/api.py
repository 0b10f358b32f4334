"""JSON API of grants under /api/sharing/grants, and what the policy lets leave of a resource
under /api/sharing/policy/{resource}."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from datapolis.catalog import service as catalog_service
from datapolis.catalog.enums import EntryStatus
from datapolis.catalog.models import CatalogEntry
from datapolis.errors import NotFound
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.models import ApiApp, Organisation
from datapolis.orgs.permissions import Permission
from datapolis.registry.base import utcnow
from datapolis.security.fields.reads import NotAllowed
from datapolis.sharing.grants import items as grant_items
from datapolis.sharing.grants import service
from datapolis.sharing.grants.models import Grant
from datapolis.sharing.grants.service import Limits

router = APIRouter(prefix="/api/sharing", tags=["sharing grants"])
Reader = Annotated[Principal, Depends(requires(Permission.APPLY_SHARING))]
Approver = Annotated[Principal, Depends(requires(Permission.APPROVE_SHARING))]

_STRICT = ConfigDict(extra="forbid")


class ItemPublic(BaseModel):
    column: str
    method: str
    params: dict[str, Any]


class GrantPublic(BaseModel):
    code: str
    resource: str
    resource_name: str
    table: str | None
    provider: str
    consumer: str
    app: str | None
    items: list[ItemPublic]
    row_scope: str | None
    calls_per_day: int | None
    rows_per_day: int | None
    rate_per_second: float | None
    valid_from: datetime
    valid_until: datetime | None
    status: str  # active | revoked | expired | pending
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None
    created_by: str
    created_at: datetime


class PolicyItem(BaseModel):
    item: str
    column: str
    method: str | None  # the least de-identification a grant may use; None: withheld
    params: dict[str, Any]
    withheld_because: str | None


class MethodIn(BaseModel):
    model_config = _STRICT
    method: str
    params: dict[str, int | str] = Field(default_factory=dict)


class GrantChange(BaseModel):
    model_config = _STRICT
    row_scope: str | None = Field(None, description="New row scope; empty text: every row.")
    calls_per_day: int | None = None
    rows_per_day: int | None = None
    rate_per_second: float | None = None
    valid_until: datetime | None = None
    methods: dict[str, MethodIn] = Field(default_factory=dict)


class RevokeIn(BaseModel):
    model_config = _STRICT
    reason: str | None = Field(None, max_length=2000)


def public(session: Session, grant: Grant) -> GrantPublic:
    entry = session.get(CatalogEntry, grant.entry_id)
    provider = session.get(Organisation, grant.provider_org_id)
    consumer = session.get(Organisation, grant.consumer_org_id)
    app = session.get(ApiApp, grant.app_id)
    assert entry is not None and provider is not None and consumer is not None
    return GrantPublic(
        code=grant.code, resource=entry.resource_code, resource_name=entry.name,
        table=entry.warehouse_table, provider=provider.code, consumer=consumer.code,
        app=app.app_key if app else None,
        items=[ItemPublic(column=i.column, method=i.method, params=dict(i.params))
               for i in grant.items],
        row_scope=grant.row_scope, calls_per_day=grant.calls_per_day,
        rows_per_day=grant.rows_per_day, rate_per_second=grant.rate_per_second,
        valid_from=grant.valid_from, valid_until=grant.valid_until,
        status=service.status(grant, utcnow()), revoked_at=grant.revoked_at,
        revoked_by=grant.revoked_by, revoke_reason=grant.revoke_reason,
        created_by=grant.created_by, created_at=grant.created_at)


def may_see(who: Principal, grant: Grant) -> bool:
    return (who.can(Permission.MANAGE_GRANTS)
            or who.org.id in (grant.provider_org_id, grant.consumer_org_id))


def may_manage(who: Principal, grant: Grant) -> bool:
    """The bureau, or the providing department's administrators."""
    return who.can(Permission.MANAGE_GRANTS) or (
        who.can(Permission.APPROVE_SHARING) and who.org.id == grant.provider_org_id)


def visible(session: Session, who: Principal, code: str) -> Grant:
    grant = service.get_grant(session, code)
    if not may_see(who, grant):
        raise NotFound(f"no grant {code!r}")
    return grant


def managed(session: Session, who: Principal, code: str) -> Grant:
    grant = visible(session, who, code)
    if not may_manage(who, grant):
        raise NotAllowed("only the providing department's administrators or the bureau "
                         "change or revoke a grant")
    return grant


def policy_items(session: Session, entry: CatalogEntry) -> list[PolicyItem]:
    return [PolicyItem(item=a.item, column=a.column,
                       method=a.floor.method if a.floor else None,
                       params=dict(a.floor.params) if a.floor else {},
                       withheld_because=a.reason)
            for a in grant_items.policy(session, entry).values()]


@router.get("/grants")
def list_grants(session: SessionDep, who: Reader, resource: str | None = None
                ) -> list[GrantPublic]:
    entry_id = catalog_service.get_entry(session, resource).id if resource else None
    scope = None if who.can(Permission.MANAGE_GRANTS) else {who.org.id}
    return [public(session, g) for g in service.list_grants(session, org_ids=scope,
                                                            entry_id=entry_id)]


@router.get("/grants/{code}")
def get_grant(code: str, session: SessionDep, who: Reader) -> GrantPublic:
    return public(session, visible(session, who, code))


@router.patch("/grants/{code}")
def change_grant(code: str, data: GrantChange, session: SessionDep, who: Approver
                 ) -> GrantPublic:
    grant = managed(session, who, code)
    given = data.model_fields_set
    limits = None
    if given & {"calls_per_day", "rows_per_day", "rate_per_second"}:
        limits = Limits(
            data.calls_per_day if "calls_per_day" in given else grant.calls_per_day,
            data.rows_per_day if "rows_per_day" in given else grant.rows_per_day,
            data.rate_per_second if "rate_per_second" in given else grant.rate_per_second)
    service.change_grant(
        session, grant, actor=who.name, limits=limits,
        row_scope=(data.row_scope or None) if "row_scope" in given else ...,
        valid_until=data.valid_until if "valid_until" in given else ...,
        methods={c: (m.method, m.params) for c, m in data.methods.items()})
    return public(session, grant)


@router.post("/grants/{code}/revoke")
def revoke_grant(code: str, data: RevokeIn, session: SessionDep, who: Approver) -> GrantPublic:
    grant = managed(session, who, code)
    service.revoke_grant(session, grant, actor=who.name, reason=data.reason)
    return public(session, grant)


@router.get("/policy/{resource:path}")
def policy(resource: str, session: SessionDep, who: Reader) -> list[PolicyItem]:
    """Each item of a published resource with the least de-identification a grant may use."""
    entry = catalog_service.get_entry(session, resource)
    if entry.status != EntryStatus.PUBLISHED and entry.provider_id != who.org.id \
            and not who.can(Permission.REVIEW_CATALOG):
        raise NotFound(f"no catalog entry with resource code {resource!r}")
    return policy_items(session, entry)
