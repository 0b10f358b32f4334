"""A de-identification plan for one table, the SELECT it compiles to, and the read through it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pyarrow as pa

from datapolis.security.deid.keys import KeyContext, install
from datapolis.security.deid.methods import DeidError, method
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


def expression(rule: Rule, context: KeyContext | None) -> str:
    return method(rule.method).expression(quote_identifier(rule.column), rule.column,
                                          rule.params, context)


def deidentified_select(table: str, plan: Plan) -> str:
    """SELECT every planned column through its method, named as the column."""
    if not plan.rules:
        raise DeidError(f"nothing of {table} may be read under this plan")
    context = plan.context
    selected = ", ".join(f"{expression(rule, context)} AS {quote_identifier(rule.column)}"
                         for rule in plan.rules)
    return f"SELECT {selected} FROM {TableName.parse(table).sql}"  # noqa: S608


def prepare(engine: Engine, plan: Plan) -> None:
    """Register what the plan's SQL calls (the key's pseudonym function)."""
    context = plan.context
    if context is not None and any(method(r.method).needs_key for r in plan.rules):
        install(engine, context)


def read(engine: Engine, table: str, plan: Plan, *, limit: int | None = None) -> pa.Table:
    prepare(engine, plan)
    tail = f" LIMIT {int(limit)}" if limit is not None else ""
    return engine.query(deidentified_select(table, plan) + tail)


def read_batches(engine: Engine, table: str, plan: Plan,
                 batch_size: int = 65_536) -> Iterator[pa.RecordBatch]:
    prepare(engine, plan)
    yield from engine.query_batches(deidentified_select(table, plan), batch_size=batch_size)
