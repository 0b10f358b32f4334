"""The public site (公共数据开放网): home, catalog and search, dataset pages, downloads,
organisation, theme and licence pages. No login to browse; conditionally open datasets show
their metadata to everyone and their rows to users whose application was approved."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from sqlalchemy.orm import Session

from datapolis.catalog.enums import LABELS, UpdateCycle
from datapolis.errors import NotFound
from datapolis.orgs.deps import SessionDep, public
from datapolis.portal import applications, datasets, downloads, feedback, stats, usage
from datapolis.portal.datasets import FACETS, Sort
from datapolis.portal.licences import LICENCES, licence_for
from datapolis.portal.themes import BY_CODE
from datapolis.portal.web import OptionalPortalUser, counter, render_portal
from datapolis.warehouse.deps import WarehouseDep
from datapolis.web.charts import bar_chart, line_chart, pie_chart
from datapolis.web.i18n import N_, current_locale, gettext

router = APIRouter(include_in_schema=False, dependencies=[Depends(public)])
PAGE_SIZE = 10
SORTS = {"relevance": N_("Relevance"), "modified": N_("Recently updated"),
         "name": N_("Name")}
FACET_LABELS = {"provider": N_("Provider"), "theme": N_("Theme"), "tag": N_("Tag"),
                "res_format": N_("Download format"), "update_cycle": N_("Update cycle"),
                "open_kind": N_("Open type")}
OPEN_KIND_LABELS = {"unconditional": N_("Open to everyone"),
                    "conditional": N_("Open on application")}


def facet_value_label(request: Request, session: Session, facet: str, value: str) -> str:
    if facet == "theme" and value in BY_CODE:
        theme = BY_CODE[value]
        return theme.name_zh if current_locale(request).startswith("zh") else theme.name
    if facet == "open_kind":
        return gettext(request, OPEN_KIND_LABELS.get(value, value))
    if facet == "update_cycle":
        return gettext(request, LABELS.get(UpdateCycle(value), value))
    if facet == "provider":
        return _org_names(session).get(value, value)
    return value


def _org_names(session: Session) -> dict[str, str]:
    return {org.code: org.name for org, _ in datasets.open_providers(session)}


@router.get("/open", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, warehouse: WarehouseDep,
         user: OptionalPortalUser) -> HTMLResponse:
    numbers = stats.headline(session, warehouse)
    latest = datasets.search_datasets(session, sort=[Sort("modified", True)], limit=6)
    themes = datasets.theme_counts(session)
    providers = sorted(datasets.open_providers(session), key=lambda p: -p[1])[:8]
    theme_chart = pie_chart([(facet_value_label(request, session, "theme", code), n)
                             for code, n in sorted(themes.items(), key=lambda t: -t[1])])
    return render_portal(request, "portal/home.html", {
        "numbers": numbers, "latest": latest.datasets, "themes": BY_CODE, "theme_counts": themes,
        "providers": providers, "theme_chart": theme_chart})


@router.get("/open/datasets", response_class=HTMLResponse)
def catalog(request: Request, session: SessionDep, user: OptionalPortalUser,
            q: str = "", sort: str = "relevance",
            page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> HTMLResponse:
    chosen = {name: request.query_params.getlist(name) for name in FACETS
              if request.query_params.getlist(name)}
    order = [Sort(sort, sort != "name")] if sort in SORTS else []
    found = datasets.search_datasets(session, query=q, filters=chosen, sort=order,
                                     offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    facets = {name: [(value, facet_value_label(request, session, name, value), count)
                     for value, count in list(values.items())[:12]]
              for name, values in found.facets.items() if name in FACET_LABELS and values}

    def link(toggle: tuple[str, str] | None = None, sort_by: str | None = None,
             to_page: int | None = None) -> str:
        """This search with one facet value switched on or off, another sort or page."""
        params: list[tuple[str, str]] = [("q", q)] if q else []
        params += [(name, v) for name, values in chosen.items() for v in values
                   if (name, v) != toggle]
        if toggle is not None and toggle[1] not in chosen.get(toggle[0], []):
            params.append(toggle)
        if (sort_by or sort) != "relevance":
            params.append(("sort", sort_by or sort))
        if to_page and to_page > 1:
            params.append(("page", str(to_page)))
        return "/open/datasets" + ("?" + urlencode(params) if params else "")

    return render_portal(request, "portal/catalog.html", {
        "q": q, "found": found, "facets": facets, "facet_labels": FACET_LABELS,
        "chosen": chosen, "sort": sort, "sorts": SORTS, "page": page,
        "pages": max(1, math.ceil(found.total / PAGE_SIZE)), "link": link,
        "open_kinds": OPEN_KIND_LABELS})


@router.get("/dataset/{slug}", response_class=HTMLResponse)
def dataset_page(request: Request, slug: str, session: SessionDep, warehouse: WarehouseDep,
                 user: OptionalPortalUser) -> HTMLResponse:
    found = datasets.get_dataset(session, slug)
    view = datasets.public_view(session, warehouse, found)
    readable = applications.may_read(session, found, user)
    preview = datasets.preview(session, warehouse, found) if readable else None
    charts = []
    if readable:
        for column in stats.column_charts(warehouse, view):
            option = (bar_chart(column.categories, column.values) if column.kind == "numeric"
                      else line_chart(column.categories, [float(v) for v in column.values],
                                      column.label))
            charts.append((column, option))
    _, series = stats.usage_series(session, found.code)
    usage_totals = {kind: sum(values) for kind, values in series.items()}
    counter(request).record(found.code, found.provider.code, "view")
    application = None
    if user is not None and found.open_kind == "conditional":
        application = next((a for a in applications.of_user(session, user)
                            if a.dataset_code == found.code), None)
    return render_portal(request, "portal/dataset.html", {
        "dataset": found, "entry": found.entry,
        "items": view.items if view else datasets.items(session, warehouse, found),
        "readable": readable, "preview": preview, "charts": charts,
        "rows": datasets.row_count(session, warehouse, found) if readable else None,
        "licence": licence_for(found.open_kind), "labels": LABELS,
        "last_update": datasets.last_update(session, found),
        "quality": datasets.quality_score(session, found),
        "usage": usage_totals, "open_kinds": OPEN_KIND_LABELS,
        "reports": feedback.reports(session, dataset_code=found.code, limit=20),
        "application": application, "base_url": str(request.base_url).rstrip("/"),
        "api_columns": view.columns if view else []})


@router.get("/dataset/{slug}/preview", response_class=HTMLResponse)
def preview_rows(request: Request, slug: str, session: SessionDep, warehouse: WarehouseDep,
                 user: OptionalPortalUser,
                 rows: Annotated[int, Query(ge=1, le=datasets.MAX_PREVIEW_ROWS)] = 50
                 ) -> HTMLResponse:
    """More preview rows, swapped into the dataset page by htmx."""
    found = datasets.get_dataset(session, slug)
    applications.check_read(session, found, user)
    return render_portal(request, "portal/_preview.html", {
        "preview": datasets.preview(session, warehouse, found, rows)})


@router.get("/dataset/{slug}/download.{extension}")
def download(request: Request, slug: str, extension: str, session: SessionDep,
             warehouse: WarehouseDep, user: OptionalPortalUser) -> StreamingResponse:
    """The whole public view in one format, streamed; counted as a download."""
    writer = downloads.writer_for(extension)
    found = datasets.get_dataset(session, slug)
    applications.check_read(session, found, user)
    view = datasets.public_view(session, warehouse, found)
    if view is None or view.sql is None:
        raise NotFound(f"dataset {found.code} has no data the public may download")
    labels = {item.column: item.name for item in view.items}
    header = [labels.get(column) or column for column in view.columns]
    sql = view.sql
    counter(request).record(found.code, found.provider.code, "download")

    batches = downloads.started(warehouse.query_batches(sql))

    def body() -> Iterator[bytes]:
        yield from writer.write(header, batches)

    filename = f"{found.slug}.{writer.format.extension}"
    return StreamingResponse(body(), media_type=downloads.media_type(writer), headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


@router.get("/organization", response_class=HTMLResponse)
def organisations(request: Request, session: SessionDep, user: OptionalPortalUser
                  ) -> HTMLResponse:
    providers = datasets.open_providers(session)
    return render_portal(request, "portal/organisations.html", {
        "providers": providers,
        "org_chart": bar_chart([org.name for org, _ in providers], [n for _, n in providers],
                           horizontal=True)})


@router.get("/organization/{code}", response_class=HTMLResponse)
def organisation(request: Request, code: str, session: SessionDep, user: OptionalPortalUser
                 ) -> HTMLResponse:
    org, count = datasets.get_provider(session, code)
    found = datasets.search_datasets(session, filters={"provider": [code]},
                                     sort=[Sort("modified", True)], limit=100)
    totals = stats_for_org(session, code)
    return render_portal(request, "portal/organisation.html", {
        "org": org, "count": count, "found": found, "usage": totals,
        "open_kinds": OPEN_KIND_LABELS})


def stats_for_org(session: Session, code: str) -> dict[str, int]:
    return usage.by_organisation(session).get(code, dict.fromkeys(usage.KINDS, 0))


@router.get("/theme")
def themes_index() -> RedirectResponse:
    return RedirectResponse("/open/datasets", status_code=303)


@router.get("/theme/{code}")
def theme(code: str) -> RedirectResponse:
    found = datasets.theme(code)
    return RedirectResponse(f"/open/datasets?{urlencode({'theme': found.code})}", status_code=303)


@router.get("/licence/{code}", response_class=HTMLResponse)
def licence(request: Request, code: str, user: OptionalPortalUser, session: SessionDep
            ) -> HTMLResponse:
    found = next((lic for lic in LICENCES.values() if lic.id == code), None)
    if found is None:
        raise NotFound(f"no licence {code!r}")
    return render_portal(request, "portal/licence.html", {"licence": found})
