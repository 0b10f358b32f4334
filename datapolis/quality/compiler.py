"""Rules -> SQL: every row-level rule of a table in one scan, built as sqlglot expressions.

The scan writes only the FAILING rows to the table's failure store in the warehouse
(`quality.<store>`): their key, the columns the rules read, and a bit mask saying which rules
each row fails. Counts, capped samples and failing keys are then read from that small store,
so the data is scanned once however many rules and samples there are. The text is generated
for DuckDB; `transpile` gives it to another engine.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from datapolis.quality.rules import Binder, Rule
from datapolis.warehouse.engine import TableName, check_identifier

QUALITY_SCHEMA = "quality"
MASK = "_mask"
ROW_ID = "_row"  # the key of a table without one: DuckDB's rowid (full checks only)
MAX_RULES_PER_SCAN = 62  # bits of a BIGINT mask, sign bit left alone


@dataclass(frozen=True)
class Compiled:
    sql: str
    params: dict[str, object]

    def transpile(self, dialect: str) -> str:
        return sqlglot.transpile(self.sql, read="duckdb", write=dialect)[0]


def store_name(table: TableName) -> TableName:
    """The failure store of `table`: `quality.f_<schema>__<table>`, shortened by a hash when
    the name would pass 63 characters."""
    name = f"f_{table.schema}__{table.name}"
    if len(name) > 63:
        digest = hashlib.sha256(str(table).encode()).hexdigest()[:10]
        name = f"{name[:52]}_{digest}"
    return TableName(QUALITY_SCHEMA, check_identifier(name, "table"))


def aux_name(table: TableName, tag: str, columns: tuple[str, ...]) -> TableName:
    """A table-level rule's own state next to the failure store (e.g. duplicated values)."""
    digest = hashlib.sha256("|".join([str(table), tag, *columns]).encode()).hexdigest()[:10]
    return TableName(QUALITY_SCHEMA, f"{store_name(table).name[:44]}_{tag}_{digest}")


def _col(name: str) -> exp.Column:
    return exp.column(check_identifier(name, "column"), quoted=True)


def _table(name: TableName) -> exp.Table:
    return exp.table_(name.name, db=name.schema, quoted=True)


def _failing(rules: list[Rule], bind: Binder) -> list[exp.Expr]:
    """Per rule, true when the row fails it (never NULL)."""
    if len(rules) > MAX_RULES_PER_SCAN:
        raise ValueError(f"at most {MAX_RULES_PER_SCAN} row rules in one scan")
    return [exp.func("coalesce", exp.Paren(this=rule.spec.predicate(  # type: ignore[misc]
        rule, [_col(c) for c in rule.columns], bind)), exp.false()) for rule in rules]


def mask_expression(rules: list[Rule], bind: Binder) -> exp.Expr:
    """bit i set when the row fails rules[i]."""
    return _mask(_failing(rules, bind))


def _mask(failing: list[exp.Expr]) -> exp.Expr:
    terms = [exp.Mul(this=exp.cast(flag.copy(), "BIGINT"), expression=exp.Literal.number(1 << bit))
             for bit, flag in enumerate(failing)]
    total: exp.Expr = terms[0]
    for term in terms[1:]:
        total = exp.Add(this=total, expression=term)
    return total


def failing_rows(
    table: TableName, rules: list[Rule], keys: list[str], *, where: exp.Expr | None = None
) -> Compiled:
    """SELECT key, read columns, mask FROM table WHERE [where AND] a rule fails.

    The filter is the rules' predicates joined by OR, the mask is computed above it: the
    warehouse builds the mask only for the few failing rows, not for every row."""
    bind = Binder()
    read = list(dict.fromkeys(c for rule in rules for c in rule.columns if c not in keys))
    failing = _failing(rules, bind)
    any_failing = exp.or_(*[exp.Paren(this=f.copy()) for f in failing])
    key_columns: list[exp.Expr] = [_col(k) for k in keys] or [exp.column(ROW_ID, quoted=True)]
    row_id = [] if keys else [exp.alias_(exp.column("rowid"), ROW_ID, quoted=True)]
    # Derived columns (bind.derive) are computed once per row in this projection.
    base = exp.select(exp.Star(), *row_id, *[exp.alias_(e, n, quoted=True)
                                             for n, e in bind.derived.items()]
                      ).from_(_table(table))
    if where is not None:
        base = base.where(where)
    source = exp.Subquery(this=base, alias=exp.TableAlias(this=exp.to_identifier("src")))
    query = exp.select(*key_columns, *[_col(c) for c in read],
                       exp.alias_(_mask(failing), MASK, quoted=True)
                       ).from_(source).where(any_failing)
    return Compiled(query.sql(dialect="duckdb"), bind.params)


def counts(store: TableName, rules: list[Rule], keys: list[str], *, sample: int) -> Compiled:
    """One aggregate over the failure store: per rule the failing rows and a capped sample."""
    selects: list[exp.Expr] = []
    key_names = keys or [ROW_ID]
    for bit, rule in enumerate(rules):
        fails = exp.NEQ(this=exp.BitwiseAnd(this=exp.column(MASK, quoted=True),
                                              expression=exp.Literal.number(1 << bit)),
                        expression=exp.Literal.number(0))
        selects.append(exp.alias_(exp.func("count_if", fails), f"f{bit}"))
        if sample:
            fields = list(dict.fromkeys([*key_names, *rule.columns]))
            packed = exp.Anonymous(this="struct_pack", expressions=[
                exp.PropertyEQ(this=exp.to_identifier(f, quoted=True),
                               expression=exp.column(f, quoted=True)) for f in fields])
            capped = exp.Anonymous(this="min", expressions=[packed, exp.Literal.number(sample)])
            selects.append(exp.alias_(exp.Filter(this=capped, expression=exp.Where(this=fails)),
                                      f"s{bit}"))
    query = exp.select(*selects).from_(_table(store))
    return Compiled(query.sql(dialect="duckdb"), {})
