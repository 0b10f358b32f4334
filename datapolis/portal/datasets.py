"""Open datasets: the catalog entries the public may see, and what the public may read of them.

A dataset is a catalog entry that is published (上架) AND open to the public; one with open
conditions is conditionally open (有条件开放). Every function here starts from that rule, so
nothing else ever leaves: an entry that is not open is `NotFound` (404) everywhere, exactly
as one that does not exist.

The rows the public reads go through the security slice: the public-audience plan of the
entry's confirmed grades (`deid.view_for(..., "public")`), with every protected (encrypted)
column withheld (`fields.reads.withhold`), applied in the SQL that reads the warehouse.
"""

# SQL here is built from quoted identifiers and the de-identification plan's expressions;
# values travel as parameters.
# ruff: noqa: S608

from __future__ import annotations

import threading
import weakref
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import pyarrow as pa
from sqlalchemy import ColumnElement, select
from sqlalchemy import Engine as RegistryEngine
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.enums import CatalogType, EntryStatus, FormatClass, UpdateCycle
from datapolis.catalog.models import CatalogEntry, InfoItem
from datapolis.catalog.search import store as search_store
from datapolis.catalog.search.index import MAX_WINDOW
from datapolis.catalog.search.live import engine_of, live_index
from datapolis.catalog.search.query import parse_query
from datapolis.errors import NotFound, UserError
from datapolis.ingest.freshness import landed_by_table
from datapolis.orgs.models import Organisation
from datapolis.portal.themes import BY_CODE, Theme, theme_of
from datapolis.quality.scores import table_scores
from datapolis.security import deid
from datapolis.security.deid.plans import Plan, deidentified_select
from datapolis.security.fields.reads import withhold
from datapolis.security.grading.service import graded_fields
from datapolis.warehouse.engine import Engine, TableName, WarehouseError, quote_identifier

OpenKind = Literal["unconditional", "conditional"]
Treatment = Literal["shown", "masked", "suppressed", "withheld"]
FACETS = ("provider", "theme", "tag", "format", "res_format", "update_cycle", "open_kind")
SORT_KEYS = ("relevance", "name", "modified", "published", "code")
MAX_LIMIT = 1000
PREVIEW_ROWS = 10
MAX_PREVIEW_ROWS = 100
DELETED = "_deleted"  # soft-deleted rows of a cdc job stay in ods with this flag


@dataclass(frozen=True)
class DownloadFormat:
    name: str  # CKAN's `format`
    extension: str
    media_type: str  # an IANA media type: dcat:mediaType


# Every dataset with a table in the warehouse downloads in each of these formats.
DOWNLOAD_FORMATS: tuple[DownloadFormat, ...] = (
    DownloadFormat("CSV", "csv", "text/csv"),
    DownloadFormat("XLSX", "xlsx",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    DownloadFormat("JSON", "json", "application/json"),
    DownloadFormat("Parquet", "parquet", "application/vnd.apache.parquet"),
)


def slug_of(code: str) -> str:
    """The URL-safe name of a resource code: 前段码-后段码 (a CKAN package name)."""
    return code.replace("/", "-")


def code_of(code_or_slug: str) -> str:
    return code_or_slug.replace("-", "/", 1) if "/" not in code_or_slug else code_or_slug


def open_kind(entry: CatalogEntry) -> OpenKind:
    return "conditional" if (entry.open_conditions or "").strip() else "unconditional"


def open_filter() -> list[ColumnElement[bool]]:
    """The one rule: published and open to the public."""
    return [CatalogEntry.status == EntryStatus.PUBLISHED, CatalogEntry.open_to_public.is_(True)]


# --- the datasets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    entry: CatalogEntry
    theme: Theme

    @property
    def code(self) -> str:
        return self.entry.resource_code

    @property
    def slug(self) -> str:
        return slug_of(self.entry.resource_code)

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def provider(self) -> Organisation:
        return self.entry.provider

    @property
    def open_kind(self) -> OpenKind:
        return open_kind(self.entry)

    @property
    def has_data(self) -> bool:
        return bool(self.entry.warehouse_table)

    @property
    def formats(self) -> tuple[DownloadFormat, ...]:
        return DOWNLOAD_FORMATS if self.has_data else ()


def _dataset(entry: CatalogEntry) -> Dataset:
    return Dataset(entry, theme_of(entry.catalog_type, entry.name, list(entry.tags or [])))


def get_dataset(session: Session, code_or_slug: str) -> Dataset:
    """The open dataset with this resource code (or its slug); NotFound for any other."""
    code = code_of(code_or_slug.strip())
    entry = session.scalar(
        select(CatalogEntry).where(CatalogEntry.resource_code == code, *open_filter())
        .options(selectinload(CatalogEntry.provider),
                 selectinload(CatalogEntry.items).selectinload(InfoItem.element)))
    if entry is None:
        raise NotFound(f"no open dataset {code_or_slug!r}")
    return _dataset(entry)


def datasets_by_ids(session: Session, ids: Sequence[int]) -> list[Dataset]:
    """Open datasets of these entry ids, in the order given (ids not open are left out)."""
    found = {entry.id: entry for entry in session.scalars(
        select(CatalogEntry).where(CatalogEntry.id.in_(list(ids)), *open_filter())
        .options(selectinload(CatalogEntry.provider),
                 selectinload(CatalogEntry.items).selectinload(InfoItem.element)))}
    return [_dataset(found[i]) for i in ids if i in found]


def dataset_codes(session: Session) -> list[str]:
    return list(session.scalars(select(CatalogEntry.resource_code).where(*open_filter())
                                .order_by(CatalogEntry.resource_code)))


def open_providers(session: Session) -> list[tuple[Organisation, int]]:
    """Organisations with at least one open dataset, and how many each has."""
    counts = Counter(row.provider_id for row in _rows(session))
    orgs = session.scalars(select(Organisation).where(Organisation.id.in_(list(counts)))
                           .order_by(Organisation.code))
    return [(org, counts[org.id]) for org in orgs]


def get_provider(session: Session, code: str) -> tuple[Organisation, int]:
    for org, count in open_providers(session):
        if org.code == code:
            return org, count
    raise NotFound(f"no organisation {code!r} with open datasets")


def theme_counts(session: Session) -> dict[str, int]:
    return dict(Counter(row.theme for row in _rows(session)))


def tag_counts(session: Session) -> dict[str, int]:
    return dict(Counter(tag for row in _rows(session) for tag in row.tags))


# --- search ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """What search, facets and sorting need of one open dataset: held in memory per process."""

    id: int
    code: str
    name: str
    provider_id: int
    provider: str
    theme: str
    tags: tuple[str, ...]
    format: str
    update_cycle: str
    open_kind: str
    modified: datetime
    published: date | None
    has_data: bool

    def facet(self, name: str) -> tuple[str, ...]:
        if name == "tag":
            return self.tags
        if name == "res_format":
            return tuple(f.name for f in DOWNLOAD_FORMATS) if self.has_data else ()
        return (str(getattr(self, name)),)


_cache: weakref.WeakKeyDictionary[RegistryEngine, tuple[int, list[_Row]]] = \
    weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _rows(session: Session) -> list[_Row]:
    """Every open dataset, read again only when a catalog entry changed since (the catalog
    search's change counter moves on every entry change)."""
    engine = engine_of(session)
    seq = search_store.current_seq(session)
    with _cache_lock:
        cached = _cache.get(engine)
        if cached is not None and cached[0] == seq:
            return cached[1]
    query = (select(CatalogEntry.id, CatalogEntry.resource_code, CatalogEntry.name,
                    CatalogEntry.provider_id, Organisation.code, CatalogEntry.catalog_type,
                    CatalogEntry.tags, CatalogEntry.format_class, CatalogEntry.update_cycle,
                    CatalogEntry.open_conditions, CatalogEntry.updated_at,
                    CatalogEntry.publish_date, CatalogEntry.warehouse_table)
             .join(Organisation, Organisation.id == CatalogEntry.provider_id)
             .where(*open_filter()))
    rows = []
    for (id_, code, name, provider_id, provider, kind, stored_tags, format_class, cycle,
         conditions, modified, published, table) in session.execute(query):
        tags = tuple(stored_tags or ())
        rows.append(_Row(id_, code, name, provider_id, provider,
                         theme_of(CatalogType(kind), name, tags).code, tags,
                         FormatClass(format_class).value, UpdateCycle(cycle).value,
                         "conditional" if (conditions or "").strip() else "unconditional",
                         modified, published, bool(table)))
    with _cache_lock:
        _cache[engine] = (seq, rows)
    return rows


@dataclass(frozen=True)
class Sort:
    key: str
    descending: bool = False


@dataclass(frozen=True)
class DatasetPage:
    query: str
    words: tuple[str, ...]
    total: int
    datasets: list[Dataset]
    facets: dict[str, dict[str, int]]  # facet -> value -> datasets among the results


def _text_hits(session: Session, query: str) -> tuple[tuple[str, ...], dict[int, float] | None]:
    parsed = parse_query(query)
    if parsed.empty:
        return parsed.words, None
    index = live_index(session).refresh(session)
    found = index.search(parsed, filters={"open": ["open"], "status": ["published"]},
                         limit=MAX_WINDOW)
    return parsed.words, {hit.id: hit.score for hit in found.hits}


def _sort_rows(rows: list[_Row], sort: Sequence[Sort], scores: dict[int, float] | None
               ) -> list[_Row]:
    # Stable sorts from the last key to the first; newest first is the final tie-break.
    ordered = sorted(rows, key=lambda r: r.id, reverse=True)
    for part in reversed(sort or [Sort("relevance", True)]):
        if part.key == "relevance":
            if scores is None:
                ordered.sort(key=lambda r: r.modified, reverse=True)
            else:
                ordered.sort(key=lambda r: scores.get(r.id, 0.0), reverse=part.descending)
        elif part.key == "published":
            ordered.sort(key=lambda r: (r.published or date.min), reverse=part.descending)
        else:
            field = {"name": "name", "modified": "modified", "code": "code"}[part.key]
            ordered.sort(key=lambda r: getattr(r, field), reverse=part.descending)
    return ordered


def search_datasets(
    session: Session,
    *,
    query: str | None = None,
    filters: Mapping[str, Collection[str]] | None = None,
    sort: Sequence[Sort] = (),
    offset: int = 0,
    limit: int = 20,
) -> DatasetPage:
    """Open datasets holding every word of `query` (Chinese or not) and matching `filters`.

    `filters`: facet -> accepted values; values of one facet OR, facets AND. Facet counts
    are over the results, as CKAN counts them.
    """
    if offset < 0:
        raise UserError("offset must not be negative")
    if not 0 <= limit <= MAX_LIMIT:
        raise UserError(f"limit must be between 0 and {MAX_LIMIT}")
    chosen = {name: {v for v in values if v} for name, values in (filters or {}).items()}
    unknown = sorted(set(chosen) - set(FACETS))
    if unknown:
        raise UserError(f"cannot filter by {', '.join(unknown)}; facets are {', '.join(FACETS)}")
    for part in sort:
        if part.key not in SORT_KEYS:
            raise UserError(f"cannot sort by {part.key!r}; sort keys are {', '.join(SORT_KEYS)}")
    words, scores = _text_hits(session, query or "")
    rows = [row for row in _rows(session)
            if (scores is None or row.id in scores)
            and all(not values or values & set(row.facet(name))
                    for name, values in chosen.items())]
    facets = {name: dict(sorted(Counter(v for row in rows for v in row.facet(name)).items(),
                                key=lambda pair: (-pair[1], pair[0])))
              for name in FACETS}
    page = _sort_rows(rows, sort, scores)[offset:offset + limit]
    return DatasetPage((query or "").strip(), words, len(rows),
                       datasets_by_ids(session, [row.id for row in page]), facets)


# --- what the public reads of a dataset ------------------------------------------------------


@dataclass(frozen=True)
class PublicItem:
    name: str
    column: str | None
    data_type: str
    length: int | None
    description: str | None
    treatment: Treatment


@dataclass(frozen=True)
class PublicView:
    """The de-identified SELECT of a dataset's table, and what each item becomes in it."""

    table: str
    plan: Plan
    items: list[PublicItem]
    sql: str | None  # None: nothing of the table may be read (every column withheld)

    @property
    def columns(self) -> list[str]:
        return self.plan.columns


_TREATMENT = {"keep": "shown", "mask": "masked", "suppress": "suppressed"}


def _table_columns(engine: Engine, table: str) -> set[str] | None:
    try:
        name = str(TableName.parse(table))
        if not engine.table_exists(name):
            return None
        return {column.name for column in engine.columns(name)}
    except WarehouseError:
        return None


def public_view(session: Session, engine: Engine, dataset: Dataset) -> PublicView | None:
    """The public view of the dataset's table; None when it has no table in the warehouse."""
    table = dataset.entry.warehouse_table
    present = _table_columns(engine, table) if table else None
    if table is None or present is None:
        return None
    plan = withhold(session, table, deid.view_for(graded_fields(session, dataset.entry),
                                                  "public"))
    readable = tuple(rule for rule in plan.rules if rule.column in present)
    plan = Plan(readable, plan.withheld)
    methods = plan.methods()
    items = [PublicItem(item.name, item.column_name, item.data_type.value, item.length,
                        item.description,
                        _TREATMENT.get(methods.get(item.column_name or "", ""), "withheld"))  # type: ignore[arg-type]
             for item in dataset.entry.items]
    sql = None
    if plan.rules:
        sql = deidentified_select(table, plan)
        if DELETED in present:
            sql += f" WHERE NOT coalesce({quote_identifier(DELETED)}, false)"
    return PublicView(str(TableName.parse(table)), plan, items, sql)


def items(session: Session, engine: Engine, dataset: Dataset) -> list[PublicItem]:
    """The dataset's information items, each with what the public gets of it."""
    view = public_view(session, engine, dataset)
    if view is not None:
        return view.items
    return [PublicItem(item.name, item.column_name, item.data_type.value, item.length,
                       item.description, "withheld") for item in dataset.entry.items]


@dataclass(frozen=True)
class Preview:
    columns: list[str]  # column names, in the order of the items
    labels: list[str]  # the items' names for those columns
    rows: list[dict[str, object]]


def preview(session: Session, engine: Engine, dataset: Dataset,
            limit: int = PREVIEW_ROWS) -> Preview:
    """The first `limit` rows as the public sees them (withheld columns are not read)."""
    if not 1 <= limit <= MAX_PREVIEW_ROWS:
        raise UserError(f"a preview has 1 to {MAX_PREVIEW_ROWS} rows")
    view = public_view(session, engine, dataset)
    if view is None or view.sql is None:
        return Preview([], [], [])
    labels = {item.column: item.name for item in view.items}
    data = engine.query(f"{view.sql} LIMIT ?", [limit])
    return Preview(view.columns, [labels.get(c) or c for c in view.columns], data.to_pylist())


def batches(session: Session, engine: Engine, dataset: Dataset,
            batch_size: int = 65_536) -> Iterator[pa.RecordBatch]:
    """Every row as the public sees it, streamed (memory flat in the table's size)."""
    view = public_view(session, engine, dataset)
    if view is None or view.sql is None:
        raise NotFound(f"dataset {dataset.code} has no data the public may download")
    yield from engine.query_batches(view.sql, batch_size=batch_size)


def row_count(session: Session, engine: Engine, dataset: Dataset) -> int | None:
    """Rows in the public view; the catalog's declared count when the table has not landed."""
    view = public_view(session, engine, dataset)
    if view is None or view.sql is None:
        return dataset.entry.record_count
    return int(engine.query(f"SELECT count(*) AS n FROM ({view.sql}) v").column(0)[0].as_py())


def last_update(session: Session, dataset: Dataset) -> datetime:
    """When the data last arrived through the highway, or else when the entry last changed."""
    table = dataset.entry.warehouse_table
    landed = landed_by_table(session).get(table) if table else None
    return max(landed, dataset.entry.updated_at) if landed else dataset.entry.updated_at


def quality_score(session: Session, dataset: Dataset) -> float | None:
    """The table's latest quality score (0–100), None when no quality run measured it."""
    table = dataset.entry.warehouse_table
    if not table:
        return None
    scores = table_scores(session, [table])
    return scores[0].score if scores else None


def theme(code: str) -> Theme:
    found = BY_CODE.get(code)
    if found is None:
        raise NotFound(f"no theme {code!r}")
    return found
