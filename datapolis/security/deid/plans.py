"""A de-identification plan for one table, the SELECT it compiles to, and the read through it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import pyarrow as pa

from datapolis.security.deid import aligned
from datapolis.security.deid.aligned import Aligned
from datapolis.security.deid.keys import KeyContext, install
from datapolis.security.deid.methods import PSEUDONYM, DeidError, method
from datapolis.security.deid.pseudonyms import check_not_retired, refresh
from datapolis.warehouse.duckdb_engine import DuckDBEngine
from datapolis.warehouse.engine import Engine, TableName, quote_identifier


@dataclass(frozen=True)
class Rule:
    column: str
    method: str = "keep"
    params: Mapping[str, int | str] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """Which columns a reader gets and how each is transformed; withheld columns are not read."""

    rules: tuple[Rule, ...]
    withheld: tuple[str, ...] = ()
    key: bytes | None = None  # the release's or consumer's key, for pseudonyms and noise
    row_id: str | None = None  # a column naming each row, so noise is drawn per row

    @property
    def columns(self) -> list[str]:
        return [rule.column for rule in self.rules]

    def methods(self) -> dict[str, str]:
        return {rule.column: rule.method for rule in self.rules}

    @property
    def context(self) -> KeyContext | None:
        return KeyContext(self.key, self.row_id) if self.key is not None else None


# A read of at most this many rows calls the key's function on its values instead of bringing
# the pseudonym tables up to date: a preview of 20 rows must not hash a whole table's values.
UDF_ROWS = 10_000


@dataclass(frozen=True)
class Sources:
    """Where a read's pseudonyms come from (see `prepare`); columns in neither call the key's
    function."""

    joined: Mapping[str, str] = field(default_factory=dict)  # column -> pseudonym table
    aligned: Mapping[str, Aligned] = field(default_factory=dict)  # column -> aligned column


def expression(rule: Rule, context: KeyContext | None) -> str:
    return method(rule.method).expression(quote_identifier(rule.column), rule.column,
                                          rule.params, context)


def _order(plan: Plan, order_by: Sequence[str]) -> list[str]:
    """The quoted paging keys. Only columns read as stored may order a read: ordering by a
    masked or generalised column would sort by values the reader may not see."""
    kept = {rule.column for rule in plan.rules if rule.method == "keep"}
    for column in order_by:
        if column not in kept:
            raise DeidError(f"cannot order by {column!r}: a read is ordered only by columns it "
                            f"returns unchanged ({', '.join(sorted(kept)) or 'none'})")
    return [quote_identifier(column) for column in order_by]


def _aliases(plan: Plan, columns: Sequence[str], read: Sequence[str] = ()) -> dict[str, str]:
    taken = set(plan.columns) | {plan.row_id} | set(read)
    aliases: dict[str, str] = {}
    for column in columns:
        alias = f"_dp_pseudonym_{len(aliases)}"
        while alias in taken:
            alias += "_"
        aliases[column] = alias
        taken.add(alias)
    return aliases


def _joined_source(table: str, read: list[str], joined: Mapping[str, str],
                   aliases: Mapping[str, str], context: KeyContext) -> str:
    inner = [f"s.{quote_identifier(c)}" for c in read]
    joins = []
    for n, (column, pseudonyms) in enumerate(joined.items()):
        value = f"CAST(s.{quote_identifier(column)} AS VARCHAR)"
        # A value written after the table's refresh is not in it yet: the key's function.
        inner.append(f"CASE WHEN {value} IS NULL THEN NULL ELSE coalesce(p{n}.pseudonym, "
                     f"{context.pseudonym_function()}({value})) END "
                     f"AS {quote_identifier(aliases[column])}")
        joins.append(f"LEFT JOIN {TableName.parse(pseudonyms).sql} p{n} ON p{n}.value = {value}")
    return (f"SELECT {', '.join(inner)} FROM {TableName.parse(table).sql} s "  # noqa: S608
            f"{' '.join(joins)}")


def pseudonym_source(table: str, plan: Plan, sources: Sources,
                     read: Sequence[str]) -> tuple[str, KeyContext]:
    """A subquery of the table's `read` columns beside each pseudonymised column's pseudonym
    (aligned or joined, see `prepare`) under a name of its own, and the key context whose
    expressions read those names; callers select from it as from the table."""
    context = plan.context
    if context is None:
        raise DeidError("pseudonyms need the plan's key")
    aliases = _aliases(plan, [*sources.aligned, *sources.joined], read)
    if sources.aligned:
        if sources.joined:
            raise DeidError("a read takes its pseudonyms either aligned or joined, not both")
        inner = aligned.positional_source(table, list(read), dict(sources.aligned), aliases,
                                          context)
    else:
        inner = _joined_source(table, list(read), sources.joined, aliases, context)
    return inner, replace(context, joined={c: quote_identifier(a) for c, a in aliases.items()})


def deidentified_select(table: str, plan: Plan,
                        sources: Sources | Mapping[str, str] | None = None, *,
                        order_by: Sequence[str] = (), limit: int | None = None,
                        offset: int = 0) -> str:
    """SELECT every planned column through its method, named as the column.

    `sources` (see `prepare`) says which pseudonyms come from aligned columns, read beside
    the table with a POSITIONAL JOIN, and which from pseudonym tables, LEFT JOINed; either way
    a subquery hands the outer SELECT each pseudonym under a name of its own, so the methods'
    expressions stay unqualified. A plain mapping is taken as joined tables. Without sources,
    pseudonyms call the key's function.

    `order_by` (columns the plan keeps as stored) orders the rows, so pages taken with
    `limit` and `offset` are stable; the page is cut before any method runs.
    """
    if not plan.rules:
        raise DeidError(f"nothing of {table} may be read under this plan")
    if (limit is not None and limit < 0) or offset < 0:
        raise DeidError(f"a page needs a limit and offset of 0 or more, not {limit} and {offset}")
    found = sources if isinstance(sources, Sources) else Sources(joined=dict(sources or {}))
    keys = _order(plan, order_by)
    page = ""
    if limit is not None or offset:
        page = (f"{' ORDER BY ' + ', '.join(keys) if keys else ''}"
                f"{f' LIMIT {int(limit)}' if limit is not None else ''}"
                f"{f' OFFSET {int(offset)}' if offset else ''}")
    source = TableName.parse(table).sql
    context = plan.context
    if (found.aligned or found.joined) and context is not None:
        read = list(dict.fromkeys([*plan.columns, *([plan.row_id] if plan.row_id else [])]))
        inner, context = pseudonym_source(table, plan, found, read)
        source = f"({inner}{page}) s"
    elif page:
        source = f"(SELECT * FROM {source}{page}) s"  # noqa: S608
    selected = ", ".join(f"{expression(rule, context)} AS {quote_identifier(rule.column)}"
                         for rule in plan.rules)
    ordered = f" ORDER BY {', '.join(keys)}" if keys else ""
    return f"SELECT {selected} FROM {source}{ordered}"  # noqa: S608


def prepare(engine: Engine, table: str, plan: Plan, *, rows: int | None = None,
            beside: bool = False) -> Sources:
    """Make ready what the plan's SQL reads; returns where its pseudonyms come from.

    A read of up to `UDF_ROWS` rows registers the key's pseudonym function. A larger read
    brings the key's pseudonym tables up to date, which its one statement hash-joins (in
    parallel). `beside` is for `read`'s whole-table path: a DuckDB table's aligned pseudonym
    columns (`aligned.ensure`), read by position. A `POSITIONAL JOIN` runs on one thread,
    so inside one statement with masks and a sort it is slower than the join.
    """
    context = plan.context
    keyed = [r for r in plan.rules if method(r.method).needs_key]
    if context is None or not keyed:
        return Sources()
    check_not_retired(engine, context.key)
    pseudonymised = [r for r in keyed if r.method == PSEUDONYM.name]
    if pseudonymised:
        install(engine, context)  # the small read's path, and every path's fallback
    if not pseudonymised or (rows is not None and rows <= UDF_ROWS):
        return Sources()
    families = {rule.column: str(PSEUDONYM.checked(rule.params)["family"])
                for rule in pseudonymised}
    if beside and isinstance(engine, DuckDBEngine) and aligned.possible(engine, table):
        return Sources(aligned={column: aligned.ensure(engine, context.key, table, column, family)
                                for column, family in families.items()})
    return Sources(joined={column: refresh(engine, context.key, table, column, family).table
                           for column, family in families.items()})


def _read_beside(engine: Engine, table: str, plan: Plan) -> pa.Table | None:
    """A whole-table read with aligned pseudonyms, or None when a column is not current.

    Three statements in one snapshot: the check that every aligned column matches its source
    (`aligned.current`), the other columns through their methods (a parallel scan, in table
    order) and the aligned columns alone (a positional scan, which DuckDB runs on one
    thread); the two results are put side by side.
    """
    context = plan.context
    if context is None or not isinstance(engine, DuckDBEngine):
        return None
    pseudonymised = [r.column for r in plan.rules if r.method == PSEUDONYM.name]
    aliases = _aliases(plan, pseudonymised)
    rest = replace(plan, rules=tuple(r for r in plan.rules if r.column not in aliases))
    with engine.transaction():
        found = {c: aligned.current(engine, context.key, table, c) for c in pseudonymised}
        if any(a is None for a in found.values()):
            return None
        pseudonyms = engine.query(aligned.positional_source(
            table, [], found, aliases, context, checked=True))  # type: ignore[arg-type]
        others = engine.query(deidentified_select(table, rest)) if rest.rules else None
    if others is not None and others.num_rows != pseudonyms.num_rows:
        return None  # cannot happen within one snapshot; the checked path is always right
    columns = [pseudonyms.column(aliases[rule.column]) if rule.column in aliases
               else others.column(rule.column)  # type: ignore[union-attr]
               for rule in plan.rules]
    return pa.Table.from_arrays(columns, names=plan.columns)


def read(engine: Engine, table: str, plan: Plan, *, order_by: Sequence[str] = (),
         limit: int | None = None, offset: int = 0) -> pa.Table:
    """The plan's read of `table`; `order_by` with `limit`/`offset` pages through it."""
    whole = not order_by and limit is None and not offset
    alignable = (whole and plan.context is not None and isinstance(engine, DuckDBEngine)
                 and any(r.method == PSEUDONYM.name for r in plan.rules)
                 and aligned.possible(engine, table))
    if alignable:
        check_not_retired(engine, plan.key)  # type: ignore[arg-type]
        found = _read_beside(engine, table, plan)  # the usual case: nothing changed
        if found is not None:
            return found
    sources = prepare(engine, table, plan, rows=limit, beside=alignable)
    if alignable:
        found = _read_beside(engine, table, plan)
        if found is not None:
            return found
        # A write landed between the build and the read: the row-checked statement.
    return engine.query(deidentified_select(table, plan, sources, order_by=order_by,
                                            limit=limit, offset=offset))


def read_batches(engine: Engine, table: str, plan: Plan, batch_size: int = 65_536, *,
                 order_by: Sequence[str] = ()) -> Iterator[pa.RecordBatch]:
    sources = prepare(engine, table, plan)
    yield from engine.query_batches(deidentified_select(table, plan, sources,
                                                        order_by=order_by),
                                    batch_size=batch_size)
