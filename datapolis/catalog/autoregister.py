"""Auto-registration: every table that lands in ods / std / base gets a draft catalog entry.

The first landing creates the entry (once): its name from the source table's comment, the
source's organisation as provider, one item per column with the column comment as its Chinese
name, a profile of every column with suggested data elements, and a suggested security grade
per item (security/grading) — suggestions; a person confirms them. Later landings never touch
what a person may have edited: they refresh the record count, the storage size, the profile
and unconfirmed grade suggestions, and add newly appeared columns as items of an entry that is
still editable (a version by the system actor says so); a published entry keeps
its items and the page lists the new columns instead.

Streams land all the time: their tables are profiled again at most every `PROFILE_EVERY`;
between two profiles only the counts move.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datapolis.catalog import mapping, profiles, profiling
from datapolis.catalog.enums import (
    UNCLASSIFIED_HEADING,
    UNCLASSIFIED_SUBJECT,
    CatalogType,
    DataType,
    FormatClass,
    ShareType,
    UpdateCycle,
)
from datapolis.catalog.lifecycle import EDITABLE
from datapolis.catalog.models import CatalogEntry, InfoItem
from datapolis.catalog.schemas import EntryCreate, ItemInput
from datapolis.catalog.service import WAREHOUSE_TABLE, create_entry
from datapolis.catalog.versions import Actor, record_version
from datapolis.errors import NotFound
from datapolis.ingest import hooks
from datapolis.ingest import jobs as ingest_jobs
from datapolis.ingest import service as ingest_service
from datapolis.ingest.errors import SourceError
from datapolis.ingest.sources.base import SourceColumn
from datapolis.orgs import service as orgs_service
from datapolis.orgs.models import Organisation
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.security.grading import service as grading
from datapolis.warehouse.engine import ColumnInfo, Engine, TableName
from datapolis.warehouse.layers import ODS_PREFIX

log = logging.getLogger(__name__)

SYSTEM = Actor("system:autoregister")
HOOK_NAME = "catalog.autoregister"
PROFILE_EVERY = timedelta(minutes=30)  # streams: re-profile a table at most this often
AUTO_TAG = "自动登记"
# Auto-registered entries cannot know their classification; 99 / 999 say "not classified yet".
SUGGESTIONS_PER_ITEM = 3

_DECLARED_LENGTH = re.compile(r"\(\s*(\d+)")
# Binary floating point has no declared length; a catalog item gives its significant digits.
_FLOAT_DIGITS = {"DOUBLE": 17, "FLOAT8": 17, "FLOAT": 9, "REAL": 9, "FLOAT4": 9}
_BASIC_BY_NAME = {  # base-library tables whose name says which basic resource they are
    CatalogType.BASIC_POPULATION: ("population", "person", "renkou", "rk"),
    CatalogType.BASIC_LEGAL_ENTITY: ("legal_entity", "enterprise", "faren", "fr"),
    CatalogType.BASIC_LICENCE: ("licence", "license", "zhengzhao", "dzzz"),
}


@dataclass
class Registered:
    table: str
    resource_code: str | None
    created: bool = False
    profiled: bool = False
    added_items: list[str] = field(default_factory=list)
    skipped: str | None = None  # why nothing was registered


def install() -> None:
    """Register `on_landed` with the highway (the assemblies call this)."""
    hooks.after_landing(HOOK_NAME, on_landed)


def on_landed(event: hooks.Landed) -> None:
    due = event.mode != "cdc" or _profile_due(event.registry, event.table)
    register_table(event.registry, event.warehouse, event.table, keyring=event.keyring,
                   profile=due)


def _profile_due(registry: Registry, table: str) -> bool:
    with registry.session() as session:
        stored = profiles.get_profile(session, table)
        return stored is None or utcnow() - stored.profiled_at >= PROFILE_EVERY


def candidate_tables(engine: Engine) -> list[str]:
    """The warehouse tables auto-registration covers: ods_<org>.*, std.*, base.*."""
    return [f"{t.schema}.{t.name}" for t in engine.tables()
            if t.kind == "table" and _covered(t.schema) and not t.name.startswith("_")]


def _covered(schema: str) -> bool:
    return schema.startswith(ODS_PREFIX) or schema in ("std", "base")


@dataclass
class Measured:
    """What the warehouse says about a table: columns, counts and (maybe) a profile."""

    table: TableName
    columns: list[ColumnInfo]
    rows: int
    storage: int | None
    stats: profiling.TableStats | None


def measure(engine: Engine, table: str, *, profile: bool = True) -> Measured | Registered:
    """The warehouse half of registering (no registry session is open while it scans)."""
    target = TableName.parse(table)
    name = str(target)
    if not WAREHOUSE_TABLE.match(name) or not _covered(target.schema):
        return Registered(name, None, skipped="not an ods, std or base table in lower case")
    columns = engine.columns(name)
    stats = profiling.profile_table(engine, name) if profile else None
    return Measured(target, columns, _live_rows(engine, target, columns),
                    profiling.storage_bytes(engine, name), stats)


def register_table(
    registry: Registry, engine: Engine, table: str, *, keyring: Keyring | None = None,
    profile: bool = True,
) -> Registered:
    """Create the draft entry of `table` once; refresh its counts (and profile) every time."""
    measured = measure(engine, table, profile=profile)
    if isinstance(measured, Registered):
        return measured
    with registry.session() as session:
        return record(session, engine, measured, keyring=keyring)


def record(
    session: Session, engine: Engine, measured: Measured, *, keyring: Keyring | None = None
) -> Registered:
    """The registry half: store the profile, create the entry or refresh it."""
    target, columns, stats = measured.table, measured.columns, measured.stats
    name, rows, storage = str(target), measured.rows, measured.storage
    entry = session.scalar(
        select(CatalogEntry).where(CatalogEntry.warehouse_table == name)
        .order_by(CatalogEntry.id).limit(1)
    )
    source_columns = _source_columns(session, name, keyring, entry, columns)
    suggestions = _suggestions(session, stats, columns, source_columns) if stats else {}
    if stats is not None:
        profiles.save_profile(session, stats, storage=storage, suggestions=suggestions)
    else:
        profiles.save_counts(session, name, rows=rows, storage=storage)
    result = Registered(name, None, profiled=stats is not None)
    if entry is None:
        provider = _provider(session, target)
        if provider is None:
            return Registered(name, None, skipped=f"no organisation for schema {target.schema}")
        draft = _draft(session, engine, name, columns, source_columns, stats, rows, storage)
        entry = create_entry(session, data=draft, provider=provider, actor=SYSTEM)
        result.created = True
    else:
        entry.record_count, entry.storage_bytes = rows, storage
        result.added_items = _add_new_columns(session, entry, columns, source_columns, stats)
    # Field grades (分类分级): suggested for new items, refreshed for unconfirmed ones when a
    # profile brings sample values; a person confirms them on the entry page.
    grading.suggest_for_entry(session, entry, samples={
        c.name: c.samples for c in stats.columns} if stats is not None else None)
    result.resource_code = entry.resource_code
    return result


def register_all(
    registry: Registry, engine: Engine, *, keyring: Keyring | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Registered]:
    """Register and profile every covered table now."""
    done = []
    for table in candidate_tables(engine):
        done.append(register_table(registry, engine, table, keyring=keyring))
        if progress is not None:
            progress(table)
    return done


# --- what the entry says -------------------------------------------------------------------


def _live_rows(engine: Engine, target: TableName, columns: Sequence[ColumnInfo]) -> int:
    # Soft deletes (cdc) keep deleted rows in ods with _deleted = true: they are no records.
    live = " WHERE NOT coalesce(\"_deleted\", false)" if any(
        c.name == "_deleted" for c in columns) else ""
    found = engine.query(f"SELECT count(*) AS n FROM {target.sql}{live}").to_pylist()  # noqa: S608
    return int(found[0]["n"])


def _source_columns(
    session: Session, table: str, keyring: Keyring | None, entry: CatalogEntry | None,
    columns: Sequence[ColumnInfo],
) -> dict[str, SourceColumn]:
    """The source's column comments and declared types, read only when an item is to be made."""
    if keyring is None:
        return {}
    if entry is not None:
        known = {item.column_name for item in entry.items}
        if all(c.name in known or c.name.startswith("_") for c in columns):
            return {}
    choice = ingest_service.table_landing_in(session, table)
    if choice is None:
        return {}
    try:
        return {c.name: c for c in ingest_service.source_columns(choice, keyring)}
    except SourceError as exc:  # unreachable now: warehouse comments and names will do
        log.warning("no column comments for %s: %s", table, exc)
        return {}


def _provider(session: Session, target: TableName) -> Organisation | None:
    table = str(target)
    choice = ingest_service.table_landing_in(session, table)
    if choice is not None:
        return choice.source.org
    if target.schema.startswith(ODS_PREFIX):
        try:
            return orgs_service.get_organisation(session, target.schema[len(ODS_PREFIX):])
        except NotFound:
            return None
    roots = [o for o in orgs_service.list_organisations(session) if o.parent_id is None]
    return roots[0] if roots else None  # std and base belong to the bureau


def _catalog_type(target: TableName) -> CatalogType:
    if target.schema == "base":
        for kind, words in _BASIC_BY_NAME.items():
            if any(target.name == w or target.name.startswith(w + "_") for w in words):
                return kind
        return CatalogType.THEME
    return CatalogType.DEPARTMENT


def _draft(
    session: Session, engine: Engine, table: str, columns: Sequence[ColumnInfo],
    source_columns: dict[str, SourceColumn], stats: profiling.TableStats | None,
    rows: int, storage: int | None,
) -> EntryCreate:
    target = TableName.parse(table)
    choice = ingest_service.table_landing_in(session, table)
    kind = _catalog_type(target)
    comment = (choice.comment if choice is not None else None) or next(
        (t.comment for t in engine.tables(target.schema) if t.name == target.name), None)
    source_kind = choice.source.kind if choice is not None else None
    cdc = choice is not None and _streams(session, choice.id)
    return EntryCreate(
        name=(comment or target.name)[:200], catalog_type=kind,
        subject=None if kind.value.startswith("basic_") else UNCLASSIFIED_SUBJECT,
        heading=UNCLASSIFIED_HEADING,
        format_class=(FormatClass.SPREADSHEET if source_kind in ("csv", "xlsx")
                      else FormatClass.DATABASE),
        format_detail=source_kind, share_type=ShareType.CONDITIONAL,
        update_cycle=UpdateCycle.REALTIME if cdc else UpdateCycle.IRREGULAR,
        tags=[AUTO_TAG], record_count=rows, storage_bytes=storage, warehouse_table=table,
        items=_items(columns, source_columns, stats, taken=set()),
    )


def _streams(session: Session, choice_id: int) -> bool:
    return any(job.table_id == choice_id and job.mode == "cdc"
               for job in ingest_jobs.list_jobs(session))


def _items(
    columns: Sequence[ColumnInfo], source_columns: dict[str, SourceColumn],
    stats: profiling.TableStats | None, *, taken: set[str],
) -> list[ItemInput]:
    by_name = {c.name: c for c in stats.columns} if stats else {}
    items = []
    for column in columns:
        if column.name.startswith("_"):  # the highway's own columns (_deleted, _deleted_at)
            continue
        source = source_columns.get(column.name)
        label = (source.comment if source else None) or column.comment or column.name
        label = label.strip()[:100] or column.name
        if label in taken:
            label = f"{label[:90]}（{column.name}）"[:100]
        taken.add(label)
        found = by_name.get(column.name)
        items.append(ItemInput(
            name=label, column_name=column.name, data_type=item_type(column.type),
            length=_length(column.type, source.source_type if source else None, found),
        ))
    return items


def item_type(sql_type: str) -> DataType:
    upper = sql_type.upper()
    if upper.startswith(("TIMESTAMP", "DATETIME")):
        return DataType.DATETIME
    if upper.startswith("DATE"):
        return DataType.DATE
    if upper == "BOOLEAN":
        return DataType.BOOLEAN
    if upper.startswith(("DECIMAL", "NUMERIC", "DOUBLE", "FLOAT", "REAL")):
        return DataType.DECIMAL
    if profiling.column_kind(sql_type) == "number":
        return DataType.INTEGER
    if upper.startswith(("BLOB", "BYTEA")):
        return DataType.BINARY
    return DataType.STRING


def _length(
    sql_type: str, source_type: str | None, found: profiling.ColumnStats | None
) -> int | None:
    """The declared length (varchar(18), numeric(12,2)), else the longest text seen."""
    for declared in (source_type, sql_type):
        match = _DECLARED_LENGTH.search(declared or "")
        if match:
            return int(match[1])
    if found is not None and found.kind == "text":
        return found.max_length
    return _FLOAT_DIGITS.get(sql_type.strip().upper())


def _suggestions(
    session: Session, stats: profiling.TableStats, columns: Sequence[ColumnInfo],
    source_columns: dict[str, SourceColumn],
) -> dict[str, list[Any]]:
    comments = {c.name: c.comment for c in columns}
    suggested: dict[str, list[Any]] = {}
    for found in stats.columns:
        if found.name.startswith("_"):
            continue
        source = source_columns.get(found.name)
        label = (source.comment if source else None) or comments.get(found.name) or found.name
        suggested[found.name] = [
            {"element_code": s.element.code, "element_name": s.element.name, "score": s.score,
             "reasons": [[r.kind, r.detail] for r in s.reasons]}
            for s in mapping.suggest_elements(session, name=label, column_name=found.name,
                                              samples=found.samples,
                                              limit=SUGGESTIONS_PER_ITEM)
        ]
    return suggested


def _add_new_columns(
    session: Session, entry: CatalogEntry, columns: Sequence[ColumnInfo],
    source_columns: dict[str, SourceColumn], stats: profiling.TableStats | None,
) -> list[str]:
    """Columns that appeared since the entry was made become draft items of an editable entry;
    a person's items are never changed. Returns the new items' names."""
    known = {item.column_name for item in entry.items}
    new = [c for c in columns if c.name not in known and not c.name.startswith("_")]
    if not new or entry.status not in EDITABLE:
        return []
    added = _items(new, source_columns, stats, taken={item.name for item in entry.items})
    start = len(entry.items)
    for offset, given in enumerate(added):
        entry.items.append(InfoItem(
            name=given.name, position=start + offset, column_name=given.column_name,
            data_type=given.data_type, length=given.length,
        ))
    names = [item.name for item in added]
    record_version(session, entry=entry, action="edited", actor=SYSTEM,
                   comment="new columns in the warehouse: " + ", ".join(names))
    return names
