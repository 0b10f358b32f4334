"""A de-identification plan for one table, the SELECT it compiles to, and the read through it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

import pyarrow as pa

from datapolis.security.deid.keys import KeyContext, install
from datapolis.security.deid.methods import PSEUDONYM, DeidError, method
from datapolis.security.deid.pseudonyms import check_not_retired, refresh
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
# the pseudonym table up to date: a preview of 20 rows must not hash a whole table's values.
UDF_ROWS = 10_000


def expression(rule: Rule, context: KeyContext | None) -> str:
    return method(rule.method).expression(quote_identifier(rule.column), rule.column,
                                          rule.params, context)


def deidentified_select(table: str, plan: Plan, joined: Mapping[str, str] | None = None) -> str:
    """SELECT every planned column through its method, named as the column.

    `joined` maps pseudonymised columns to their pseudonym tables (see `prepare`); those are
    LEFT JOINed in a subquery that hands the outer SELECT each pseudonym under a name of its
    own, so the methods' expressions stay unqualified. Without it, pseudonyms call the key's
    function.
    """
    if not plan.rules:
        raise DeidError(f"nothing of {table} may be read under this plan")
    source = TableName.parse(table).sql
    context = plan.context
    if joined and context is not None:
        taken = set(plan.columns) | {plan.row_id}
        aliases: dict[str, str] = {}
        for column in joined:
            alias = f"_dp_pseudonym_{len(aliases)}"
            while alias in taken:
                alias += "_"
            aliases[column] = alias
            taken.add(alias)
        read = list(dict.fromkeys([*plan.columns, *([plan.row_id] if plan.row_id else [])]))
        inner = [f"s.{quote_identifier(c)}" for c in read]
        joins = []
        for n, (column, pseudonyms) in enumerate(joined.items()):
            inner.append(f"p{n}.pseudonym AS {quote_identifier(aliases[column])}")
            joins.append(f"LEFT JOIN {TableName.parse(pseudonyms).sql} p{n} "
                         f"ON p{n}.value = CAST(s.{quote_identifier(column)} AS VARCHAR)")
        source = f"(SELECT {', '.join(inner)} FROM {source} s {' '.join(joins)}) s"  # noqa: S608
        context = replace(context, joined={c: quote_identifier(a) for c, a in aliases.items()})
    selected = ", ".join(f"{expression(rule, context)} AS {quote_identifier(rule.column)}"
                         for rule in plan.rules)
    return f"SELECT {selected} FROM {source}"  # noqa: S608


def prepare(engine: Engine, table: str, plan: Plan, *, rows: int | None = None) -> dict[str, str]:
    """Make ready what the plan's SQL reads; returns the pseudonym tables to join.

    A read of up to `UDF_ROWS` rows registers the key's pseudonym function; any larger read
    brings the key's pseudonym tables up to date with the table and joins them.
    """
    context = plan.context
    keyed = [r for r in plan.rules if method(r.method).needs_key]
    if context is None or not keyed:
        return {}
    check_not_retired(engine, context.key)
    pseudonymised = [r for r in keyed if r.method == PSEUDONYM.name]
    if rows is not None and rows <= UDF_ROWS:
        if pseudonymised:
            install(engine, context)
        return {}
    joined: dict[str, str] = {}
    for rule in pseudonymised:
        family = str(PSEUDONYM.checked(rule.params)["family"])
        joined[rule.column] = refresh(engine, context.key, table, rule.column, family).table
    return joined


def read(engine: Engine, table: str, plan: Plan, *, limit: int | None = None) -> pa.Table:
    joined = prepare(engine, table, plan, rows=limit)
    tail = f" LIMIT {int(limit)}" if limit is not None else ""
    return engine.query(deidentified_select(table, plan, joined) + tail)


def read_batches(engine: Engine, table: str, plan: Plan,
                 batch_size: int = 65_536) -> Iterator[pa.RecordBatch]:
    joined = prepare(engine, table, plan)
    yield from engine.query_batches(deidentified_select(table, plan, joined),
                                    batch_size=batch_size)
