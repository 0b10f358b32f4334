"""DCAT-AP routes (public): /catalog.ttl|.jsonld|.rdf?page=N and /dataset/{code}.ttl|... ."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from datapolis.orgs.deps import SessionDep, public
from datapolis.portal import datasets, dcat
from datapolis.portal.ckan.api import SITE_TITLE, usage_counter
from datapolis.portal.urls import PortalUrls

router = APIRouter(tags=["DCAT-AP"], dependencies=[Depends(public)])


@router.get("/catalog.{fmt}")
def catalog(request: Request, session: SessionDep, fmt: str,
            page: Annotated[int, Query(ge=1)] = 1) -> Response:
    """One page of the open catalogue as DCAT-AP 3.0.1 (Turtle, JSON-LD or RDF/XML)."""
    urls = PortalUrls.of(request, request.app.state.settings)
    graph = dcat.catalog_graph(session, urls, page=page, title=SITE_TITLE)
    body, media_type = dcat.serialise(graph, fmt)
    return Response(body, media_type=f"{media_type}; charset=utf-8")


@router.get("/dataset/{slug}.{fmt}")
def dataset(request: Request, session: SessionDep, slug: str, fmt: str) -> Response:
    """One open dataset as DCAT-AP 3.0.1; 404 for anything not open."""
    dcat.check_format(fmt)
    found = datasets.get_dataset(session, slug)
    urls = PortalUrls.of(request, request.app.state.settings)
    body, media_type = dcat.serialise(dcat.dataset_graph(urls, found), fmt)
    usage_counter(request).record(found.code, found.provider.code, "api")
    return Response(body, media_type=f"{media_type}; charset=utf-8")
