"""Pages of the normalisation rules: the report per organisation (with the rule list), and
the failing rules an entry's page shows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from datapolis.catalog.access import own_provider_ids
from datapolis.catalog.enums import LABELS, EntryStatus
from datapolis.catalog.models import CatalogEntry
from datapolis.catalog.rules import service
from datapolis.catalog.rules.checks import Result, check_one
from datapolis.catalog.rules.registry import CATEGORY_LABELS, SEVERITY_LABELS
from datapolis.orgs import service as orgs_service
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.warehouse.deps import WarehouseDep, get_warehouse
from datapolis.web.i18n import N_
from datapolis.web.nav import NavItem
from datapolis.web.render import render

router = APIRouter(include_in_schema=False)
NAV = [NavItem(N_("Normalisation rules"), "/catalog/rules", Permission.READ_CATALOG,
               icon="rules")]
Reader = Annotated[Principal, Depends(requires(Permission.READ_CATALOG))]


@router.get("/catalog/rules", response_class=HTMLResponse)
def report_page(
    request: Request, session: SessionDep, principal: Reader, warehouse: WarehouseDep,
    org: str = "", status: str = "",
) -> HTMLResponse:
    scope = own_provider_ids(session, principal)
    chosen_status = EntryStatus(status) if status in set(EntryStatus) else None
    found = service.report(session, provider_ids=scope, org_code=org or None,
                           status=chosen_status, warehouse=warehouse)
    orgs = [o for o in orgs_service.list_organisations(session)
            if scope is None or o.id in scope]
    return render(request, "catalog/rules.html", {
        "report": found, "organisations": orgs, "statuses": list(EntryStatus),
        "labels": LABELS, "filters": {"org": org, "status": status},
        "severity_labels": SEVERITY_LABELS, "category_labels": CATEGORY_LABELS,
    })


def entry_failures(request: Request, session: Session, entry: CatalogEntry) -> list[Result]:
    """The rules `entry` fails, blocking ones first, for its page."""
    results = check_one(session, entry, warehouse=get_warehouse(request))
    return sorted((r for r in results if r.failed), key=lambda r: not r.blocking)
