"""k-anonymity over chosen quasi-identifiers, and the least generalisation that reaches k.

Each check is one GROUP BY query: the classes are the distinct combinations of the
quasi-identifiers (after their methods), and a row is at risk when its class has fewer than k
rows. The suggestion tries combinations of generalisations, least generalised first (fewest
steps up each column's ladder), and reports the first that reaches k.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from datapolis.security.deid.methods import DeidError
from datapolis.security.deid.plans import Rule, expression
from datapolis.warehouse.engine import Engine, TableName, quote_identifier

MAX_TRIES = 64


@dataclass(frozen=True)
class Report:
    k: int
    quasi: tuple[Rule, ...]
    rows: int
    classes: int
    smallest: int  # rows in the smallest class; 0 for an empty table
    classes_below_k: int
    rows_at_risk: int

    @property
    def share_at_risk(self) -> float:
        return self.rows_at_risk / self.rows if self.rows else 0.0

    @property
    def reaches_k(self) -> bool:
        return self.rows_at_risk == 0


@dataclass(frozen=True)
class Suggestion:
    report: Report | None  # the first combination reaching k, None when none does
    tried: int


def check(engine: Engine, table: str, quasi: Sequence[Rule], k: int) -> Report:
    if not quasi:
        raise DeidError("a k-anonymity check needs at least one quasi-identifier")
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise DeidError(f"k must be a whole number of at least 2, not {k!r}")
    keys = ", ".join(expression(rule, None) for rule in quasi)
    source = TableName.parse(table).sql
    risky = f"FILTER (WHERE n < {int(k)})"
    sql = (f"SELECT coalesce(sum(n), 0), count(*), coalesce(min(n), 0), count(*) {risky}, "  # noqa: S608
           f"coalesce(sum(n) {risky}, 0) FROM (SELECT count(*) AS n FROM {source} "
           f"GROUP BY {keys})")
    row = engine.query(sql).to_pylist()[0]
    rows, classes, smallest, below, at_risk = (int(v or 0) for v in row.values())
    return Report(k, tuple(quasi), rows, classes, smallest, below, at_risk)


def ladder(column: str, sql_type: str) -> list[Rule]:
    """Generalisations to try for one column, from none to the coarsest, by its type."""
    kind = sql_type.upper()
    if kind.startswith(("DATE", "TIMESTAMP")):
        return [Rule(column), Rule(column, "date", {"unit": "month"}),
                Rule(column, "date", {"unit": "year"}), Rule(column, "suppress")]
    if kind in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE") or \
            kind.startswith("DECIMAL"):
        return [Rule(column), Rule(column, "band", {"width": 5}),
                Rule(column, "band", {"width": 10}), Rule(column, "band", {"width": 20}),
                Rule(column, "suppress")]
    return [Rule(column), Rule(column, "district"), Rule(column, "suppress")]


def suggest(engine: Engine, table: str, quasi: Sequence[str], k: int,
            ladders: Mapping[str, Sequence[Rule]] | None = None) -> Suggestion:
    types = {c.name: c.type for c in engine.columns(table)}
    steps: list[Sequence[Rule]] = []
    for column in quasi:
        quote_identifier(column)
        if column not in types:
            raise DeidError(f"{table} has no column {column!r}")
        steps.append((ladders or {}).get(column) or ladder(column, types[column]))
    levels = sorted(itertools.product(*(range(len(s)) for s in steps)),
                    key=lambda combo: (sum(combo), combo))
    for tried, combo in enumerate(levels[:MAX_TRIES], start=1):
        report = check(engine, table, [s[n] for s, n in zip(steps, combo, strict=True)], k)
        if report.reaches_k:
            return Suggestion(report, tried)
    return Suggestion(None, min(len(levels), MAX_TRIES))
