"""Pages of the data highway: sources and jobs, and each job's run history with charts."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.errors import NotFound, UserError
from datapolis.ingest import jobs, service, throughput
from datapolis.ingest.models import Source, SourceTableChoice, SyncJob
from datapolis.orgs.api import manageable_org_ids, readable_org_ids
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.registry.base import utcnow
from datapolis.security.audit import service as audit
from datapolis.web.charts import bar_chart, line_chart, still
from datapolis.web.i18n import N_, gettext
from datapolis.web.nav import NavItem
from datapolis.web.render import fragment, local_time, render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Data highway"), "/highway", Permission.READ_SOURCES, icon="highway")]
SourceReader = Annotated[Principal, Depends(requires(Permission.READ_SOURCES))]
SourceManager = Annotated[Principal, Depends(requires(Permission.MANAGE_SOURCES))]
HISTORY = 50  # runs shown on a job's page
LIVE_MINUTES = 60  # the live charts' window
REFRESH_SECONDS = 5  # how often an open page asks for the live part again
MODE_LABELS = {"snapshot": N_("Full snapshot"), "incremental": N_("Incremental"),
               "cdc": N_("Change capture")}
STATUS_LABELS = {"running": N_("Running"), "succeeded": N_("Succeeded"), "failed": N_("Failed")}
CHANGE_LABELS = {"added": N_("Column added"), "widened": N_("Type widened"),
                 "dropped": N_("Column dropped")}


def _visible_jobs(session: Session, principal: Principal) -> list[SyncJob]:
    visible = readable_org_ids(session, principal)
    query = select(SyncJob).join(SyncJob.table).join(SourceTableChoice.source)
    if visible is not None:
        query = query.where(Source.org_id.in_(visible))
    return list(session.scalars(query.order_by(SyncJob.code)))


def _visible_job(session: Session, principal: Principal, code: str) -> SyncJob:
    job = jobs.get_job(session, code)
    visible = readable_org_ids(session, principal)
    if visible is not None and job.table.source.org_id not in visible:
        raise NotFound(f"no sync job with code {code!r}")  # do not reveal other departments'
    return job


def _minute_charts(request: Request, session: Session, job_ids: list[int]) -> dict[str, Any]:
    """The last hour, minute by minute: rows landed and the worst lag (live charts)."""
    series = throughput.last_minutes(session, job_ids=job_ids, now=utcnow(),
                                     minutes=LIVE_MINUTES)
    labels = [local_time(minute, "%H:%M") for minute in series.minutes]
    return {
        "minute_rows_chart": still(bar_chart(labels, series.rows)),
        "minute_lag_chart": still(line_chart(labels, series.lag_max,
                                             gettext(request, "Lag (seconds)")))
        if any(lag is not None for lag in series.lag_max) else None,
    }


def _live_context(request: Request, session: Session, principal: Principal) -> dict[str, Any]:
    all_jobs = _visible_jobs(session, principal)
    return {"jobs": all_jobs, "mode_labels": MODE_LABELS, "status_labels": STATUS_LABELS,
            "refresh_seconds": REFRESH_SECONDS,
            **_minute_charts(request, session, [job.id for job in all_jobs])}


@router.get("/highway", response_class=HTMLResponse)
def highway(request: Request, session: SessionDep, principal: SourceReader) -> HTMLResponse:
    sources = service.list_sources(session, readable_org_ids(session, principal))
    return render(request, "ingest/highway.html",
                  {"sources": sources, **_live_context(request, session, principal)})


@router.get("/highway/live", response_class=HTMLResponse)
def highway_live(request: Request, session: SessionDep, principal: SourceReader) -> HTMLResponse:
    """The jobs table and minute charts alone: the page swaps them in every few seconds."""
    return fragment(request, "ingest/_live.html", _live_context(request, session, principal))


def _job_live_context(request: Request, session: Session, job: SyncJob,
                      principal: Principal, notice: str | None = None) -> dict[str, Any]:
    manageable = manageable_org_ids(session, principal)
    return {"job": job, "last": job.runs[0] if job.runs else None,
            "status_labels": STATUS_LABELS, "refresh_seconds": REFRESH_SECONDS,
            "may_run": job.mode != "cdc" and principal.can(Permission.MANAGE_SOURCES)
            and (manageable is None or job.table.source.org_id in manageable),
            "notice": notice, **_minute_charts(request, session, [job.id])}


@router.get("/highway/jobs/{code}", response_class=HTMLResponse)
def job_page(
    request: Request, code: str, session: SessionDep, principal: SourceReader
) -> HTMLResponse:
    job = _visible_job(session, principal, code)
    runs = list(reversed(job.runs[:HISTORY]))
    labels = [local_time(run.started_at, "%m-%d %H:%M") for run in runs]
    return render(request, "ingest/job.html", {
        **_job_live_context(request, session, job, principal),
        "runs": list(reversed(runs)),
        "mode_labels": MODE_LABELS,
        "change_labels": CHANGE_LABELS,
        "changes": jobs.schema_changes(session, job),
        "rows_chart": bar_chart(labels, [run.rows_read for run in runs]) if runs else None,
        "lag_chart": line_chart(labels, [run.lag_seconds for run in runs],
                                gettext(request, "Lag (seconds)"))
        if any(run.lag_seconds is not None for run in runs) else None,
    })


@router.get("/highway/jobs/{code}/live", response_class=HTMLResponse)
def job_live(
    request: Request, code: str, session: SessionDep, principal: SourceReader
) -> HTMLResponse:
    job = _visible_job(session, principal, code)
    return fragment(request, "ingest/_job_live.html",
                    _job_live_context(request, session, job, principal))


@router.post("/highway/jobs/{code}/run", response_class=HTMLResponse, response_model=None)
def run_job_now(
    request: Request, code: str, session: SessionDep, principal: SourceManager
) -> HTMLResponse | RedirectResponse:
    """Start a batch job now on the server's scheduler; the live part shows it running.

    htmx swaps only 2xx answers, so a refusal reaches it as the live part with the reason;
    a plain form post gets the real status."""
    job = _visible_job(session, principal, code)
    manageable = manageable_org_ids(session, principal)
    try:
        if manageable is not None and job.table.source.org_id not in manageable:
            raise HTTPException(403, f"{job.table.source.org.name} is outside your organisation")
        if job.mode == "cdc":
            raise UserError(gettext(request, "A cdc job streams on its own while the server "
                                             "runs; it is not started by hand."))
        scheduler = request.app.state.scheduler
        if scheduler is None:
            raise UserError(gettext(request, "The scheduler is off on this server; run the job "
                                             "with `datapolis sync run`."))
        started = scheduler.run_now(code)
        if started:
            audit.record(session, kind="job.run_requested", org=job.table.source.org.code,
                         details={"job": code, "via": "page"})
        notice = gettext(request, "Started; the run appears here within seconds.") \
            if started else gettext(request, "This job is already running.")
    except (UserError, HTTPException) as exc:
        if request.headers.get("HX-Request") != "true":
            raise
        notice = str(exc.detail if isinstance(exc, HTTPException) else exc)
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse(f"/highway/jobs/{quote(code)}", status_code=303)
    return fragment(request, "ingest/_job_live.html",
                    _job_live_context(request, session, job, principal, notice))
