"""A spec compiled to DuckDB SQL: one staged SELECT for the rows, one aggregate for the counts.

The staged query unions the sources (`UNION ALL BY NAME`, so a monthly file with a new column
still fits), adds `_src` (the ods table) and `_pk` (the source row's key as text), applies
each column's transform chain as one nested expression, and numbers the rows of each dedupe
key by the survivorship rules. Rows numbered 1 (and rows without a key) are the std table;
the others become `std._dedupe_<target>` with the row each one collapsed into.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from datapolis.standardise.spec import Spec
from datapolis.standardise.transforms import Context, Params, SpecError, get_transform
from datapolis.warehouse.engine import Engine, TableName, quote_identifier

_OUTPUT_TYPE = {"date": "DATE"}


@dataclass
class Compiled:
    sources: list[str]
    stage_sql: str  # SELECT of every transformed row with _src, _pk, _rn, _kept_src, _kept_pk
    stats_sql: str  # one row: rows_in, changed_<i> / nulled_<i> per step, rows_changed
    steps: list[tuple[str, str]]  # (column, step label) in the order of the stats columns
    params: dict[str, object] = field(default_factory=dict)


def resolve_sources(engine: Engine, spec: Spec) -> list[str]:
    found: list[str] = []
    for source in spec.sources:
        if source.endswith("*"):
            schema, _, prefix = source[:-1].partition(".")
            names = sorted((t.name for t in engine.tables(schema)
                            if t.kind == "table" and t.name.startswith(prefix)), reverse=True)
            found += [f"{schema}.{name}" for name in names]
        elif engine.table_exists(source):
            found.append(source)
    if not found:
        raise SpecError(f"std.{spec.target}: none of its sources ({', '.join(spec.sources)}) "
                        "has landed yet")
    return found


def compile_spec(engine: Engine, spec: Spec,
                 code_tables: Mapping[str, Mapping[str, str]]) -> Compiled:
    sources = resolve_sources(engine, spec)
    params = Params()
    types: dict[str, str] = {}
    for source in sources:
        columns = {c.name: c.type for c in engine.columns(source)}
        if spec.pk not in columns:
            raise SpecError(f"std.{spec.target}: {source} has no primary key column {spec.pk}")
        for name, sql_type in columns.items():
            types.setdefault(name, sql_type)
    for name in [*spec.columns, *(spec.dedupe.key if spec.dedupe else ())]:
        if name not in types:
            raise SpecError(f"std.{spec.target}: no column {name} in {', '.join(sources)}")
    for _, column in (spec.dedupe.keep if spec.dedupe else ()):
        if column is not None and column not in types:
            raise SpecError(f"std.{spec.target}: no column {column} to rank by")

    union = " UNION ALL BY NAME ".join(
        f"SELECT *, {params.add(source)} AS _src, {rank} AS _priority, "  # noqa: S608
        f"CAST({quote_identifier(spec.pk)} AS VARCHAR) AS _pk FROM {TableName.parse(source).sql}"
        for rank, source in enumerate(sources)
    )
    finals: dict[str, str] = {}
    stats = ["count(*) AS rows_in"]
    steps: list[tuple[str, str]] = []
    changed_any: list[str] = []
    for column, chain in spec.columns.items():
        expr, sql_type = quote_identifier(column), types[column]
        for step in chain:
            ctx = Context(column, sql_type, params, code_tables)
            new = get_transform(step.name).compile(expr, step.argument, ctx)
            i = len(steps)
            stats.append(f"count_if(CAST({new} AS VARCHAR) IS DISTINCT FROM "
                         f"CAST({expr} AS VARCHAR)) AS changed_{i}")
            stats.append(f"count_if({expr} IS NOT NULL AND {new} IS NULL) AS nulled_{i}")
            steps.append((column, step.label))
            expr = new
            sql_type = (str(step.argument).upper() if step.name == "cast"
                        else _OUTPUT_TYPE.get(step.name, sql_type if step.name == "null_if"
                                              else "VARCHAR"))
        finals[column] = expr
        raw = quote_identifier(column)
        changed_any.append(f"CAST({expr} AS VARCHAR) IS DISTINCT FROM CAST({raw} AS VARCHAR)")
    stats.append(f"count_if({' OR '.join(changed_any) or 'false'}) AS rows_changed")

    replace = ", ".join(f"{expr} AS {quote_identifier(c)}" for c, expr in finals.items())
    transformed = f"SELECT * REPLACE ({replace}) FROM src" if finals else "SELECT * FROM src"  # noqa: S608
    rank = _ranking(spec, types)
    stage = (f"WITH src AS ({union}), t AS ({transformed}) "  # noqa: S608
             f"SELECT *, {rank} FROM t")
    stats_sql = f"WITH src AS ({union}) SELECT {', '.join(stats)} FROM src"  # noqa: S608
    return Compiled(sources, stage, stats_sql, steps, params.values)


def _ranking(spec: Spec, types: Mapping[str, str]) -> str:
    """_rn (1 = the survivor), _kept_src and _kept_pk (the survivor of the row's key)."""
    if spec.dedupe is None:
        return "1 AS _rn, _src AS _kept_src, _pk AS _kept_pk"
    key = [quote_identifier(c) for c in spec.dedupe.key]
    order = []
    for rule, column in spec.dedupe.keep:
        if rule == "most_recent":
            order.append(f"{quote_identifier(column or '')} DESC NULLS LAST")
        elif rule == "most_complete":
            filled = " + ".join(
                f"(CASE WHEN {quote_identifier(c)} IS NULL OR CAST({quote_identifier(c)} AS "
                f"VARCHAR) = '' THEN 0 ELSE 1 END)" for c in types if not c.startswith("_"))
            order.append(f"({filled}) DESC")
        else:
            order.append("_priority")
    order += ["_priority", "_pk"]  # a tie resolves the same way on every rebuild
    window = f"(PARTITION BY {', '.join(key)} ORDER BY {', '.join(order)})"
    no_key = " OR ".join(f"{k} IS NULL" for k in key)
    return (f"CASE WHEN {no_key} THEN 1 ELSE row_number() OVER {window} END AS _rn, "
            f"CASE WHEN {no_key} THEN _src ELSE first_value(_src) OVER {window} END "
            f"AS _kept_src, "
            f"CASE WHEN {no_key} THEN _pk ELSE first_value(_pk) OVER {window} END AS _kept_pk")
