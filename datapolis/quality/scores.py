"""Quality scores from stored results: per rule, table, GB/T 36344 dimension, department and
county, and their trend over runs.

Weighting: a score is the severity-weighted mean of rule pass rates, times 100. Weights are
error 3, warning 2, info 1, so one failing error rule pulls a table down more than one failing
informational rule. A rule's pass rate is its last run's (the share of checked rows that pass;
a table-level rule's is 1 or 0, or its own rate). Current scores read each table's latest
succeeded run; a department's and a county's pool the rules of their tables (the tables the
organisation provides, see providers.py); a dimension's pools the rules of that dimension.
The trend is the score of each run (per table), or per day for a group of tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datapolis.quality.models import QualityResult, QualityRun
from datapolis.quality.providers import area_of, provider_orgs
from datapolis.quality.rules import Dimension

SHOWN_ZONE = ZoneInfo("Asia/Shanghai")  # days and run labels as the city's clock reads them
WEIGHTS = {"error": 3.0, "warning": 2.0, "info": 1.0}


def weight(severity: str) -> float:
    return WEIGHTS.get(severity, WEIGHTS["warning"])


def weighted(results: Iterable[QualityResult]) -> float | None:
    """The severity-weighted pass rate of `results` as a 0–100 score; None without results."""
    total = share = 0.0
    for result in results:
        w = weight(result.severity)
        total += w
        share += w * result.pass_rate
    return round(100 * share / total, 2) if total else None


@dataclass(frozen=True)
class RuleScore:
    table: str
    rule_id: int | None
    kind: str
    columns: list[str]
    dimension: str
    severity: str
    checked: int
    failed: int
    pass_rate: float
    passed: bool


@dataclass(frozen=True)
class GroupScore:
    key: str
    name: str
    score: float | None
    tables: int
    rules: int
    failing: int


def latest_results(session: Session, tables: Iterable[str] | None = None
                   ) -> dict[str, list[QualityResult]]:
    """Each table's results of its latest succeeded run."""
    newest = (select(func.max(QualityRun.id)).where(QualityRun.status == "succeeded")
              .group_by(QualityRun.warehouse_table))
    if tables is not None:
        newest = newest.where(QualityRun.warehouse_table.in_(list(tables)))
    query = (select(QualityRun.warehouse_table, QualityResult)
             .join(QualityResult, QualityResult.run_id == QualityRun.id)
             .where(QualityRun.id.in_(newest.scalar_subquery()))
             .order_by(QualityRun.warehouse_table, QualityResult.id))
    out: dict[str, list[QualityResult]] = {}
    for table, result in session.execute(query):
        out.setdefault(table, []).append(result)
    return out


def rule_scores(session: Session, tables: Iterable[str] | None = None) -> list[RuleScore]:
    return [RuleScore(table, r.rule_id, r.kind, list(r.columns), r.dimension, r.severity,
                      r.checked, r.failed, r.pass_rate, r.passed)
            for table, results in latest_results(session, tables).items() for r in results]


def _group(key: str, name: str, items: list[tuple[str, QualityResult]]) -> GroupScore:
    return GroupScore(key, name, weighted(r for _, r in items), len({t for t, _ in items}),
                      len(items), sum(not r.passed for _, r in items))


def _pairs(latest: dict[str, list[QualityResult]]) -> list[tuple[str, QualityResult]]:
    return [(table, r) for table, results in latest.items() for r in results]


def table_scores(session: Session, tables: Iterable[str] | None = None) -> list[GroupScore]:
    latest = latest_results(session, tables)
    return [_group(t, t, [(t, r) for r in rs]) for t, rs in sorted(latest.items())]


def dimension_scores(session: Session, tables: Iterable[str] | None = None) -> list[GroupScore]:
    """Every GB/T 36344 dimension in the standard's order; None where no rule measures it."""
    pairs = _pairs(latest_results(session, tables))
    return [_group(d.value, d.value, [(t, r) for t, r in pairs if r.dimension == d.value])
            for d in Dimension]


def department_scores(session: Session, tables: Iterable[str] | None = None
                      ) -> list[GroupScore]:
    latest = latest_results(session, tables)
    providers = provider_orgs(session, latest)
    groups: dict[str, tuple[str, list[tuple[str, QualityResult]]]] = {}
    for table, results in latest.items():
        org = providers.get(table)
        code, name = (org.code, org.name) if org else ("", "—")
        groups.setdefault(code, (name, []))[1].extend((table, r) for r in results)
    return sorted((_group(code, name, items) for code, (name, items) in groups.items()),
                  key=lambda g: (-(g.score or 0), g.name))


def county_scores(session: Session, tables: Iterable[str] | None = None) -> list[GroupScore]:
    """Per county (县/区) of the provider; city-level departments count for the city (市本级)."""
    latest = latest_results(session, tables)
    providers = provider_orgs(session, latest)
    groups: dict[str, tuple[str, list[tuple[str, QualityResult]]]] = {}
    for table, results in latest.items():
        org = providers.get(table)
        area = area_of(org) if org else None
        code, name = (area.code, area.name) if area else ("", "—")
        groups.setdefault(code, (name, []))[1].extend((table, r) for r in results)
    return sorted((_group(code, name, items) for code, (name, items) in groups.items()),
                  key=lambda g: g.key)


@dataclass(frozen=True)
class TrendPoint:
    label: str  # a run's start (one table) or a day (several tables), city time
    at: datetime
    score: float | None
    run_id: int | None = None


def table_trend(session: Session, table: str, *, limit: int = 60) -> list[TrendPoint]:
    """The score of each succeeded run of `table`, oldest first."""
    runs = list(session.scalars(
        select(QualityRun).where(QualityRun.warehouse_table == table,
                                 QualityRun.status == "succeeded")
        .order_by(QualityRun.id.desc()).limit(limit)))
    results: dict[int, list[QualityResult]] = {}
    for result in session.scalars(select(QualityResult).where(
            QualityResult.run_id.in_([r.id for r in runs]))):
        results.setdefault(result.run_id, []).append(result)
    return [TrendPoint(run.started_at.astimezone(SHOWN_ZONE).strftime("%m-%d %H:%M"),
                       run.started_at, weighted(results.get(run.id, [])), run.id)
            for run in reversed(runs)]


def trend(session: Session, tables: Iterable[str] | None = None, *, days: int = 60
          ) -> list[TrendPoint]:
    """Per day (city time): the score of the latest run of each table checked by then.

    A day's point carries forward tables not checked that day, so a day on which only the
    good tables ran does not look better than the platform is."""
    query = select(QualityRun).where(QualityRun.status == "succeeded")
    if tables is not None:
        query = query.where(QualityRun.warehouse_table.in_(list(tables)))
    runs = list(session.scalars(query.order_by(QualityRun.id)))
    if not runs:
        return []
    results: dict[int, list[QualityResult]] = {}
    for result in session.scalars(select(QualityResult).where(
            QualityResult.run_id.in_([r.id for r in runs]))):
        results.setdefault(result.run_id, []).append(result)
    by_day: dict[str, list[QualityRun]] = {}
    for run in runs:
        by_day.setdefault(run.started_at.astimezone(SHOWN_ZONE).strftime("%Y-%m-%d"),
                          []).append(run)
    current: dict[str, int] = {}  # table -> its latest run so far
    points = []
    for day, day_runs in by_day.items():
        for run in day_runs:
            current[run.warehouse_table] = run.id
        pooled = [r for run_id in current.values() for r in results.get(run_id, [])]
        points.append(TrendPoint(day, day_runs[-1].started_at, weighted(pooled)))
    return points[-days:]
