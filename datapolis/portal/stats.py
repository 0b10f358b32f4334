"""Figures the portal shows: headline numbers, per-column charts of a dataset (computed in SQL
over its de-identified public view), and usage totals."""

# SQL here is built from quoted identifiers and the public view's own SELECT; values travel
# as parameters.
# ruff: noqa: S608

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime

import pyarrow as pa
import pyarrow.types as pat
from sqlalchemy.orm import Session

from datapolis.portal import datasets, usage
from datapolis.portal.datasets import Dataset, PublicView
from datapolis.warehouse.engine import Engine, TableName, WarehouseError, quote_identifier

CHART_COLUMNS = 4
BUCKETS = 10
HEADLINE_SECONDS = 60.0


@dataclass(frozen=True)
class Headline:
    datasets: int
    organisations: int
    rows: int
    apis: int
    downloads: int
    views: int
    api_calls: int


_headline: dict[int, tuple[float, Headline]] = {}
_headline_lock = threading.Lock()


def table_rows(engine: Engine, dataset: Dataset) -> int:
    """Rows of the dataset's table, soft-deleted ones left out (the declared count when it
    has not landed)."""
    table = dataset.entry.warehouse_table
    if table:
        try:
            name = TableName.parse(table)
            deleted = datasets.DELETED in {c.name for c in engine.columns(str(name))}
            where = (f" WHERE NOT coalesce({quote_identifier(datasets.DELETED)}, false)"
                     if deleted else "")
            counted = engine.query(f"SELECT count(*) AS n FROM {name.sql}{where}")
            return int(counted.column(0)[0].as_py())
        except WarehouseError:
            pass
    return dataset.entry.record_count or 0


def headline(session: Session, engine: Engine) -> Headline:
    """The home page's numbers, computed at most once a minute per warehouse."""
    key = id(engine)
    with _headline_lock:
        cached = _headline.get(key)
        if cached is not None and time.monotonic() - cached[0] < HEADLINE_SECONDS:
            return cached[1]
    page = datasets.search_datasets(session, limit=0)
    ids = datasets.dataset_codes(session)
    rows = apis = 0
    for offset in range(0, len(ids), datasets.MAX_LIMIT):
        chunk = datasets.search_datasets(session, offset=offset, limit=datasets.MAX_LIMIT)
        for dataset in chunk.datasets:
            rows += table_rows(engine, dataset)
            apis += 1 if dataset.has_data else 0
    totals = usage.by_dataset(session)
    found = Headline(
        datasets=page.total, organisations=len(page.facets["provider"]), rows=rows, apis=apis,
        downloads=sum(t["download"] for t in totals.values()),
        views=sum(t["view"] for t in totals.values()),
        api_calls=sum(t["api"] for t in totals.values()))
    with _headline_lock:
        _headline[key] = (time.monotonic(), found)
    return found


def forget_headline() -> None:
    with _headline_lock:
        _headline.clear()


@dataclass(frozen=True)
class ColumnChart:
    column: str
    label: str
    kind: str  # "numeric": a histogram; "date": rows per month
    categories: list[str]
    values: list[int]
    summary: dict[str, float | None]


def _schema(engine: Engine, view: PublicView) -> pa.Schema:
    assert view.sql is not None
    return engine.query(f"SELECT * FROM ({view.sql}) v LIMIT 0").schema


def column_charts(engine: Engine, view: PublicView | None) -> list[ColumnChart]:
    """A histogram of each numeric column and rows per month of each date column, over the
    public view (masked values stay masked: only shown columns of those types are drawn)."""
    if view is None or view.sql is None:
        return []
    labels = {item.column: item.name for item in view.items}
    shown = {item.column for item in view.items if item.treatment == "shown"}
    charts: list[ColumnChart] = []
    for field in _schema(engine, view):
        if len(charts) >= CHART_COLUMNS or field.name not in shown:
            continue
        column = quote_identifier(field.name)
        label = labels.get(field.name) or field.name
        if pat.is_integer(field.type) or pat.is_floating(field.type) \
                or pat.is_decimal(field.type):
            charts.append(_histogram(engine, view.sql, column, field.name, label))
        elif pat.is_date(field.type) or pat.is_timestamp(field.type):
            charts.append(_months(engine, view.sql, column, field.name, label))
    return [chart for chart in charts if chart.values]


def _histogram(engine: Engine, sql: str, column: str, name: str, label: str) -> ColumnChart:
    stats = engine.query(
        f"SELECT min({column})::DOUBLE AS lo, max({column})::DOUBLE AS hi, "
        f"avg({column})::DOUBLE AS mean FROM ({sql}) v").to_pylist()[0]
    lo, hi = stats["lo"], stats["hi"]
    if lo is None or hi is None:
        return ColumnChart(name, label, "numeric", [], [], stats)
    width = (hi - lo) / BUCKETS or 1.0
    counts = dict(engine.query(
        f"SELECT least(CAST(floor(({column}::DOUBLE - ?) / ?) AS INTEGER), ?) AS b, "
        f"count(*) AS n FROM ({sql}) v WHERE {column} IS NOT NULL GROUP BY b",
        [lo, width, BUCKETS - 1]).to_pydict().items())
    found = dict(zip(counts.get("b", []), counts.get("n", []), strict=True))
    buckets = range(BUCKETS) if hi > lo else range(1)
    categories = [_number(lo + i * width) + "–" + _number(lo + (i + 1) * width) for i in buckets]
    return ColumnChart(name, label, "numeric", categories, [int(found.get(i, 0)) for i in buckets],
                       stats)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def _months(engine: Engine, sql: str, column: str, name: str, label: str) -> ColumnChart:
    data = engine.query(
        f"SELECT strftime(date_trunc('month', {column}), '%Y-%m') AS m, count(*) AS n "
        f"FROM ({sql}) v WHERE {column} IS NOT NULL GROUP BY m ORDER BY m").to_pydict()
    return ColumnChart(name, label, "date", [str(m) for m in data["m"]],
                       [int(n) for n in data["n"]], {})


def usage_series(session: Session, dataset_code: str) -> tuple[list[str], dict[str, list[int]]]:
    """Days and, per kind, the counts on each day: a dataset's usage chart."""
    days: list[date] = []
    counts: dict[tuple[date, str], int] = {}
    for day, kind, count in usage.daily(session, dataset_code):
        if day not in days:
            days.append(day)
        counts[(day, kind)] = count
    return ([d.isoformat() for d in days],
            {kind: [counts.get((d, kind), 0) for d in days] for kind in usage.KINDS})


def age_days(moment: datetime, now: datetime) -> int:
    return max(0, (now - moment).days)
