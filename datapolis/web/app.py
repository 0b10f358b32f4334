"""The app factory: the one place that assembles every slice's routes, pages and menu."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import SQLAlchemyError

from datapolis import __version__
from datapolis.baselib import api as baselib_api
from datapolis.baselib import pages as baselib_pages
from datapolis.catalog import api as catalog_api
from datapolis.catalog import autoregister, bureau_pages, profile_api
from datapolis.catalog import pages as catalog_pages
from datapolis.catalog.demands import pages as demand_pages
from datapolis.config import Settings, get_settings
from datapolis.ingest import jobs
from datapolis.ingest import pages as ingest_pages
from datapolis.ingest.scheduler import Scheduler
from datapolis.orgs import api as orgs_api
from datapolis.orgs import pages as orgs_pages
from datapolis.orgs.service import department_codes
from datapolis.orgs.throttle import LoginThrottle
from datapolis.portal import account_pages as portal_account_pages
from datapolis.portal import dcat_api
from datapolis.portal import feedback_pages as portal_feedback_pages
from datapolis.portal import insight_pages as portal_insight_pages
from datapolis.portal import open_api as portal_open_api
from datapolis.portal import pages as portal_pages
from datapolis.portal.ckan import api as ckan_api
from datapolis.portal.usage import UsageCounter
from datapolis.quality import api as quality_api
from datapolis.quality import hook as quality_hook
from datapolis.quality import pages as quality_pages
from datapolis.quality.issues import api as issues_api
from datapolis.quality.issues import pages as issues_pages
from datapolis.quality.schedules import QualityScheduler
from datapolis.registry.db import Registry, open_registry
from datapolis.security.audit import api as audit_api
from datapolis.security.audit import pages as audit_pages
from datapolis.security.audit.checkpointer import Checkpointer
from datapolis.security.audit.signing import Signer
from datapolis.security.fields import api as fields_api
from datapolis.security.fields import pages as fields_pages
from datapolis.security.fields.sealer import install as install_field_sealer
from datapolis.security.grading import api as grading_api
from datapolis.security.grading import pages as grading_pages
from datapolis.sharing.applications import api as applications_api
from datapolis.sharing.applications import pages as sharing_pages
from datapolis.sharing.gateway import api as gateway_api
from datapolis.sharing.gateway import bare as gateway_bare
from datapolis.sharing.gateway import manage as gateway_manage
from datapolis.sharing.gateway import pages as gateway_pages
from datapolis.sharing.gateway.state import install as install_gateway
from datapolis.sharing.grants import api as grants_api
from datapolis.sharing.metering import Meter
from datapolis.sharing.metering import api as metering_api
from datapolis.sharing.metering import pages as metering_pages
from datapolis.sharing.monitoring import api as monitoring_api
from datapolis.sharing.monitoring import pages as monitoring_pages
from datapolis.sharing.monitoring.alerts import Rules as AlertRules
from datapolis.sharing.monitoring.monitor import Monitor
from datapolis.standardise import api as std_api
from datapolis.standardise import hook as std_hook
from datapolis.warehouse import DuckDBEngine, Engine, ensure_layers
from datapolis.web import charts, errors, i18n, pages, system
from datapolis.web.assets import VENDOR_DIR
from datapolis.web.headers import install_security_headers
from datapolis.web.nav import NavItem
from datapolis.web.render import local_time

log = logging.getLogger(__name__)
PACKAGE = Path(__file__).resolve().parent.parent
STATIC_DIR = Path(__file__).resolve().parent / "static"

# Each slice's routers and menu entries, in menu order.
ROUTERS = [pages.router, system.router, orgs_api.router, orgs_pages.router, ingest_pages.router,
           quality_api.router, quality_pages.router, std_api.router, baselib_api.router,
           baselib_pages.router,
           catalog_api.router, profile_api.router, catalog_pages.router, bureau_pages.router,
           demand_pages.router, audit_api.router, audit_pages.router, grading_api.router,
           grading_pages.router, fields_api.router, fields_pages.router, issues_api.router,
           issues_pages.router, gateway_api.router, gateway_manage.router, gateway_pages.router,
           gateway_bare.router, ckan_api.router, dcat_api.router]
ROUTERS += [monitoring_api.router, monitoring_pages.router]  # sharing monitoring (issue 8)
ROUTERS += [metering_api.router, metering_pages.router]  # sharing call records (issue 8)
ROUTERS += [applications_api.router, grants_api.router, sharing_pages.router]  # applications
ROUTERS += [portal_pages.router, portal_account_pages.router, portal_feedback_pages.router,
            portal_insight_pages.router, portal_open_api.router]  # open-data site (issue 9)
NAV: list[NavItem] = [*pages.NAV, *catalog_pages.NAV, *bureau_pages.NAV, *demand_pages.NAV,
                      *grading_pages.NAV, *ingest_pages.NAV, *quality_pages.NAV, *issues_pages.NAV,
                      *baselib_pages.NAV,
                      *sharing_pages.NAV, *monitoring_pages.NAV, *metering_pages.NAV,
                      *gateway_pages.NAV, *portal_feedback_pages.NAV,
                      *orgs_pages.NAV, *audit_pages.NAV,
                      *fields_pages.NAV]


def template_dirs() -> list[Path]:
    """web/templates first (base.html), then every slice's own templates/ folder."""
    slices = sorted(p for p in PACKAGE.glob("*/templates") if p.parent.name != "web")
    return [PACKAGE / "web" / "templates", *slices]


def create_app(
    settings: Settings | None = None,
    registry: Registry | None = None,
    warehouse: Engine | None = None,
) -> FastAPI:
    """The web app. Without a `warehouse`, it opens (and owns) the settings' DuckDB file
    from startup to shutdown."""
    settings = settings or get_settings()
    settings.check_secure()
    registry = registry or open_registry(settings.registry_url)
    autoregister.install()  # landed tables become draft catalog entries
    std_hook.install()  # ... and rebuild the std tables that read them
    quality_hook.install()  # landed tables with rules are checked again
    install_field_sealer()  # protected columns land encrypted

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = warehouse or DuckDBEngine(settings.warehouse_file)
        try:
            with registry.session() as session:
                departments = department_codes(session)
        except SQLAlchemyError as exc:
            # Serve anyway: /healthz reports the registry, and the ods schemas follow later.
            log.error("registry unreachable at startup: %s", exc.__class__.__name__)
            departments = []
        ensure_layers(engine, departments)
        app.state.warehouse = engine
        scheduler = None
        if settings.scheduler:
            scheduler = Scheduler(jobs.RunContext.from_settings(settings, registry, engine))
            scheduler.start()
        app.state.scheduler = scheduler
        quality_checks = None
        if settings.scheduler:  # tables' scheduled quality checks, beside the highway's jobs
            quality_checks = QualityScheduler(registry, engine)
            quality_checks.start()
        checkpointer = Checkpointer(registry, Signer.from_secret(settings.secret_key))
        checkpointer.start()
        app.state.audit_checkpointer = checkpointer
        monitor = None
        if settings.sharing_monitor_seconds:  # call rollup and sharing alerts
            monitor = Monitor(registry, AlertRules.from_settings(settings))
            monitor.start(settings.sharing_monitor_seconds)
        meter = Meter(registry, settings.home / "meter")  # call records of the sharing interfaces
        meter.start()
        app.state.meter = meter
        try:
            yield
        finally:
            meter.stop()  # flushes every submitted record before the process ends
            app.state.portal_usage.flush()  # portal usage counts still pending
            checkpointer.stop()
            app.state.share_gateway.stop()  # bulk exports still writing
            if monitor is not None:
                monitor.stop()
            if scheduler is not None:
                scheduler.stop()
            if quality_checks is not None:
                quality_checks.stop()
            if warehouse is None:
                engine.close()

    app = FastAPI(
        title="Datapolis",
        version=__version__,
        description="Integrated public-data platform (一体化大数据平台) API.",
        docs_url=None,  # web/system.py serves /docs from local assets
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.registry = registry
    app.state.portal_usage = UsageCounter(registry)  # views, downloads, API calls
    install_gateway(app, settings)  # sharing gateway: signing keys, nonce book, grant cache
    app.state.login_throttle = LoginThrottle(
        max_failures=settings.login_max_failures,
        window=timedelta(minutes=settings.login_lockout_minutes),
        max_failures_per_address=settings.login_max_failures_per_ip,
    )
    app.state.nav = NAV
    templates = Jinja2Templates(directory=template_dirs())
    i18n.install(templates.env)
    templates.env.globals["chart"] = charts.chart
    templates.env.filters["local_time"] = local_time
    app.state.templates = templates
    app.state.page_context = lambda request: page_context(request, NAV)

    i18n.add_middleware(app, default_locale=settings.default_locale)
    errors.install(app)
    install_security_headers(app, hsts=settings.cookies_secure and settings.env != "dev")
    system.install_metrics(app)
    system.mount_static(app, STATIC_DIR, VENDOR_DIR)
    for router in ROUTERS:
        app.include_router(router)
    return app


def page_context(request: Request, nav: list[NavItem]) -> dict[str, Any]:
    principal = getattr(request.state, "principal", None)
    visible = [item for item in nav if principal is not None and principal.can(item.permission)]
    return {
        "principal": principal,
        "nav": visible,
        "locale": i18n.current_locale(request),
        "html_lang": i18n.html_lang(i18n.current_locale(request)),
        "locales": i18n.LOCALES,
        "csrf_token": principal.csrf_token if principal is not None else None,
        "version": __version__,
    }
