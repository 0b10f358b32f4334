"""Profiling a warehouse table: what each column holds, from one aggregate scan.

The first query computes, for every column at once: values present (→ null %), distinct values,
min / max, the shortest and longest text, how many values have each value shape of
`catalog/patterns.py`, and the approximate most frequent values (`approx_top_k`). DuckDB's
`approx_top_k` returns values without their counts, so a second, much cheaper scan counts those
candidates exactly (`histogram(...) FILTER (WHERE list_contains(...))`). See docs/catalog.md for
what it costs.

Distinct counts are exact (`count(DISTINCT ...)`) for tables of up to `EXACT_DISTINCT_ROWS`
rows and HyperLogLog estimates (`approx_count_distinct`, a few per cent off) above: an exact
count keeps every value of every column in a hash table, which on a city-sized table costs
more than the rest of the profile together.

SQL is generated for DuckDB; names pass through `quote_identifier`, shapes are our own code
(registered patterns), and sample values travel as parameters.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from datapolis.catalog.patterns import PATTERNS
from datapolis.warehouse.engine import ColumnInfo, Engine, TableName, WarehouseError

EXACT_DISTINCT_ROWS = 100_000
TOP_CANDIDATES = 10  # approx_top_k keeps this many; the best TOP_VALUES of them are counted
TOP_VALUES = 5
# Shapes of values that identify a person: min / max and top values are stored masked.
IDENTIFYING = ("resident_id", "mobile", "email")
IDENTIFYING_SHARE = 0.5

_TEXT = re.compile(r"^(VARCHAR|CHAR|TEXT|STRING|JSON)\b|^ENUM", re.IGNORECASE)
_NUMBER = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|"
    r"FLOAT|DOUBLE|REAL|DECIMAL|NUMERIC)\b",
    re.IGNORECASE,
)
_TEMPORAL = re.compile(r"^(DATE|TIME|TIMESTAMP|INTERVAL)\b", re.IGNORECASE)


def column_kind(sql_type: str) -> str:
    """text | number | temporal | boolean | other (blobs, lists, structs: counted only)."""
    if _TEXT.match(sql_type):
        return "text"
    if _NUMBER.match(sql_type):
        return "number"
    if _TEMPORAL.match(sql_type):
        return "temporal"
    if sql_type.upper() == "BOOLEAN":
        return "boolean"
    return "other"


@dataclass
class ColumnStats:
    name: str
    sql_type: str
    kind: str
    present: int = 0  # non-null values
    distinct: int | None = None
    distinct_exact: bool = True
    min_value: str | None = None
    max_value: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    top_values: list[tuple[str, int]] = field(default_factory=list)
    patterns: dict[str, int] = field(default_factory=dict)  # shape -> values having it
    masked: bool = False
    samples: list[str] = field(default_factory=list)  # unmasked; never stored

    def null_share(self, rows: int) -> float:
        return (rows - self.present) / rows if rows else 0.0


@dataclass
class TableStats:
    table: str
    rows: int
    columns: list[ColumnStats]
    seconds: float


def shapes() -> dict[str, str]:
    """The profiled value shapes, by pattern name."""
    return {name: p.shape for name, p in PATTERNS.items() if p.shape}


def quoted(name: str) -> str:
    """A column name as a DuckDB identifier. Columns landed from files keep their own names
    (序号, 姓名 (户主)), which `quote_identifier` refuses: doubling quotes is exact quoting."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class _Plan:
    """The select list of the first scan and where each column's figures sit in its row."""

    expressions: list[str]
    slots: list[dict[str, int]]


def plan_scan(columns: Sequence[ColumnInfo], *, exact_distinct: bool) -> _Plan:
    expressions = ["count(*)"]
    slots: list[dict[str, int]] = []
    shape_sql = {name: _literal(shape) for name, shape in shapes().items()}

    def add(slot: dict[str, int], key: str, sql: str) -> None:
        slot[key] = len(expressions)
        expressions.append(sql)

    for column in columns:
        q, kind = quoted(column.name), column_kind(column.type)
        slot: dict[str, int] = {}
        add(slot, "present", f"count({q})")
        if kind != "other":
            distinct = f"count(DISTINCT {q})" if exact_distinct else f"approx_count_distinct({q})"
            add(slot, "distinct", distinct)
            add(slot, "min", f"CAST(min({q}) AS VARCHAR)")
            add(slot, "max", f"CAST(max({q}) AS VARCHAR)")
            add(slot, "top", f"approx_top_k({q}, {TOP_CANDIDATES})")
        if kind == "text":
            add(slot, "min_length", f"min(length({q}))")
            add(slot, "max_length", f"max(length({q}))")
            for name, shape in shape_sql.items():
                add(slot, f"pattern:{name}",
                    f"count(*) FILTER (WHERE regexp_full_match({q}, {shape}))")
        slots.append(slot)
    return _Plan(expressions, slots)


def profile_table(engine: Engine, table: str) -> TableStats:
    """Profile `schema.table`: one aggregate scan, then one cheap scan counting top values."""
    target = TableName.parse(table)
    started = time.perf_counter()
    columns = engine.columns(table)
    estimate = next((t.rows for t in engine.tables(target.schema) if t.name == target.name), None)
    exact = estimate is not None and estimate <= EXACT_DISTINCT_ROWS
    plan = plan_scan(columns, exact_distinct=exact)
    sql = f"SELECT {', '.join(plan.expressions)} FROM {target.sql}"  # noqa: S608
    row = engine.query(sql).to_pylist()[0]
    values = list(row.values())
    rows = int(values[0])
    stats: list[ColumnStats] = []
    candidates: dict[int, list[Any]] = {}
    for index, (column, slot) in enumerate(zip(columns, plan.slots, strict=True)):
        got = {key: values[position] for key, position in slot.items()}
        found = ColumnStats(column.name, column.type, column_kind(column.type),
                            present=int(got["present"]), distinct_exact=exact)
        if "distinct" in got:
            found.distinct = int(got["distinct"])
            found.min_value, found.max_value = got["min"], got["max"]
            top = [v for v in (got["top"] or []) if v is not None]
            if top:
                candidates[index] = top
            found.samples = [str(v) for v in top]
        if "min_length" in got:
            found.min_length, found.max_length = got["min_length"], got["max_length"]
            found.patterns = {key.split(":", 1)[1]: int(count) for key, count in got.items()
                              if key.startswith("pattern:") and count}
        if found.distinct is not None and found.distinct > found.present:
            found.distinct = found.present  # HyperLogLog can overshoot a little
        found.masked = found.present > 0 and any(
            found.patterns.get(name, 0) / found.present >= IDENTIFYING_SHARE
            for name in IDENTIFYING
        )
        stats.append(found)
    _count_top_values(engine, target, stats, candidates)
    for found in stats:
        if found.masked:
            found.min_value, found.max_value = mask(found.min_value), mask(found.max_value)
            found.top_values = [(mask(v) or "", n) for v, n in found.top_values]
    return TableStats(str(target), rows, stats, time.perf_counter() - started)


def _count_top_values(
    engine: Engine, target: TableName, stats: list[ColumnStats], candidates: dict[int, list[Any]]
) -> None:
    """Count the approximate top values exactly; keep those seen at least twice (a value of
    one record says nothing about the column and may identify someone)."""
    if not candidates:
        return
    indexes = list(candidates)
    expressions = [
        f"histogram({quoted(stats[i].name)}) FILTER "
        f"(WHERE list_contains(${n + 1}, {quoted(stats[i].name)}))"
        for n, i in enumerate(indexes)
    ]
    params = [candidates[i] for i in indexes]
    try:
        sql = f"SELECT {', '.join(expressions)} FROM {target.sql}"  # noqa: S608
        row = engine.query(sql, params).to_pylist()[0]
    except WarehouseError:
        return  # a type the parameter binding cannot round-trip: no top values, still a profile
    for i, counted in zip(indexes, row.values(), strict=True):
        pairs = counted.items() if isinstance(counted, dict) else (counted or [])
        ranked = sorted(((str(v), int(n)) for v, n in pairs if n and n >= 2),
                        key=lambda pair: (-pair[1], pair[0]))
        stats[i].top_values = ranked[:TOP_VALUES]


def mask(value: str | None) -> str | None:
    """Keep the first three and last two characters: 371302********0012."""
    if value is None or len(value) <= 5:
        return None if value is None else "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


def storage_bytes(engine: Engine, table: str) -> int | None:
    """The warehouse blocks the table occupies on disk, times the block size.

    From `pragma_storage_info`: the distinct blocks of the table's persistent segments. Small
    tables share blocks with others, so a table of a few rows counts one whole block (256 KiB);
    segments not yet checkpointed (still in the write-ahead log) count eight bytes a value.
    None where the engine has no such pragma.
    """
    name = str(TableName.parse(table))
    try:
        found = engine.query(
            "WITH segments AS (SELECT * FROM pragma_storage_info($name)), "
            "blocks AS (SELECT block_id FROM segments WHERE persistent AND block_id >= 0 "
            "UNION SELECT unnest(additional_block_ids) FROM segments WHERE persistent) "
            "SELECT (SELECT count(*) FROM blocks) * "
            "(SELECT block_size FROM pragma_database_size()), "
            "(SELECT coalesce(sum(count), 0) * 8 FROM segments WHERE NOT persistent)",
            {"name": name},
        ).to_pylist()[0]
    except WarehouseError:
        return None
    on_disk, in_log = found.values()
    return int(on_disk or 0) + int(in_log or 0)
