"""Rows of a dataset for the open API: the public view, narrowed by Socrata-style parameters."""

# SQL here is the public view's own SELECT with quoted identifiers; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass

from datapolis.portal import soql
from datapolis.portal.datasets import PublicView
from datapolis.warehouse.engine import quote_identifier

DEFAULT_LIMIT = 1000
MAX_LIMIT = 50_000


@dataclass(frozen=True)
class RowQuery:
    sql: str
    params: list[object]
    columns: list[str]


def _int(value: str | None, name: str, default: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise soql.QueryError(name, f"expected a whole number, got {value!r}") from None
    if not 0 <= number <= high:
        raise soql.QueryError(name, f"must be between 0 and {high:,}")
    return number


def build(view: PublicView, *, select: str | None = None, where: str | None = None,
          order: str | None = None, limit: str | None = None, offset: str | None = None
          ) -> RowQuery:
    """The SELECT over the public view for these parameters; columns are the view's."""
    assert view.sql is not None
    available = view.columns
    chosen = soql.select_list(select, available) if select and select.strip() else available
    params: list[object] = []
    sql = (f"SELECT {', '.join(quote_identifier(c) for c in chosen)} "
           f"FROM ({view.sql}) AS public_view")
    if where and where.strip():
        condition, params = soql.where(where, available, quote_identifier)
        sql += f" WHERE {condition}"
    if order and order.strip():
        sql += f" ORDER BY {soql.order(order, available, quote_identifier)}"
    sql += " LIMIT ? OFFSET ?"
    params += [_int(limit, "$limit", DEFAULT_LIMIT, MAX_LIMIT),
               _int(offset, "$offset", 0, 10**12)]
    return RowQuery(sql, params, chosen)
