"""JSON API of the normalisation rules, under /api/catalog: the rules, the report per
organisation, and one entry's results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from datapolis.catalog import service as catalog_service
from datapolis.catalog.access import check_visible, own_provider_ids
from datapolis.catalog.enums import EntryStatus
from datapolis.catalog.rules import service
from datapolis.catalog.rules.checks import check_one
from datapolis.catalog.rules.registry import list_rules
from datapolis.catalog.rules.schemas import (
    CountsPublic,
    OrgReportPublic,
    ReportPublic,
    ResultPublic,
    RulePublic,
)
from datapolis.orgs.deps import Principal, SessionDep, requires
from datapolis.orgs.permissions import Permission
from datapolis.warehouse.deps import WarehouseDep

router = APIRouter()
Reader = Annotated[Principal, Depends(requires(Permission.READ_CATALOG))]


@router.get("/rules")
def rules(_: Reader) -> list[RulePublic]:
    """Every registered normalisation rule (目录梳理规则)."""
    return [RulePublic.of(rule) for rule in list_rules()]


@router.get("/rules/report")
def rules_report(
    session: SessionDep,
    principal: Reader,
    warehouse: WarehouseDep,
    org: Annotated[str | None, Query(description="Organisation code (and those below it)")]
    = None,
    entry_status: Annotated[EntryStatus | None, Query(alias="status")] = None,
) -> ReportPublic:
    """Entries × rules per provider organisation, over the entries the caller maintains
    (reviewers: every entry)."""
    found = service.report(session, provider_ids=own_provider_ids(session, principal),
                           org_code=org, status=entry_status, warehouse=warehouse)
    return ReportPublic(rules=[RulePublic.of(rule) for rule in found.rules],
                        counts=CountsPublic.of(found.counts),
                        organisations=[OrgReportPublic.of(o) for o in found.orgs])


@router.get("/entries/{code:path}/rules")
def entry_rules(
    code: str, session: SessionDep, principal: Reader, warehouse: WarehouseDep
) -> list[ResultPublic]:
    """Every rule's verdict on one entry."""
    entry = catalog_service.get_entry(session, code)
    check_visible(session, principal, entry)
    return [ResultPublic.of(r) for r in check_one(session, entry, warehouse=warehouse)]
