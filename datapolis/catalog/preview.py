"""What an entry's page shows of the data itself: where its table comes from (lineage through
the data highway) and its first rows, masked by each item's security grade.

Masking happens in the SQL that reads the rows, so a value a reader may not see never leaves
the warehouse: L1 items are shown, L2–L3 keep their first and last character, and L4 items,
items graded 核心/重要 and items without a grade are not read at all. The masking is the
security slice's `mask` method (datapolis.security.deid).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from datapolis.catalog.models import CatalogEntry, InfoItem
from datapolis.catalog.rules.grades import OPENABLE, parse_grade
from datapolis.ingest.jobs import jobs_landing_in
from datapolis.ingest.models import SyncJob
from datapolis.security.deid.methods import MASK
from datapolis.warehouse.engine import Engine, TableName, WarehouseError, quote_identifier

SAMPLE_ROWS = 10
Treatment = Literal["shown", "masked", "hidden"]
_DELETED = "_deleted"  # soft-deleted rows of a cdc job stay in ods with this flag


def treatment(grade: str | None) -> Treatment:
    general = parse_grade(grade)  # however written; 核心/重要, L4 and no grade are hidden
    if general == OPENABLE:
        return "shown"
    if general in ("L2", "L3"):
        return "masked"
    return "hidden"


@dataclass(frozen=True)
class SampleColumn:
    item: str  # the information item's name
    column: str | None
    grade: str | None
    treatment: Treatment
    missing: bool = False  # the item names a column the table does not have


@dataclass(frozen=True)
class Sample:
    table: str
    columns: list[SampleColumn]
    rows: list[list[str | None]]  # one value per column; None for hidden columns and nulls


def lineage(session: Session, entry: CatalogEntry) -> list[SyncJob]:
    return jobs_landing_in(session, entry.warehouse_table) if entry.warehouse_table else []


def _masked(column: str) -> str:
    return MASK.expression(quote_identifier(column), column, {"first": 1, "last": 1})


def sample(engine: Engine, entry: CatalogEntry, limit: int = SAMPLE_ROWS) -> Sample | None:
    """The first rows of the entry's table, or None when it names none or it is not there."""
    if not entry.warehouse_table:
        return None
    try:
        table = TableName.parse(entry.warehouse_table)
        if not engine.table_exists(str(table)):
            return None
        present = {column.name for column in engine.columns(str(table))}
    except WarehouseError:
        return None
    columns = [_column(item, present) for item in entry.items]
    read = [c for c in columns if c.treatment != "hidden" and not c.missing]
    rows: list[list[str | None]] = []
    if read:
        selected = ", ".join(
            f"CAST({quote_identifier(c.column or '')} AS VARCHAR)" if c.treatment == "shown"
            else _masked(c.column or "") for c in read)
        alive = f" WHERE NOT coalesce({quote_identifier(_DELETED)}, false)" \
            if _DELETED in present else ""
        found = engine.query(f"SELECT {selected} FROM {table.sql}{alive} "  # noqa: S608
                             f"LIMIT {int(limit)}").to_pylist()
        positions = {c.column: n for n, c in enumerate(read)}
        for record in found:
            values = list(record.values())
            rows.append([values[positions[c.column]] if c in read else None for c in columns])
    return Sample(str(table), columns, rows)


def _column(item: InfoItem, present: set[str]) -> SampleColumn:
    usable = item.column_name is not None and item.column_name in present
    if usable:
        try:
            quote_identifier(item.column_name or "")
        except WarehouseError:
            usable = False
    return SampleColumn(item.name, item.column_name, item.security_grade,
                        treatment(item.security_grade), missing=not usable)
