"""The built-in rule kinds, registered the way an outside plugin would register its own.

Row-level predicates are true when a row FAILS; a null value fails only the completeness kinds
(not_null, not_blank), so a missing phone number is counted once, as missing, not also as
malformed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlglot import exp

from datapolis.quality import base_consistency, checksums, compiler, custom_sql, uniqueness
from datapolis.quality.rules import (
    Binder,
    Dimension,
    Rule,
    RuleError,
    RuleKind,
    TableContext,
    TableOutcome,
    register,
)
from datapolis.warehouse.engine import Engine, TableName, check_identifier, quote_identifier
from datapolis.web.i18n import N_

SAMPLE = 20


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _text(column: exp.Expr) -> exp.Expr:
    return exp.cast(column, "VARCHAR")


def _present(column: exp.Expr, failing: exp.Expr) -> exp.Expr:
    return exp.and_(exp.Not(this=exp.Is(this=column, expression=exp.Null())), failing)


# --- completeness ------------------------------------------------------------------------

def _not_null(rule: Rule, cols: list[exp.Expr], bind: Binder) -> exp.Expr:
    return exp.Is(this=cols[0], expression=exp.Null())


def _not_blank(rule: Rule, cols: list[exp.Expr], bind: Binder) -> exp.Expr:
    blank = exp.EQ(this=_fn("trim", _text(cols[0])), expression=exp.Literal.string(""))
    return exp.or_(exp.Is(this=cols[0], expression=exp.Null()), blank)


# --- conformity ------------------------------------------------------------------------

def _check_pattern(rule: Rule) -> None:
    try:
        re.compile(str(rule.params["pattern"]))
    except re.error as error:
        raise RuleError(f"rule {rule.code}: bad regular expression: {error}") from None


def _regex(rule: Rule, cols: list[exp.Expr], bind: Binder) -> exp.Expr:
    matches = _fn("regexp_full_match", _text(cols[0]), bind(str(rule.params["pattern"])))
    return _present(cols[0], exp.Not(this=matches))


def _check_length(rule: Rule) -> None:
    low, high = rule.params.get("min"), rule.params.get("max")
    if low is None and high is None:
        raise RuleError(f"rule {rule.code} (length) needs min, max or both")
    for bound in (low, high):
        if bound is not None and (not isinstance(bound, int) or bound < 0):
            raise RuleError(f"rule {rule.code}: length bounds are whole numbers >= 0")


def _bounds(value: exp.Expr, rule: Rule, bind: Binder) -> exp.Expr:
    outside: list[exp.Expr] = []
    if rule.params.get("min") is not None:
        outside.append(exp.LT(this=value, expression=bind(rule.params["min"])))
    if rule.params.get("max") is not None:
        outside.append(exp.GT(this=value, expression=bind(rule.params["max"])))
    return exp.Paren(this=exp.or_(*outside))


def _length(rule: Rule, cols: list[exp.Expr], bind: Binder) -> exp.Expr:
    return _present(cols[0], _bounds(_fn("length", _text(cols[0])), rule, bind))


def _resident_id(rule: Rule, cols: list[exp.Expr], bind: Binder) -> exp.Expr:
    divisions = rule.params.get("divisions")  # six-digit codes: a strict place-of-issue check
    listed = bind([int(code) for code in divisions]) if divisions else None
    text = _text(cols[0])
    invalid = checksums.resident_id_invalid(text, bind.derive(checksums.id_digits(text)),
                                            listed)
    return _present(cols[0], exp.Paren(this=invalid))


def _check_resident_id(rule: Rule) -> None:
    divisions = rule.params.get("divisions")
    if divisions is not None and not (
            isinstance(divisions, list)
            and all(len(str(code)) == 6 and str(code).isdigit() for code in divisions)):
        raise RuleError(f"rule {rule.code}: divisions are six-digit GB/T 2260 codes")


def _credit_code(rule: Rule, cols: list[exp.Expr], bind: Binder) -> exp.Expr:
    valid = checksums.credit_code_valid(_text(cols[0]))
    return _present(cols[0], exp.Not(this=exp.Paren(this=valid)))


MOBILE = r"(\+?86)?1[3-9][0-9]{9}"


def _mobile(rule: Rule, cols: list[exp.Expr], bind: Binder) -> exp.Expr:
    digits = _fn("replace", _text(cols[0]), exp.Literal.string("-"), exp.Literal.string(""))
    return _present(cols[0], exp.Not(this=_fn("regexp_full_match", digits,
                                              exp.Literal.string(MOBILE))))


def _as_date(column: exp.Expr, rule: Rule, bind: Binder) -> exp.Expr:
    if rule.params.get("format"):
        return exp.cast(_fn("try_strptime", _text(column), bind(str(rule.params["format"]))),
                        "DATE")
    return exp.TryCast(this=column, to=exp.DataType.build("DATE"))


def _date(rule: Rule, cols: list[exp.Expr], bind: Binder) -> exp.Expr:
    return _present(cols[0], exp.Is(this=_as_date(cols[0], rule, bind), expression=exp.Null()))


def _check_date_range(rule: Rule) -> None:
    for name in ("min", "max"):
        value = rule.params.get(name)
        if value is not None and value != "today":
            try:
                datetime.strptime(str(value), "%Y-%m-%d")
            except ValueError:
                raise RuleError(f"rule {rule.code}: {name} must be YYYY-MM-DD or today"
                                ) from None
    if rule.params.get("min") is None and rule.params.get("max") is None:
        raise RuleError(f"rule {rule.code} (date_range) needs min, max or both")


def _date_range(rule: Rule, cols: list[exp.Expr], bind: Binder) -> exp.Expr:
    value = _as_date(cols[0], rule, bind)
    outside: list[exp.Expr] = [exp.Is(this=value, expression=exp.Null())]
    for name, compare in (("min", exp.LT), ("max", exp.GT)):
        bound = rule.params.get(name)
        if bound is not None:
            limit: exp.Expr = exp.CurrentDate() if bound == "today" else exp.cast(
                bind(str(bound)), "DATE")
            outside.append(compare(this=value, expression=limit))
    return _present(cols[0], exp.Paren(this=exp.or_(*outside)))


def _check_range(rule: Rule) -> None:
    if rule.params.get("min") is None and rule.params.get("max") is None:
        raise RuleError(f"rule {rule.code} (range) needs min, max or both")
    for name in ("min", "max"):
        value = rule.params.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise RuleError(f"rule {rule.code}: {name} must be a number")


def _range(rule: Rule, cols: list[exp.Expr], bind: Binder) -> exp.Expr:
    number = exp.TryCast(this=cols[0], to=exp.DataType.build("DOUBLE"))
    outside = exp.or_(exp.Is(this=number, expression=exp.Null()), _bounds(number, rule, bind))
    return _present(cols[0], exp.Paren(this=outside))


# --- accuracy: membership and reference -------------------------------------------------

def _in_set(rule: Rule, cols: list[exp.Expr], bind: Binder) -> exp.Expr:
    codes = bind([str(code) for code in rule.params["values"]])
    return _present(cols[0], exp.Not(this=_fn("list_contains", codes, _text(cols[0]))))


def _check_reference(rule: Rule) -> None:
    TableName.parse(str(rule.params["table"]))
    check_identifier(str(rule.params["column"]), "column")


def _reference(rule: Rule, cols: list[exp.Expr], bind: Binder) -> exp.Expr:
    target = TableName.parse(str(rule.params["table"]))
    column = exp.column(check_identifier(str(rule.params["column"])), quoted=True)
    keys = exp.select(_text(column)).from_(exp.table_(target.name, db=target.schema,
                                                      quoted=True)).where(
        exp.Not(this=exp.Is(this=column, expression=exp.Null())))
    return _present(cols[0], exp.Not(this=exp.In(this=_text(cols[0]),
                                                 query=exp.Subquery(this=keys))))


# --- table-level ------------------------------------------------------------------------

def _unique(engine: Engine, table: TableName, rule: Rule, ctx: TableContext) -> TableOutcome:
    """Duplicates both ways: values that occur more than once, and rows that share one.

    The duplicated values are kept (quality.<store>_u_<hash>). An incremental check recounts
    only the values that were duplicated or that a changed row now holds: any other value was
    unique before and no row took it since, so it is still unique. The counts stay exact.
    """
    if ctx.from_log:  # changed rows come from the landing log: fingerprint state
        return uniqueness.check(engine, table, rule, ctx)
    keys = ", ".join(quote_identifier(c) for c in rule.columns)
    present = " AND ".join(f"{quote_identifier(c)} IS NOT NULL" for c in rule.columns)
    live = f" AND {ctx.alive}" if ctx.alive else ""
    sample = ", ".join(f"{quote_identifier(c)} := {quote_identifier(c)}" for c in rule.columns)
    if not ctx.keep_state:  # nothing to keep: one group-by answers everything
        found = engine.query(
            f"SELECT count(*) FILTER (WHERE n > 1) AS dup_values, "  # noqa: S608
            f"coalesce(sum(n) FILTER (WHERE n > 1), 0) AS dup_rows, "
            f"coalesce(sum(n), 0) AS checked, min(struct_pack({sample}, rows := n), {SAMPLE}) "
            f"FILTER (WHERE n > 1) AS sample FROM (SELECT {keys}, count(*) AS n "
            f"FROM {table.sql} WHERE {present}{live} GROUP BY ALL)").to_pylist()[0]
        return _duplicates(found)
    state = compiler.aux_name(table, "u", rule.columns)
    fresh = TableName(state.schema, state.name + "_next")
    if ctx.changed is None or not engine.table_exists(str(state)):
        source, params = table.sql, None
    else:
        source = (f"{table.sql} SEMI JOIN (SELECT {keys} FROM {state.sql} UNION "  # noqa: S608
                  f"SELECT {keys} FROM {table.sql} WHERE {ctx.changed}) AS affected "
                  f"USING ({keys})")
        params = dict(ctx.changed_params)
    with engine.transaction():
        engine.execute(f"CREATE OR REPLACE TABLE {fresh.sql} AS SELECT {keys}, "  # noqa: S608
                       f"count(*) AS n FROM {source} WHERE {present}{live} GROUP BY ALL "
                       "HAVING count(*) > 1", params)
        engine.execute(f"DROP TABLE IF EXISTS {state.sql}")
        engine.execute(f"ALTER TABLE {fresh.sql} RENAME TO {quote_identifier(state.name)}")
    found = engine.query(
        f"SELECT count(*) AS dup_values, coalesce(sum(n), 0) AS dup_rows, "  # noqa: S608
        f"min(struct_pack({sample}, rows := n), {SAMPLE}) AS sample, "
        f"(SELECT count(*) FROM {table.sql} WHERE {present}{live}) AS checked "
        f"FROM {state.sql}").to_pylist()[0]
    return _duplicates(found)


def _duplicates(found: dict[str, Any]) -> TableOutcome:
    return TableOutcome(int(found["checked"]), int(found["dup_rows"]),
                        list(found["sample"] or []),
                        {"duplicated_values": int(found["dup_values"]),
                         "rows_with_duplicate": int(found["dup_rows"])})


def _alive(ctx: TableContext) -> str:
    return f" AND {ctx.alive}" if getattr(ctx, "alive", None) else ""


def _check_consistency(rule: Rule) -> None:
    if base_consistency.is_base_library(str(rule.params["table"])):
        base_consistency.validate(rule)
        return
    TableName.parse(str(rule.params["table"]))
    for name in ("key", "column"):
        check_identifier(str(rule.params[name]), "column")
    tolerance = rule.params.get("tolerance", 0)
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0:
        raise RuleError(f"rule {rule.code}: tolerance must be a number >= 0")


def _consistency(engine: Engine, table: TableName, rule: Rule, ctx: TableContext
                 ) -> TableOutcome:
    """Rows whose key is found in the other table with a different value of the field:
    numbers may differ by `tolerance`, text is compared trimmed. Against a base library
    (`table: base.person`), the conflicts its last merge recorded decide instead."""
    if base_consistency.is_base_library(str(rule.params["table"])):
        return base_consistency.check(engine, table, rule, ctx)
    other = TableName.parse(str(rule.params["table"]))
    key, column = (quote_identifier(c) for c in rule.columns)
    other_key = quote_identifier(str(rule.params["key"]))
    other_column = quote_identifier(str(rule.params["column"]))
    tolerance = float(rule.params.get("tolerance", 0))
    differs = ("CASE WHEN try_cast(a.v AS DOUBLE) IS NOT NULL AND try_cast(b.v AS DOUBLE) "
               "IS NOT NULL THEN abs(try_cast(a.v AS DOUBLE) - try_cast(b.v AS DOUBLE)) > ? "
               "ELSE a.v IS DISTINCT FROM b.v END")
    found = engine.query(
        f"SELECT count(*) AS checked, count_if({differs}) AS failed, "  # noqa: S608
        f"min(struct_pack(\"key\" := a.k, value := a.v, other := b.v), {SAMPLE}) "
        f"FILTER (WHERE {differs}) AS sample "
        f"FROM (SELECT CAST({key} AS VARCHAR) AS k, trim(CAST({column} AS VARCHAR)) AS v "
        f"FROM {table.sql} WHERE {key} IS NOT NULL{_alive(ctx)}) a "
        f"JOIN (SELECT CAST({other_key} AS VARCHAR) AS k, any_value(trim(CAST({other_column} "
        f"AS VARCHAR))) AS v FROM {other.sql} GROUP BY 1) b USING (k)",
        [tolerance, tolerance]).to_pylist()[0]
    return TableOutcome(int(found["checked"]), int(found["failed"]), list(found["sample"] or []))


def _check_freshness(rule: Rule) -> None:
    hours = rule.params.get("max_age_hours")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
        raise RuleError(f"rule {rule.code}: max_age_hours must be a number > 0")


def _freshness(engine: Engine, table: TableName, rule: Rule, ctx: TableContext
               ) -> TableOutcome:
    now = ctx.now or datetime.now(UTC)
    landed = ctx.last_landed
    age = None if landed is None else (now - landed).total_seconds() / 3600
    late = age is None or age > float(rule.params["max_age_hours"])
    return TableOutcome(1, int(late), detail={
        "last_landed": None if landed is None else landed.isoformat(),
        "age_hours": None if age is None else round(age, 2)})


def _check_row_count(rule: Rule) -> None:
    change = rule.params.get("max_change")
    if isinstance(change, bool) or not isinstance(change, int | float) or change < 0:
        raise RuleError(f"rule {rule.code}: max_change must be a fraction >= 0 (0.2 = 20%)")


def _row_count(engine: Engine, table: TableName, rule: Rule, ctx: TableContext
               ) -> TableOutcome:
    previous = ctx.previous_rows
    if not previous:  # nothing to compare with yet: the first run passes
        return TableOutcome(1, 0, detail={"previous_rows": previous, "rows": ctx.rows})
    change = abs(ctx.rows - previous) / previous
    return TableOutcome(1, int(change > float(rule.params["max_change"])),
                        detail={"previous_rows": previous, "rows": ctx.rows,
                                "change": round(change, 4)})


def _custom(engine: Engine, table: TableName, rule: Rule, ctx: TableContext) -> TableOutcome:
    """The query selects the failing rows; checked rows are the table's rows."""
    sql = custom_sql.checked(str(rule.params["sql"]))
    found = engine.query(f"SELECT count(*) AS failed FROM ({sql}) AS q").to_pylist()[0]  # noqa: S608
    sample = engine.query(f"SELECT * FROM ({sql}) AS q LIMIT {SAMPLE}").to_pylist()  # noqa: S608
    return TableOutcome(ctx.rows, int(found["failed"]), [_plain(r) for r in sample])


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, int | float | str | bool | None) else str(v)
            for k, v in row.items()}


def _check_custom(rule: Rule) -> None:
    custom_sql.checked(str(rule.params["sql"]))


D = Dimension
for spec in (
    RuleKind("not_null", N_("not null"), D.COMPLETENESS, "row", predicate=_not_null),
    RuleKind("not_blank", N_("not blank"), D.COMPLETENESS, "row", predicate=_not_blank),
    RuleKind("regex", N_("matches a pattern"), D.CONFORMITY, "row", required=("pattern",),
             predicate=_regex, validate=_check_pattern),
    RuleKind("length", N_("length"), D.CONFORMITY, "row", predicate=_length,
             validate=_check_length),
    RuleKind("resident_id", N_("GB 11643 resident ID"), D.CONFORMITY, "row",
             predicate=_resident_id, validate=_check_resident_id),
    RuleKind("credit_code", N_("GB 32100 credit code"), D.CONFORMITY, "row",
             predicate=_credit_code),
    RuleKind("mobile", N_("mobile number"), D.CONFORMITY, "row", predicate=_mobile),
    RuleKind("date", N_("valid date"), D.CONFORMITY, "row", predicate=_date),
    RuleKind("date_range", N_("date range"), D.ACCURACY, "row", predicate=_date_range,
             validate=_check_date_range),
    RuleKind("range", N_("numeric range"), D.ACCURACY, "row", predicate=_range,
             validate=_check_range),
    RuleKind("in_set", N_("member of a code table"), D.ACCURACY, "row", required=("values",),
             predicate=_in_set),
    RuleKind("reference", N_("found in a base library"), D.CONSISTENCY, "row",
             required=("table", "column"), predicate=_reference, validate=_check_reference),
    RuleKind("unique", N_("unique"), D.ACCURACY, "table", columns=(1, None), check=_unique),
    RuleKind("consistency", N_("same as another source"), D.CONSISTENCY, "table", columns=(2, 2),
             required=("table", "key", "column"), check=_consistency,
             validate=_check_consistency),
    RuleKind("freshness", N_("fresh for its update cycle"), D.TIMELINESS, "table", columns=(0, 0),
             required=("max_age_hours",), check=_freshness, validate=_check_freshness),
    RuleKind("row_count", N_("row count change"), D.COMPLETENESS, "table", columns=(0, 0),
             required=("max_change",), check=_row_count, validate=_check_row_count),
    RuleKind("custom_sql", N_("custom SQL"), D.ACCURACY, "table", columns=(0, 0), required=("sql",),
             check=_custom, validate=_check_custom, admin_only=True),
):
    register(spec)
