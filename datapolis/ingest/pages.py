"""Pages of the data highway: sources and jobs, and each job's run history with charts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from datapolis.errors import NotFound
from datapolis.ingest import jobs, service
from datapolis.ingest.models import Source, SourceTableChoice, SyncJob
from datapolis.orgs.api import readable_org_ids
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.web.charts import bar_chart, line_chart
from datapolis.web.i18n import N_, gettext
from datapolis.web.nav import NavItem
from datapolis.web.render import local_time, render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Data highway"), "/highway", Permission.READ_SOURCES, icon="highway")]
SourceReader = Annotated[Principal, Depends(requires(Permission.READ_SOURCES))]
HISTORY = 50  # runs shown on a job's page
MODE_LABELS = {"snapshot": N_("Full snapshot"), "incremental": N_("Incremental"),
               "cdc": N_("Change capture")}
STATUS_LABELS = {"running": N_("Running"), "succeeded": N_("Succeeded"), "failed": N_("Failed")}
CHANGE_LABELS = {"added": N_("Column added"), "widened": N_("Type widened"),
                 "dropped": N_("Column dropped")}


@router.get("/highway", response_class=HTMLResponse)
def highway(request: Request, session: SessionDep, principal: SourceReader) -> HTMLResponse:
    visible = readable_org_ids(session, principal)
    sources = service.list_sources(session, visible)
    query = select(SyncJob).join(SyncJob.table).join(SourceTableChoice.source)
    if visible is not None:
        query = query.where(Source.org_id.in_(visible))
    all_jobs = list(session.scalars(query.order_by(SyncJob.code)))
    landed = [(job.code, job.runs[0].rows_read) for job in all_jobs if job.runs]
    return render(request, "ingest/highway.html", {
        "sources": sources,
        "jobs": all_jobs,
        "mode_labels": MODE_LABELS,
        "status_labels": STATUS_LABELS,
        "rows_chart": bar_chart([c for c, _ in landed], [n for _, n in landed], horizontal=True)
        if landed else None,
    })


@router.get("/highway/jobs/{code}", response_class=HTMLResponse)
def job_page(
    request: Request, code: str, session: SessionDep, principal: SourceReader
) -> HTMLResponse:
    job = jobs.get_job(session, code)
    visible = readable_org_ids(session, principal)
    if visible is not None and job.table.source.org_id not in visible:
        raise NotFound(f"no sync job with code {code!r}")  # do not reveal other departments'
    runs = list(reversed(job.runs[:HISTORY]))
    labels = [local_time(run.started_at, "%m-%d %H:%M") for run in runs]
    return render(request, "ingest/job.html", {
        "job": job,
        "runs": list(reversed(runs)),
        "mode_labels": MODE_LABELS,
        "status_labels": STATUS_LABELS,
        "change_labels": CHANGE_LABELS,
        "changes": jobs.schema_changes(session, job),
        "rows_chart": bar_chart(labels, [run.rows_read for run in runs]) if runs else None,
        "lag_chart": line_chart(labels, [run.lag_seconds for run in runs],
                                gettext(request, "Lag (seconds)"))
        if any(run.lag_seconds is not None for run in runs) else None,
    })
