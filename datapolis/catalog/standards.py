"""Data standards: code tables (码表) and data elements (数据元), and seeding the national ones.

The shipped tables live in `standards_data/` as one CSV per table (code, name, parent_code,
note) plus `code_tables.json` (what each file is) and `data_elements.json`. `seed_standards`
makes the registry match those files and can run any number of times.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.enums import DataType
from datapolis.catalog.models import CodeTable, CodeValue, DataElement
from datapolis.errors import NotFound
from datapolis.security.audit import service as audit

STANDARDS_DATA = Path(__file__).resolve().parent / "standards_data"


@dataclass
class SeedReport:
    tables_created: int = 0
    tables_updated: int = 0
    values_added: int = 0
    values_changed: int = 0
    values_removed: int = 0
    elements_created: int = 0
    elements_updated: int = 0
    tables: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        counts = (self.tables_created, self.tables_updated, self.values_added,
                  self.values_changed, self.values_removed, self.elements_created,
                  self.elements_updated)
        return any(counts)


@dataclass(frozen=True)
class ShippedValue:
    code: str
    name: str
    parent_code: str | None
    note: str | None


def shipped_tables() -> list[dict[str, Any]]:
    tables: list[dict[str, Any]] = json.loads(
        (STANDARDS_DATA / "code_tables.json").read_text(encoding="utf-8")
    )
    return tables


def shipped_values(file_name: str) -> list[ShippedValue]:
    with (STANDARDS_DATA / file_name).open(encoding="utf-8", newline="") as source:
        return [
            ShippedValue(row["code"], row["name"], row["parent_code"] or None, row["note"] or None)
            for row in csv.DictReader(source)
        ]


def shipped_elements() -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = json.loads(
        (STANDARDS_DATA / "data_elements.json").read_text(encoding="utf-8")
    )
    return elements


def _set(obj: object, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _seed_table(session: Session, spec: dict[str, Any], report: SeedReport) -> CodeTable:
    attributes = {
        "name": spec["name"],
        "english_name": spec.get("english_name"),
        "standard": spec.get("standard"),
        "description": spec.get("description"),
    }
    table = session.scalar(
        select(CodeTable).where(CodeTable.code == spec["code"]).options(
            selectinload(CodeTable.values)
        )
    )
    if table is None:
        table = CodeTable(code=spec["code"], **attributes)
        session.add(table)
        report.tables_created += 1
    elif _set(table, attributes):
        report.tables_updated += 1
    existing = {value.code: value for value in table.values}
    shipped = shipped_values(spec["file"])
    for position, value in enumerate(shipped):
        wanted = {"name": value.name, "parent_code": value.parent_code, "note": value.note,
                  "position": position}
        current = existing.pop(value.code, None)
        if current is None:
            table.values.append(CodeValue(code=value.code, **wanted))
            report.values_added += 1
        elif _set(current, wanted):
            report.values_changed += 1
    for stale in existing.values():  # a code the standard's current edition no longer has
        table.values.remove(stale)
        report.values_removed += 1
    report.tables.append(table.code)
    return table


def seed_standards(session: Session) -> SeedReport:
    """Create or update the shipped code tables and data elements; idempotent."""
    report = SeedReport()
    tables = {spec["code"]: _seed_table(session, spec, report) for spec in shipped_tables()}
    session.flush()
    for spec in shipped_elements():
        table_code = spec.get("code_table")
        attributes = {
            "name": spec["name"],
            "english_name": spec.get("english_name"),
            "definition": spec.get("definition"),
            "data_type": DataType(spec["data_type"]),
            "length": spec.get("length"),
            "format": spec.get("format"),
            "code_table_id": tables[table_code].id if table_code else None,
            "value_pattern": spec.get("value_pattern"),
            "synonyms": list(spec.get("synonyms", [])),
        }
        element = session.scalar(select(DataElement).where(DataElement.code == spec["code"]))
        if element is None:
            session.add(DataElement(code=spec["code"], **attributes))
            report.elements_created += 1
        elif _set(element, attributes):
            report.elements_updated += 1
    session.flush()
    audit.record(session, kind="standards.seeded", details={
        "code_tables": report.tables_created + report.tables_updated,
        "data_elements": report.elements_created + report.elements_updated})
    return report


# --- reading -------------------------------------------------------------------------------


def list_code_tables(session: Session) -> list[tuple[CodeTable, int]]:
    """Every code table with its number of values."""
    counts: dict[int, int] = {
        table_id: count for table_id, count in session.execute(
            select(CodeValue.table_id, func.count()).group_by(CodeValue.table_id)
        )
    }
    tables = session.scalars(select(CodeTable).order_by(CodeTable.code))
    return [(table, counts.get(table.id, 0)) for table in tables]


def get_code_table(session: Session, code: str) -> CodeTable:
    table = session.scalar(
        select(CodeTable).where(CodeTable.code == code).options(selectinload(CodeTable.values))
    )
    if table is None:
        raise NotFound(f"no code table with code {code!r}")
    return table


def list_elements(session: Session) -> list[DataElement]:
    query = select(DataElement).options(selectinload(DataElement.code_table))
    return list(session.scalars(query.order_by(DataElement.code)))


def get_element(session: Session, code: str) -> DataElement:
    element = session.scalar(select(DataElement).where(DataElement.code == code))
    if element is None:
        raise NotFound(f"no data element with code {code!r}")
    return element
