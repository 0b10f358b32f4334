"""The governance builds page (/governance/builds): standardisation specs and base libraries
with their last builds, rebuild buttons for the bureau, base-library sizes and merge scores,
and the conflicts between sources (paged, by library, field and department), each linked to
the quality issue opened for it."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from datapolis.baselib import overview, service
from datapolis.baselib.api import visible_tables
from datapolis.baselib.libraries import LIBRARIES, get_library
from datapolis.errors import UserError
from datapolis.ingest.service import secrets_keyring
from datapolis.orgs import service as orgs_service
from datapolis.orgs.deps import Principal, SessionDep, get_registry, requires
from datapolis.orgs.models import Organisation
from datapolis.orgs.permissions import Permission
from datapolis.quality.issues import service as issues
from datapolis.standardise import build as std_build
from datapolis.standardise import stored
from datapolis.standardise.spec import Spec, get_spec
from datapolis.warehouse.deps import WarehouseDep
from datapolis.warehouse.engine import Engine
from datapolis.web.i18n import N_
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
PAGE = "/governance/builds"
NAV = [NavItem(N_("Standardisation and base libraries"), PAGE, Permission.READ_QUALITY,
               icon="governance")]
Reader = Annotated[Principal, Depends(requires(Permission.READ_QUALITY))]
Builder = Annotated[Principal, Depends(requires(Permission.MANAGE_GOVERNANCE))]
PER_PAGE = 50
STATUS_LABELS = {"succeeded": N_("Succeeded"), "failed": N_("Failed"),
                 "running": N_("Running")}


def _departments(session: Session, principal: Principal, specs: dict[str, Spec]
                 ) -> list[tuple[Organisation, set[str]]]:
    """Departments (within the caller's reach) with the std tables built from their data."""
    reach = (None if principal.can(Permission.MANAGE_GOVERNANCE)
             else orgs_service.descendant_ids(session, principal.org))
    out = []
    for org in orgs_service.list_organisations(session):
        if reach is not None and org.id not in reach:
            continue
        tables = service.department_tables(specs, [org.code])
        if tables:
            out.append((org, tables))
    return out


def _page(request: Request, session: Session, warehouse: Engine, principal: Principal, *,
          library: str, field: str, department: str, page: int, error: str = "",
          status_code: int = 200) -> HTMLResponse:
    settings = request.app.state.settings
    specs = stored.effective_specs(session, settings.home)
    departments = _departments(session, principal, specs)
    sources = visible_tables(request, session, principal)
    chosen = next((tables for org, tables in departments if org.code == department), None)
    if department and chosen is None:
        raise UserError(f"no department {department!r} with standardised tables")
    if chosen is not None:
        sources = chosen if sources is None else sources & chosen
    lib = get_library(library).name if library else None
    fields = sorted({f.name for candidate in LIBRARIES.values() if lib in (None, candidate.name)
                     for f in candidate.fields})
    if field and field not in fields:
        raise UserError(f"no base-library field {field!r}; fields: {', '.join(fields)}")
    filters: dict[str, Any] = {"library": lib, "field": field or None, "sources": sources}
    total = service.count_conflicts(warehouse, **filters)
    page = max(1, min(page, max(1, -(-total // PER_PAGE))))
    found = service.conflicts(warehouse, **filters, limit=PER_PAGE,
                              offset=(page - 1) * PER_PAGE)
    links = issues.conflict_issues(
        session, {(c.library, c.field, c.other_source) for c in found},
        {s.table: [src.rstrip("*") for src in s.sources] for s in specs.values()})
    query = {"library": library, "field": field, "department": department}
    kept = {k: v for k, v in query.items() if v}
    return render(request, "baselib/builds.html", {
        "specs": overview.spec_rows(session, specs),
        "libraries": overview.library_rows(session, warehouse, settings.demo_dir),
        "conflicts": found, "links": links, "total": total, "page": page,
        "per_page": PER_PAGE,
        "newer": urlencode({**kept, "page": page - 1}) if page > 1 else None,
        "older": urlencode({**kept, "page": page + 1}) if page * PER_PAGE < total else None,
        "library": library, "field": field, "department": department, "fields": fields,
        "library_names": list(LIBRARIES), "departments": [org for org, _ in departments],
        "can_build": principal.can(Permission.MANAGE_GOVERNANCE), "error": error,
        "status_labels": STATUS_LABELS,
    }, status_code=status_code)


@router.get(PAGE, response_class=HTMLResponse)
def builds_page(
    request: Request, session: SessionDep, warehouse: WarehouseDep, principal: Reader,
    library: Annotated[str, Query(max_length=40)] = "",
    field: Annotated[str, Query(max_length=64)] = "",
    department: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    return _page(request, session, warehouse, principal, library=library, field=field,
                 department=department, page=page)


@router.post(PAGE + "/{layer}/{name}/rebuild", response_class=HTMLResponse,
             response_model=None)
def rebuild(request: Request, layer: str, name: str, session: SessionDep,
            warehouse: WarehouseDep, who: Builder) -> Response:
    """Rebuild one std table or base library now (atomic: a failure keeps the old table and
    is shown on the page with its reason)."""
    settings = request.app.state.settings
    registry = get_registry(request)
    keyring = secrets_keyring(settings)
    try:
        if layer == "std":
            spec = get_spec(stored.effective_specs(session, settings.home), name)
            codes = std_build.load_code_tables(session)
            session.commit()  # one SQLite writer: the build records in its own units of work
            std_build.build(registry, warehouse, spec, trigger="page", keyring=keyring,
                            code_tables=codes, actor=who.name)
        elif layer == "base":
            library = get_library(name)
            session.commit()
            service.build(registry, warehouse, library, trigger="page", keyring=keyring,
                          actor=who.name)
        else:
            raise UserError(f"no build layer {layer!r}: std or base")
    except UserError as exc:
        session.rollback()
        session.expire_all()
        return _page(request, session, warehouse, who, library="", field="", department="",
                     page=1, error=str(exc), status_code=exc.status_code)
    return RedirectResponse(PAGE, status_code=303)
