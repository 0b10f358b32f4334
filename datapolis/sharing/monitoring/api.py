"""JSON API of sharing monitoring under /api/sharing: call statistics (volume, top
organisations, flows, interfaces), alerts with acknowledgement, the publishable export and a
run of the monitor on demand."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.models import ApiApp, Organisation
from datapolis.orgs.permissions import Permission
from datapolis.sharing.monitoring import alerts, publish, stats
from datapolis.sharing.monitoring.models import Alert
from datapolis.sharing.monitoring.monitor import run_once

router = APIRouter(prefix="/api/sharing", tags=["sharing monitoring"])
UsageReader = Annotated[Principal, Depends(requires(Permission.READ_SHARING_USAGE))]
Monitor = Annotated[Principal, Depends(requires(Permission.MONITOR_SHARING))]
Period = Annotated[str, Query(description="24h, 7d, 30d or 90d")]
Interval = Annotated[str, Query(description="hour or day")]


def org_scope(principal: Principal) -> int | None:
    """None for the bureau (every call); else the caller's own organisation."""
    return None if principal.can(Permission.MONITOR_SHARING) else principal.org.id


def rules_of(request: Request) -> alerts.Rules:
    return alerts.Rules.from_settings(request.app.state.settings)


class AlertPublic(BaseModel):
    id: int
    kind: str
    severity: str
    consumer_org: str | None  # organisation codes
    consumer_org_name: str | None
    provider_org: str | None
    app_key: str | None
    resource_code: str | None
    error_code: str | None
    window_start: datetime
    window_end: datetime
    calls: int
    rows: int
    observed: float | None
    baseline: float | None
    details: dict[str, Any]
    first_seen_at: datetime
    last_seen_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_comment: str | None


class AcknowledgeIn(BaseModel):
    comment: str = Field(min_length=1, max_length=alerts.MAX_COMMENT)


def alert_public(session: Session, alert: Alert) -> AlertPublic:
    def org(org_id: int | None) -> Organisation | None:
        return session.get(Organisation, org_id) if org_id is not None else None

    consumer, provider = org(alert.consumer_org_id), org(alert.provider_org_id)

    app = session.get(ApiApp, alert.app_id) if alert.app_id is not None else None
    return AlertPublic(
        id=alert.id, kind=alert.kind, severity=alert.severity,
        consumer_org=consumer.code if consumer else None,
        consumer_org_name=consumer.name if consumer else None,
        provider_org=provider.code if provider else None,
        app_key=app.app_key if app is not None else None, resource_code=alert.resource_code,
        error_code=alert.error_code, window_start=alert.window_start,
        window_end=alert.window_end, calls=alert.calls, rows=alert.rows,
        observed=alert.observed, baseline=alert.baseline, details=dict(alert.details),
        first_seen_at=alert.first_seen_at, last_seen_at=alert.last_seen_at,
        acknowledged_at=alert.acknowledged_at, acknowledged_by=alert.acknowledged_by,
        ack_comment=alert.ack_comment)


@router.get("/monitor/volume")
def volume(session: SessionDep, principal: UsageReader, period: Period = "24h",
           interval: Interval = "hour") -> list[dict[str, Any]]:
    """Calls, refused (4xx), failed (5xx) and rows per hour or city day."""
    w = stats.window(period, interval)
    return [{"start": p.start.isoformat(), "calls": p.calls, "refused": p.refused,
             "failed": p.failed, "rows": p.rows}
            for p in stats.volume(session, w, org_id=org_scope(principal))]


@router.get("/monitor/top")
def top(session: SessionDep, principal: UsageReader, period: Period = "24h",
        side: Literal["consumer", "provider"] = "consumer",
        limit: Annotated[int, Query(ge=1, le=100)] = 10) -> list[dict[str, Any]]:
    w = stats.window(period, "day")
    return [t.__dict__ for t in stats.top(session, w, side, org_id=org_scope(principal),
                                          limit=limit)]


@router.get("/monitor/flows")
def flows(session: SessionDep, principal: UsageReader, period: Period = "24h"
          ) -> list[dict[str, Any]]:
    """Data flowing from provider to consumer organisations: calls, rows, bytes."""
    w = stats.window(period, "day")
    return [f.__dict__ for f in stats.flows(session, w, org_id=org_scope(principal))]


@router.get("/monitor/interfaces")
def interfaces(session: SessionDep, principal: UsageReader, period: Period = "24h"
               ) -> list[dict[str, Any]]:
    """Per resource and interface: calls, error rate, latency p50/p95/p99, min/avg/max, last
    success and last failure (5xx)."""
    w = stats.window(period, "day")
    return [{**i.__dict__, "error_rate": i.error_rate}
            for i in stats.interfaces(session, w, org_id=org_scope(principal))]


@router.get("/alerts", response_model=list[AlertPublic])
def list_alerts(session: SessionDep, principal: UsageReader, kind: str | None = None,
                state: str = "open",
                limit: Annotated[int, Query(ge=1, le=2000)] = 500) -> list[AlertPublic]:
    found = alerts.list_alerts(session, org_id=org_scope(principal), kind=kind, state=state,
                               limit=limit)
    return [alert_public(session, a) for a in found]


@router.get("/alerts/{alert_id}", response_model=AlertPublic)
def get_alert(alert_id: int, session: SessionDep, principal: UsageReader) -> AlertPublic:
    return alert_public(session, alerts.get_alert(session, alert_id,
                                                  org_id=org_scope(principal)))


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertPublic)
def acknowledge(alert_id: int, body: AcknowledgeIn, session: SessionDep,
                principal: Monitor) -> AlertPublic:
    alert = alerts.acknowledge(session, alerts.get_alert(session, alert_id),
                               actor=principal.name, comment=body.comment)
    return alert_public(session, alert)


@router.post("/monitor/run")
def run(request: Request, session: SessionDep, principal: Monitor) -> dict[str, int]:
    """Roll up new call records and evaluate the alerts now (the server does it every minute)."""
    result = run_once(session, rules_of(request))
    return {"hours_rolled": result.hours_rolled, "alerts_touched": result.alerts_touched}


@router.get("/stats/export")
def export(session: SessionDep, principal: Monitor,
           start: Annotated[date, Query(alias="from")], end: Annotated[date, Query(alias="to")],
           interval: Literal["hour", "day"] = "day",
           org_level: Literal["none", "county", "org"] = "county",
           format: Literal["csv", "json"] = "csv") -> Response:
    """Call statistics for publication: no app, no address, organisations at `org_level`,
    times rounded to `interval` (city time)."""
    asked = publish.Request(start, end, interval, org_level, format)
    body = publish.export(session, asked)
    media = "application/json" if format == "json" else "text/csv; charset=utf-8"
    name = f"sharing-stats-{start:%Y%m%d}-{end:%Y%m%d}.{format}"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
