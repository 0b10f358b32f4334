"""JSON API of call metering under /api/sharing: the call log and a grant's usage today.

The bureau (`sharing.monitor`) sees every call; a department (`sharing.usage`) the calls its
organisation made or answered, and the usage of grants it holds or provides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from datapolis.errors import NotFound
from datapolis.orgs import service as orgs
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.models import ApiApp, Organisation
from datapolis.orgs.permissions import Permission
from datapolis.registry.base import utcnow
from datapolis.sharing.grants import service as grants
from datapolis.sharing.metering import MeterDep
from datapolis.sharing.metering.limits import quota_day
from datapolis.sharing.metering.models import ShareCall
from datapolis.sharing.metering.queries import MAX_PAGE, CallFilter, Outcome, list_calls

router = APIRouter(prefix="/api/sharing", tags=["sharing metering"])
UsageReader = Annotated[Principal, Depends(requires(Permission.READ_SHARING_USAGE))]


def own_org(principal: Principal) -> int | None:
    """None for the bureau (every call); else the caller's organisation."""
    return None if principal.can(Permission.MONITOR_SHARING) else principal.org.id


class CallPublic(BaseModel):
    id: int
    record_id: str
    request_at: datetime
    response_at: datetime
    consumer_org: str | None
    app_key: str | None
    provider_org: str | None
    resource_code: str | None
    interface: str
    params_hash: str
    rows: int
    bytes: int
    status: int
    error_code: str | None
    latency_ms: float
    client_ip: str | None
    request_id: str | None


class CallPage(BaseModel):
    calls: list[CallPublic]
    next_before: int | None  # pass as `before` for the next (older) page


class UsagePublic(BaseModel):
    grant: str
    day: date  # the city's day (Asia/Shanghai) the quotas count
    calls: int
    rows: int
    calls_per_day: int | None
    rows_per_day: int | None
    rate_per_second: float | None


@dataclass
class Names:
    """Organisation codes and app keys by id, each looked up once per request."""

    session: Session
    orgs: dict[int, Organisation | None] = field(default_factory=dict)
    apps: dict[int, ApiApp | None] = field(default_factory=dict)

    def org(self, org_id: int | None) -> Organisation | None:
        if org_id is None:
            return None
        if org_id not in self.orgs:
            self.orgs[org_id] = self.session.get(Organisation, org_id)
        return self.orgs[org_id]

    def app(self, app_id: int | None) -> ApiApp | None:
        if app_id is None:
            return None
        if app_id not in self.apps:
            self.apps[app_id] = self.session.get(ApiApp, app_id)
        return self.apps[app_id]

    def public(self, row: ShareCall) -> CallPublic:
        consumer, provider, app = (self.org(row.consumer_org_id), self.org(row.provider_org_id),
                                   self.app(row.app_id))
        return CallPublic(
            id=row.id, record_id=row.record_id, request_at=row.request_at,
            response_at=row.response_at, consumer_org=consumer.code if consumer else None,
            app_key=app.app_key if app else None, provider_org=provider.code if provider else None,
            resource_code=row.resource_code, interface=row.interface,
            params_hash=row.params_hash, rows=row.rows_out, bytes=row.bytes_out,
            status=row.status, error_code=row.error_code, latency_ms=row.latency_ms,
            client_ip=row.client_ip, request_id=row.request_id)


def call_filter(session: Session, principal: Principal, *, start: datetime | None = None,
                end: datetime | None = None, consumer: str | None = None,
                provider: str | None = None, app_key: str | None = None,
                grant: str | None = None, resource_code: str | None = None,
                interface: str | None = None, outcome: Outcome | None = None,
                error_code: str | None = None) -> CallFilter:
    """The filter a person asked for, by codes, narrowed to what they may see."""
    return CallFilter(
        start=start, end=end, org_id=own_org(principal),
        consumer_org_id=orgs.get_organisation(session, consumer).id if consumer else None,
        provider_org_id=orgs.get_organisation(session, provider).id if provider else None,
        app_id=orgs.get_app(session, app_key).id if app_key else None,
        grant_id=grants.get_grant(session, grant).id if grant else None,
        resource_code=resource_code or None, interface=interface or None, outcome=outcome,
        error_code=error_code or None).checked()


@router.get("/calls", response_model=CallPage)
def calls(
    session: SessionDep, principal: UsageReader,
    start: Annotated[datetime | None, Query(description="request in at or after (ISO 8601)")]
    = None,
    end: Annotated[datetime | None, Query(description="request in before (ISO 8601)")] = None,
    consumer: Annotated[str | None, Query(description="consumer organisation code")] = None,
    provider: Annotated[str | None, Query(description="provider organisation code")] = None,
    app_key: str | None = None,
    grant: Annotated[str | None, Query(description="grant code, e.g. G2026112400012")] = None,
    resource_code: str | None = None,
    interface: str | None = None,
    outcome: Annotated[Outcome | None, Query(description="ok, refused (4xx), failed (5xx)")]
    = None,
    error_code: str | None = None,
    before: Annotated[int | None, Query(description="next_before of the previous page")]
    = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> CallPage:
    """Call records, newest first: every call to the sharing interfaces, accepted or refused."""
    flt = call_filter(session, principal, start=start, end=end, consumer=consumer,
                      provider=provider, app_key=app_key, grant=grant,
                      resource_code=resource_code, interface=interface, outcome=outcome,
                      error_code=error_code)
    rows = list_calls(session, flt, before_id=before, limit=limit)
    names = Names(session)
    return CallPage(calls=[names.public(r) for r in rows],
                    next_before=rows[-1].id if len(rows) == limit else None)


@router.get("/grants/{code}/usage", response_model=UsagePublic)
def usage(code: str, session: SessionDep, principal: UsageReader, meter: MeterDep,
          day: Annotated[date | None, Query(description="the city's day; default today")]
          = None) -> UsagePublic:
    """Calls and rows a grant used on a day against its quotas, unflushed calls included."""
    grant = grants.get_grant(session, code)
    scope = own_org(principal)
    if scope is not None and scope not in (grant.consumer_org_id, grant.provider_org_id):
        raise NotFound(f"no grant {code!r}")  # as if absent: codes are not secrets, data is
    when = day or quota_day(utcnow())
    used_calls, used_rows = meter.usage(grant.id, when)
    return UsagePublic(grant=grant.code, day=when, calls=used_calls, rows=used_rows,
                       calls_per_day=grant.calls_per_day, rows_per_day=grant.rows_per_day,
                       rate_per_second=grant.rate_per_second)
