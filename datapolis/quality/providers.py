"""Which organisation provides a warehouse table, and which county that organisation is in.

A table's provider is its catalog entry's provider; without an entry, the landing schema says
it (`ods_<org code>.<table>`); a std table (`std.<target>`) is provided by whoever provides
its standardisation spec's first source. Issues are assigned to the provider, and department
and county scores group tables by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.catalog.models import CatalogEntry
from datapolis.orgs.models import Organisation, OrgKind
from datapolis.warehouse.layers import ODS_PREFIX

STD_SCHEMA = "std"


def _std_source(session: Session, table: str) -> str | None:
    from datapolis.standardise.stored import effective_specs  # read only when needed

    target = table.split(".", 1)[1]
    spec = effective_specs(session).get(target)
    if spec is None or not spec.sources:
        return None
    return spec.sources[0].rstrip("*")


def provider_orgs(session: Session, tables: Iterable[str]) -> dict[str, Organisation | None]:
    wanted = sorted(set(tables))
    found: dict[str, Organisation | None] = {}
    if not wanted:
        return found
    entries = session.execute(
        select(CatalogEntry.warehouse_table, Organisation)
        .join(Organisation, CatalogEntry.provider_id == Organisation.id)
        .where(CatalogEntry.warehouse_table.in_(wanted)).order_by(CatalogEntry.id.desc()))
    for table, org in entries:  # the oldest entry of a table wins (ordered last)
        if table is not None:
            found[table] = org
    by_code = {org.code: org for org in session.scalars(select(Organisation))}
    for table in wanted:
        if table in found:
            continue
        schema = table.split(".", 1)[0]
        if schema == STD_SCHEMA and "." in table:
            source = _std_source(session, table)
            schema = source.split(".", 1)[0] if source else ""
        code = schema.removeprefix(ODS_PREFIX) if schema.startswith(ODS_PREFIX) else None
        found[table] = by_code.get(code) if code else None
    return found


@dataclass(frozen=True)
class Area:
    """The county (县/区) an organisation works in, or the city itself (市本级)."""

    code: str
    name: str


def area_of(org: Organisation) -> Area:
    """Walk up the tree to the first county; a city-level department belongs to the city."""
    node: Organisation | None = org
    while node is not None:
        if node.kind in (OrgKind.COUNTY, OrgKind.CITY):
            return Area(node.code, node.name)
        node = node.parent
    return Area(org.division_code, org.division_code)
