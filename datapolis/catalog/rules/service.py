"""What the API, the pages and the CLI ask of the rules: a report over the entries a caller
may maintain."""

from __future__ import annotations

from sqlalchemy.orm import Session

from datapolis.catalog import service as catalog_service
from datapolis.catalog.enums import EntryStatus
from datapolis.catalog.rules.context import build_context
from datapolis.catalog.rules.report import Report, build_report
from datapolis.orgs import service as orgs_service
from datapolis.warehouse.engine import Engine


def report(
    session: Session,
    *,
    provider_ids: set[int] | None,
    org_code: str | None = None,
    status: EntryStatus | None = None,
    warehouse: Engine | None = None,
) -> Report:
    """The report over the entries of `provider_ids` (None: every provider), optionally of
    one organisation and the organisations below it, in one pass."""
    scope = provider_ids
    if org_code:
        org = orgs_service.get_organisation(session, org_code)
        below = orgs_service.descendant_ids(session, org)
        scope = below if scope is None else scope & below
    entries = catalog_service.list_entries(session, provider_ids=None, status=status)
    if scope is not None:
        entries = [entry for entry in entries if entry.provider_id in scope]
    return build_report(entries, build_context(session, warehouse=warehouse))

