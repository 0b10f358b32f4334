"""Pages of sharing monitoring: /sharing/monitor (volume, top organisations, flows, latency,
errors and stability, each chart with its table) and /sharing/alerts (the alert list, with
acknowledgement for the bureau)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from datapolis.errors import UserError
from datapolis.orgs.deps import SessionDep
from datapolis.orgs.permissions import Permission
from datapolis.sharing.monitoring import alerts, stats
from datapolis.sharing.monitoring.api import Monitor, UsageReader, alert_public, org_scope
from datapolis.sharing.monitoring.charts import latency_chart, sankey_chart, volume_chart
from datapolis.web.charts import bar_chart
from datapolis.web.i18n import N_, gettext
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Interface monitoring"), "/sharing/monitor", Permission.READ_SHARING_USAGE,
               icon="monitor"),
       NavItem(N_("Sharing alerts"), "/sharing/alerts", Permission.READ_SHARING_USAGE,
               icon="alerts")]
PERIOD_LABELS = {"24h": N_("Last 24 hours"), "7d": N_("Last 7 days"),
                 "30d": N_("Last 30 days"), "90d": N_("Last 90 days")}
INTERVAL_LABELS = {"hour": N_("Hourly"), "day": N_("Daily")}
KIND_LABELS = {"no_grant": N_("Calls without a grant"), "quota": N_("Quota exceeded"),
               "spike": N_("Call spike"), "off_hours_bulk": N_("Off-hours bulk pull")}
STATE_LABELS = {"open": N_("Open"), "acknowledged": N_("Acknowledged"), "all": N_("All")}


@router.get("/sharing/monitor", response_class=HTMLResponse)
def monitor(request: Request, session: SessionDep, principal: UsageReader,
            period: str = "24h", interval: str = "hour") -> HTMLResponse:
    if period in stats.PERIODS and interval == "hour" \
            and stats.PERIODS[period] > timedelta(hours=stats.MAX_HOUR_POINTS):
        interval = "day"  # too many hourly points: show days rather than refuse
    try:
        w = stats.window(period, interval)
    except UserError:
        period, interval = "24h", "hour"
        w = stats.window(period, interval)
    scope = org_scope(principal)
    points = stats.volume(session, w, org_id=scope)
    consumers = stats.top(session, w, "consumer", org_id=scope)
    providers = stats.top(session, w, "provider", org_id=scope)
    flows = stats.flows(session, w, org_id=scope)
    kinds = stats.interfaces(session, w, org_id=scope)
    calls = sum(p.calls for p in points)
    errors = sum(p.refused + p.failed for p in points)
    by_rows = any(f.rows for f in flows)
    labels = [f"{k.resource_code or '—'} · {k.interface}" for k in kinds]
    return render(request, "sharing_monitoring/monitor.html", {
        "period": period, "interval": interval, "period_labels": PERIOD_LABELS,
        "interval_labels": INTERVAL_LABELS, "bureau": scope is None, "points": points,
        "calls": calls, "errors": errors, "rows": sum(p.rows for p in points),
        "error_rate": errors / calls if calls else None,
        "consumers": consumers, "providers": providers, "flows": flows, "kinds": kinds,
        "flows_by_rows": by_rows,
        "volume_chart": volume_chart([p.label for p in points], [
            (gettext(request, "Accepted"), [p.calls - p.refused - p.failed for p in points]),
            (gettext(request, "Refused"), [p.refused for p in points]),
            (gettext(request, "Failed"), [p.failed for p in points])]) if calls else None,
        "consumer_chart": bar_chart([c.name for c in consumers], [c.calls for c in consumers],
                                    horizontal=True) if consumers else None,
        "provider_chart": bar_chart([c.name for c in providers], [c.calls for c in providers],
                                    horizontal=True) if providers else None,
        "flow_chart": sankey_chart([
            (gettext(request, "%(name)s (provider)") % {"name": f.provider},
             gettext(request, "%(name)s (consumer)") % {"name": f.consumer},
             f.rows if by_rows else f.calls) for f in flows]) if flows else None,
        "latency_chart": latency_chart(labels, [k.p50 for k in kinds], [k.p95 for k in kinds],
                                       [k.p99 for k in kinds]) if kinds else None,
    })


def _alerts_page(request: Request, session: SessionDep, principal: UsageReader,
                 kind: str | None, state: str, error: str | None = None,
                 status_code: int = 200) -> HTMLResponse:
    try:
        found = alerts.list_alerts(session, org_id=org_scope(principal), kind=kind or None,
                                   state=state)
    except UserError:
        kind, state = None, "open"
        found = alerts.list_alerts(session, org_id=org_scope(principal), state=state)
    return render(request, "sharing_monitoring/alerts.html", {
        "alerts": [alert_public(session, a) for a in found], "kind": kind or "",
        "state": state, "kind_labels": KIND_LABELS, "state_labels": STATE_LABELS,
        "may_acknowledge": principal.can(Permission.MONITOR_SHARING), "error": error,
    }, status_code=status_code)


@router.get("/sharing/alerts", response_class=HTMLResponse)
def alert_list(request: Request, session: SessionDep, principal: UsageReader,
               kind: str | None = None, state: str = "open") -> HTMLResponse:
    return _alerts_page(request, session, principal, kind, state)


@router.post("/sharing/alerts/{alert_id}/acknowledge", response_class=HTMLResponse)
async def acknowledge(request: Request, alert_id: int, session: SessionDep,
                      principal: Monitor) -> Response:
    form = await request.form()
    try:
        alerts.acknowledge(session, alerts.get_alert(session, alert_id), actor=principal.name,
                           comment=str(form.get("comment", "")))
    except UserError as exc:
        session.rollback()
        return _alerts_page(request, session, principal, None, "open", error=str(exc),
                            status_code=exc.status_code)
    return RedirectResponse("/sharing/alerts", status_code=303)
