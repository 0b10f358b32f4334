"""Querying a dataset's rows as CKAN's datastore_search does, over the public view only.

Filters, the full-text `q`, field lists and sort orders are checked against the columns of
the de-identified view: a filter on a masked column compares the masked value, and a
withheld column cannot be named at all, so a query can never probe what the public may not
see. Column names are quoted identifiers; every value is a parameter.
"""

# ruff: noqa: S608 -- identifiers quoted, values bound

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
from sqlalchemy.orm import Session

from datapolis.errors import UserError
from datapolis.portal.datasets import Dataset, public_view
from datapolis.warehouse.engine import Engine, quote_identifier

DEFAULT_LIMIT = 100
MAX_LIMIT = 32_000  # CKAN's ckan.datastore.search.rows_max default
_SORT_PART = re.compile(r"^\s*\"?([^\"\s]+)\"?\s*(asc|desc)?\s*$", re.IGNORECASE)


class DatastoreError(UserError):
    """A bad parameter; `field` names it, as CKAN's validation errors do."""

    status_code = 409

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Field:
    id: str
    type: str  # CKAN's datastore type names: text, int, float, numeric, bool, date, timestamp
    label: str


@dataclass(frozen=True)
class Records:
    fields: list[Field]
    records: list[dict[str, object]]
    total: int | None
    limit: int
    offset: int


def ckan_type(arrow: pa.DataType) -> str:
    if pa.types.is_integer(arrow):
        return "int"
    if pa.types.is_floating(arrow):
        return "float"
    if pa.types.is_decimal(arrow):
        return "numeric"
    if pa.types.is_boolean(arrow):
        return "bool"
    if pa.types.is_date(arrow):
        return "date"
    if pa.types.is_timestamp(arrow):
        return "timestamp"
    return "text"


def _json_value(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float | decimal.Decimal):
        return str(value)
    raise DatastoreError("filters", f"a filter value must be text, a number or a boolean, "
                                    f"not {type(value).__name__}")


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _parse_sort(sort: str | Sequence[str] | None, columns: list[str]) -> list[tuple[str, bool]]:
    if not sort:
        return []
    parts = sort.split(",") if isinstance(sort, str) else list(sort)
    order = []
    for part in parts:
        found = _SORT_PART.match(str(part))
        if found is None or found.group(1) not in columns:
            raise DatastoreError("sort", f"field {str(part).strip()!r} not in resource")
        order.append((found.group(1), (found.group(2) or "asc").lower() == "desc"))
    return order


def search(
    session: Session,
    engine: Engine,
    dataset: Dataset,
    *,
    filters: Mapping[str, object] | None = None,
    q: str | Mapping[str, str] | None = None,
    fields: Sequence[str] | None = None,
    sort: str | Sequence[str] | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    include_total: bool = True,
) -> Records:
    if not 0 <= limit <= MAX_LIMIT:
        raise DatastoreError("limit", f"Must be between 0 and {MAX_LIMIT}")
    if offset < 0:
        raise DatastoreError("offset", "Must be a positive integer")
    view = public_view(session, engine, dataset)
    if view is None or view.sql is None:
        raise DatastoreError("resource_id", f"dataset {dataset.code} has no rows the public "
                                            "may query")
    columns = view.columns
    labels = {item.column: item.name for item in view.items}
    chosen = list(fields) if fields else columns
    unknown = [f for f in chosen if f not in columns]
    if unknown:
        raise DatastoreError("fields", f"field {unknown[0]!r} not in resource")

    where: list[str] = []
    params: list[object] = []
    for column, wanted in (filters or {}).items():
        if column not in columns:
            raise DatastoreError("filters", f"field {column!r} not in resource")
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values:
            raise DatastoreError("filters", f"no values given for field {column!r}")
        marks = ", ".join("?" for _ in values)
        where.append(f"CAST({quote_identifier(column)} AS VARCHAR) IN ({marks})")
        params += [_text(v) for v in values]
    if isinstance(q, Mapping):
        for column, text in q.items():
            if column not in columns:
                raise DatastoreError("q", f"field {column!r} not in resource")
            where.append(f"CAST({quote_identifier(column)} AS VARCHAR) ILIKE ? ESCAPE '\\'")
            params.append(_like(str(text)))
    elif q:
        for word in str(q).split():
            anywhere = " OR ".join(
                f"CAST({quote_identifier(c)} AS VARCHAR) ILIKE ? ESCAPE '\\'" for c in columns)
            where.append(f"({anywhere})")
            params += [_like(word)] * len(columns)
    order = _parse_sort(sort, columns)

    source = f"({view.sql}) v"
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    ordering = ", ".join(f"{quote_identifier(c)} {'DESC' if d else 'ASC'} NULLS LAST"
                         for c, d in order)
    selected = ", ".join(quote_identifier(c) for c in chosen)
    data = engine.query(
        f"SELECT {selected} FROM {source}{condition}"
        + (f" ORDER BY {ordering}" if ordering else "") + " LIMIT ? OFFSET ?",
        [*params, limit, offset])
    total = None
    if include_total:
        total = int(engine.query(f"SELECT count(*) FROM {source}{condition}", params)
                    .column(0)[0].as_py())
    described = [Field(f.name, ckan_type(f.type), labels.get(f.name) or f.name)
                 for f in data.schema]
    records = [{k: _json_value(v) for k, v in row.items()} for row in data.to_pylist()]
    return Records(described, records, total, limit, offset)
