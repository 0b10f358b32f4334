"""Operating the platform: health check, Prometheus metrics, static files."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datapolis import __version__
from datapolis.orgs.deps import Principal, public, requires
from datapolis.orgs.permissions import Permission
from datapolis.registry.db import Registry
from datapolis.web.numbers import key_numbers
from datapolis.web.render import templates

router = APIRouter(tags=["system"])
UNMATCHED_ROUTE = "<unmatched>"


@router.get("/docs", dependencies=[Depends(public)], include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI description, from our own static files (no CDN)."""
    return templates(request).TemplateResponse(request, "docs.html", {"title": "Datapolis API"})


@router.get("/healthz", dependencies=[Depends(public)])
def healthz(request: Request) -> JSONResponse:
    """Liveness and readiness: 200 when the registry answers, 503 when it does not."""
    registry: Registry = request.app.state.registry
    try:
        with registry.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        reachable = True
    except SQLAlchemyError:
        reachable = False
    return JSONResponse(
        {
            "status": "ok" if reachable else "unavailable",
            "version": __version__,
            "registry": "reachable" if reachable else "unreachable",
        },
        status_code=200 if reachable else 503,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/metrics", response_class=Response)
def metrics(
    request: Request,
    _principal: Annotated[Principal, Depends(requires(Permission.READ_METRICS))],
) -> Response:
    """Prometheus text format: HTTP traffic and the platform's key numbers."""
    registry: CollectorRegistry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


# --- collecting ----------------------------------------------------------------------------


class KeyNumbersCollector(Collector):
    """Counts read from the registry at scrape time, so they are never stale."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        registry: Registry = self.app.state.registry
        with registry.session() as session:
            numbers = key_numbers(session)
        orgs = GaugeMetricFamily(
            "datapolis_organisations", "Organisations in the registry.", labels=["kind"]
        )
        for kind, count in numbers.orgs_by_kind.items():
            orgs.add_metric([kind.value], count)
        users = GaugeMetricFamily("datapolis_users", "Active users.", labels=["role"])
        for role, count in numbers.users_by_role.items():
            users.add_metric([role.value], count)
        yield orgs
        yield users
        yield GaugeMetricFamily(
            "datapolis_api_apps", "API apps that are not revoked.", value=numbers.active_apps
        )


class Metrics:
    """One app's collectors; a registry per app keeps test apps from sharing counters."""

    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "datapolis_http_requests",
            "HTTP requests answered.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "datapolis_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            registry=self.registry,
        )
        self.registry.register(KeyNumbersCollector(app))


class MetricsMiddleware:
    """Counts and times each request under its route template (`/orgs/{code}`), not the raw
    path, so the number of series stays bounded."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status_code = 500
        started = time.perf_counter()

        async def send_recording_status(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            route: BaseRoute | None = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED_ROUTE
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status_code)).inc()
            self.metrics.duration.labels(method, template).observe(time.perf_counter() - started)


def install_metrics(app: FastAPI) -> None:
    app.state.metrics = Metrics(app)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)


def mount_static(app: FastAPI, directory: Path, vendor: Path) -> None:
    """Our own files under /static, the copied third-party libraries under /static/vendor
    (mounted first: the longer prefix must win)."""
    vendor.mkdir(parents=True, exist_ok=True)
    app.mount("/static/vendor", StaticFiles(directory=vendor), name="vendor")
    app.mount("/static", StaticFiles(directory=directory), name="static")
