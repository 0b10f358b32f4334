"""What a rule may look at besides its entry, loaded once for a whole run.

One `RuleContext` holds the facts of every entry (for duplicates and relations), the code
tables' widths and the division codes (for items and providers), how fresh each synced
warehouse table is (from the data highway's service functions) and, when a warehouse is at
hand, which tables it has and how many rows. Checking 10,000 entries costs a handful of
queries, not a handful per entry.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datapolis.catalog.enums import CatalogType, EntryStatus
from datapolis.catalog.models import CatalogEntry, CodeTable, CodeValue
from datapolis.ingest import freshness
from datapolis.registry.base import utcnow
from datapolis.warehouse.engine import Engine
from datapolis.web.render import SHOWN_ZONE

DIVISION_TABLE = "division"  # the GB/T 2260 code table of catalog/standards_data


@dataclass(frozen=True)
class EntryFacts:
    """What rules need to know about the other entries."""

    id: int
    resource_code: str
    name: str
    provider_id: int
    catalog_type: CatalogType
    subject: str
    status: EntryStatus
    warehouse_table: str | None


@dataclass
class RuleContext:
    today: date  # in the city's time zone
    now: datetime  # UTC
    entries: list[EntryFacts] = field(default_factory=list)
    division_codes: frozenset[str] = frozenset()
    code_table_widths: dict[int, int] = field(default_factory=dict)  # longest code per table
    # Every warehouse table a sync job lands in, with the end of its newest landing (None: never).
    landed: dict[str, datetime | None] = field(default_factory=dict)
    # Rows per warehouse table; None when no warehouse was at hand (rules then say nothing).
    warehouse_rows: dict[str, int | None] | None = None
    session: Session | None = None

    def __post_init__(self) -> None:
        self.by_code = {facts.resource_code: facts for facts in self.entries}
        self.by_table: dict[str, list[EntryFacts]] = defaultdict(list)
        self.by_provider: dict[int, list[EntryFacts]] = defaultdict(list)
        self.subject_providers: dict[str, set[int]] = defaultdict(set)
        for facts in self.entries:
            if facts.status is EntryStatus.RETIRED:
                continue
            if facts.warehouse_table:
                self.by_table[facts.warehouse_table].append(facts)
            self.by_provider[facts.provider_id].append(facts)
            if facts.catalog_type is CatalogType.DEPARTMENT:
                self.subject_providers[facts.subject].add(facts.provider_id)


def facts_of(entry: CatalogEntry) -> EntryFacts:
    return EntryFacts(entry.id, entry.resource_code, entry.name, entry.provider_id,
                      entry.catalog_type, entry.subject, entry.status, entry.warehouse_table)


def build_context(
    session: Session, *, warehouse: Engine | None = None, now: datetime | None = None
) -> RuleContext:
    """Everything the rules need, in a few queries."""
    now = now or utcnow()
    columns = (CatalogEntry.id, CatalogEntry.resource_code, CatalogEntry.name,
               CatalogEntry.provider_id, CatalogEntry.catalog_type, CatalogEntry.subject,
               CatalogEntry.status, CatalogEntry.warehouse_table)
    entries = [EntryFacts(*row) for row in session.execute(select(*columns))]
    divisions = frozenset(session.scalars(
        select(CodeValue.code).join(CodeTable).where(CodeTable.code == DIVISION_TABLE)
    ))
    widths = {table_id: width or 0 for table_id, width in session.execute(
        select(CodeValue.table_id, func.max(func.length(CodeValue.code)))
        .group_by(CodeValue.table_id)
    )}
    rows: dict[str, int | None] | None = None
    if warehouse is not None:
        rows = {f"{t.schema}.{t.name}": t.rows for t in warehouse.tables()}
    return RuleContext(
        today=now.astimezone(SHOWN_ZONE).date(), now=now, entries=entries,
        division_codes=divisions, code_table_widths=widths,
        landed=freshness.landed_by_table(session), warehouse_rows=rows, session=session,
    )
