"""Public pages about the portal itself: usage per dataset and organisation with charts, the
open-data self-assessment, and the open API's documentation; plus their JSON twins."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from datapolis.orgs.deps import SessionDep, public
from datapolis.portal import assessment, datasets, usage
from datapolis.portal.web import OptionalPortalUser, render_portal
from datapolis.warehouse.deps import WarehouseDep
from datapolis.web.charts import bar_chart
from datapolis.web.i18n import gettext

router = APIRouter(dependencies=[Depends(public)])
TOP = 15


def _usage(session: SessionDep) -> dict[str, Any]:
    names = {d.code: d.name for d in datasets.search_datasets(
        session, limit=datasets.MAX_LIMIT).datasets}
    orgs = {org.code: org.name for org, _ in datasets.open_providers(session)}
    by_dataset = {code: counts for code, counts in usage.by_dataset(session).items()
                  if code in names}
    by_org = {code: counts for code, counts in usage.by_organisation(session).items()
              if code in orgs}
    return {"datasets": sorted(([code, names[code], counts] for code, counts in
                                by_dataset.items()), key=lambda r: -sum(r[2].values())),
            "organisations": sorted(([code, orgs[code], counts] for code, counts in
                                     by_org.items()), key=lambda r: -sum(r[2].values()))}


@router.get("/open/usage", response_class=HTMLResponse, include_in_schema=False)
def usage_page(request: Request, session: SessionDep, user: OptionalPortalUser
               ) -> HTMLResponse:
    found = _usage(session)
    charts = {}
    for key in ("datasets", "organisations"):
        top = found[key][:TOP]
        charts[key] = {kind: bar_chart([name for _, name, _ in top],
                                       [counts[kind] for _, _, counts in top], horizontal=True)
                       for kind in usage.KINDS}
    return render_portal(request, "portal/usage.html", {**found, "charts": charts,
                                                        "kinds": usage.KINDS})


@router.get("/open/v1/usage", tags=["Open API"])
def usage_json(session: SessionDep) -> dict[str, Any]:
    """Views, downloads and API calls per open dataset and per organisation (public)."""
    found = _usage(session)
    return {key: [{"code": code, "name": name, **counts} for code, name, counts in rows]
            for key, rows in found.items()}


@router.get("/open/assessment", response_class=HTMLResponse, include_in_schema=False)
def assessment_page(request: Request, session: SessionDep, warehouse: WarehouseDep,
                    user: OptionalPortalUser) -> HTMLResponse:
    found = assessment.indicators(session, warehouse)
    percent = [i for i in found if i.unit == "%"]
    chart = bar_chart([gettext(request, i.label) for i in percent],
                      [round(i.value) for i in percent], horizontal=True)
    return render_portal(request, "portal/assessment.html", {"indicators": found,
                                                             "assessment_chart": chart})


@router.get("/open/v1/assessment", tags=["Open API"])
def assessment_json(session: SessionDep, warehouse: WarehouseDep) -> list[dict[str, Any]]:
    """The self-assessment indicators (public)."""
    return [{"key": i.key, "label": i.label, "value": i.value, "unit": i.unit}
            for i in assessment.indicators(session, warehouse)]


@router.get("/open/api", response_class=HTMLResponse, include_in_schema=False)
def api_docs(request: Request, user: OptionalPortalUser) -> HTMLResponse:
    return render_portal(request, "portal/api.html", {
        "base_url": str(request.base_url).rstrip("/")})
