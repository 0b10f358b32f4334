"""What a grant lets out of its table, as SQL: granted items through their de-identification,
the grant's row scope, the caller's filters on granted items, keyset paging on the key.

Only identifiers from the grant and the catalog reach the SQL text, through quote_identifier;
every value the caller sends is a typed parameter.
"""

# SQL here names only identifiers passed through TableName/quote_identifier.
# ruff: noqa: S608

from __future__ import annotations

import base64
import json
import time
import weakref
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from datapolis.security.crypto import DecryptionError, Keyring
from datapolis.security.deid.methods import KEEP, PSEUDONYM, method
from datapolis.security.deid.plans import Plan, Rule, Sources, expression, prepare, pseudonym_source
from datapolis.security.fields.reads import condition, withhold
from datapolis.sharing import scope as row_scope
from datapolis.sharing.gateway.errors import Refused
from datapolis.warehouse.engine import Engine, TableName, quote_identifier

KEY_ALIAS = "_dp_key"
OPERATORS = ("eq", "in", "gte", "lte", "prefix")
RESERVED = frozenset({"select", "limit", "cursor"})
MAX_IN_VALUES = 1000
VIEW_STATEMENTS = 64  # entries kept per view (batches vary in their IN lists)


@dataclass(frozen=True)
class View:
    """What one grant lets out of one table."""

    grant_id: int
    table: str
    key: str  # the resource's key column (its first catalog item)
    plan: Plan  # granted items after protected columns are withheld
    types: Mapping[str, str]  # every column of the table -> its warehouse type
    scope_sql: str | None
    scope_params: tuple[object, ...]
    protected_key: bool  # the key is encrypted at rest: equality goes through its blind index
    # SELECTs built for this view's own plan, by shape, and its methods applied to answered
    # rows; the gateway caches a view until its grant changes, so a lookup builds them once.
    cache: dict[tuple[object, ...], Any] = field(default_factory=dict, compare=False,
                                                 repr=False)

    @property
    def granted(self) -> list[str]:
        return self.plan.columns


def build_view(session: Session, engine: Engine, *, grant_id: int, table: str, key: str,
               items: Sequence[tuple[str, str, Mapping[str, int | str]]],
               scope_text: str | None, consumer_key: bytes) -> View:
    columns = {c.name: c.type for c in engine.columns(table)}
    rules = tuple(Rule(column, method, dict(params)) for column, method, params in items
                  if column in columns)
    plan = withhold(session, table, Plan(rules, key=consumer_key))
    scope_sql: str | None = None
    scope_params: tuple[object, ...] = ()
    if scope_text:
        parsed = row_scope.parse(scope_text, columns)
        scope_sql, params = row_scope.to_sql(parsed, quote_identifier)
        scope_params = tuple(params)
    protected = key not in [r.column for r in plan.rules] and key in plan.withheld
    return View(grant_id, table, key, plan, columns, scope_sql, scope_params, protected)


# --- filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    values: tuple[str, ...]


def parse_filters(pairs: Sequence[tuple[str, str]]) -> tuple[list[Filter], dict[str, str]]:
    """Split query parameters into filters (`col=v`, `col.in=v` repeated, `col.gte=v`,
    `col.lte=v`, `col.prefix=v`) and the reserved ones (select, limit, cursor)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    reserved: dict[str, str] = {}
    for name, value in pairs:
        if name in RESERVED:
            if name in reserved:
                raise Refused(400, "bad_request", f"{name} is given twice")
            reserved[name] = value
            continue
        column, _, op = name.partition(".")
        op = op or "eq"
        if op not in OPERATORS:
            raise Refused(400, "bad_request", f"unknown operator {op!r} in {name!r}; use "
                          + ", ".join(f"column.{o}" for o in OPERATORS[1:]) + " or column=")
        grouped.setdefault((column, op), []).append(value)
    filters = []
    for (column, op), values in grouped.items():
        if op != "in" and len(values) > 1:
            raise Refused(400, "bad_request", f"{column}.{op} is given more than once")
        if len(values) > MAX_IN_VALUES:
            raise Refused(400, "bad_request", f"{column}.in takes at most {MAX_IN_VALUES} values")
        filters.append(Filter(column, op, tuple(values)))
    return filters, reserved


def typed(view: View, column: str, text: str) -> object:
    """`text` as a value of the column's type; a 400 when it is not one."""
    kind = view.types[column].upper()
    try:
        if kind in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                    "USMALLINT", "UINTEGER", "UBIGINT"}:
            return int(text)
        if kind in {"DOUBLE", "FLOAT", "REAL"}:
            return float(text)
        if kind.startswith("DECIMAL"):
            return Decimal(text)
        if kind == "DATE":
            return date.fromisoformat(text)
        if kind.startswith("TIMESTAMP"):
            return datetime.fromisoformat(text)
        if kind == "BOOLEAN":
            if text.lower() not in {"true", "false", "1", "0"}:
                raise ValueError(text)
            return text.lower() in {"true", "1"}
    except (ValueError, InvalidOperation):
        raise Refused(400, "bad_request", f"{text!r} is not a value of {column} "
                      f"({kind.lower()})") from None
    return text


def _check_granted(view: View, column: str) -> None:
    if column not in view.granted:
        raise Refused(403, "item_not_granted", f"{column!r} is not an item your grant covers; "
                      "granted: " + ", ".join(view.granted))


# The filters an item takes by how the grant lets it out. A filter runs on the stored value,
# so on a masked, generalised or noised item a prefix or a range would read back, a few
# calls per character, what the method hides. A pseudonymised item takes equality only: the
# caller already holds the value it checks (核验), and the pseudonym shows equality anyway.
FILTERS_OF_METHOD: Mapping[str, tuple[str, ...]] = {KEEP.name: OPERATORS,
                                                    PSEUDONYM.name: ("eq", "in")}


def _check_filterable(view: View, item: Filter) -> None:
    method_name = view.plan.methods()[item.column]
    allowed = FILTERS_OF_METHOD.get(method_name, ())
    if item.op not in allowed:
        takes = (f"only {' and '.join(allowed)} filters" if allowed else "no filters")
        raise Refused(403, "filter_not_allowed",
                      f"{item.column!r} is granted de-identified ({method_name}), so it takes "
                      f"{takes}; filter on items granted as stored")


def where(session: Session, master: Keyring, view: View, filters: Sequence[Filter]
          ) -> tuple[list[str], list[object]]:
    predicates: list[str] = []
    params: list[object] = []
    if view.scope_sql:
        predicates.append(view.scope_sql)
        params.extend(view.scope_params)
    for item in filters:
        if item.column == view.key and view.protected_key and item.op in {"eq", "in"}:
            # Through the blind index: the key's value never needs decrypting.
            ors = [condition(session, master, view.table, view.key, v) for v in item.values]
            predicates.append("(" + " OR ".join(sql for sql, _ in ors) + ")")
            params.extend(p for _, ps in ors for p in ps)
            continue
        _check_granted(view, item.column)
        _check_filterable(view, item)
        column = quote_identifier(item.column)
        values: list[object] = ([typed(view, item.column, v) for v in item.values]
                                if item.op != "prefix" else list(item.values))
        if item.op == "eq":
            predicates.append(f"{column} = ?")
        elif item.op == "in":
            predicates.append(f"{column} IN ({', '.join('?' for _ in values)})")
        elif item.op in {"gte", "lte"}:
            predicates.append(f"{column} {'>=' if item.op == 'gte' else '<='} ?")
        else:
            predicates.append(f"CAST({column} AS VARCHAR) LIKE ? ESCAPE '\\'")
            values = [_escape_like(values[0]) + "%"]
        params.extend(values)
    return predicates, params


def _escape_like(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def selected(view: View, select: str | None) -> Plan:
    if not select:
        return view.plan
    wanted = [c.strip() for c in select.split(",") if c.strip()]
    for column in wanted:
        _check_granted(view, column)
    rules = {r.column: r for r in view.plan.rules}
    return Plan(tuple(rules[c] for c in dict.fromkeys(wanted)), view.plan.withheld,
                view.plan.key, view.plan.row_id)


def on_rows(view: View, plan: Plan) -> dict[str, Callable[[object], str | None]]:
    """The plan's methods that an answer of a few rows applies after the read, column by
    column: text columns whose method has a row-level twin (`Method.on_text`), which costs
    microseconds where binding its SQL costs DuckDB a large part of a lookup."""
    if plan is view.plan and ("on_rows",) in view.cache:
        found: dict[str, Callable[[object], str | None]] = view.cache[("on_rows",)]
        return found
    found = {rule.column: method(rule.method).text_function(rule.params)
             for rule in plan.rules
             if method(rule.method).on_text is not None
             and view.types.get(rule.column, "").upper() == "VARCHAR"}
    if plan is view.plan:
        view.cache[("on_rows",)] = found
    return found


def select_sql(view: View, plan: Plan, predicates: Sequence[str], *, order: bool,
               limit: int | None, key: bool = True, sources: Sources | None = None,
               as_stored: Collection[str] = ()) -> str:
    """The SELECT; with `key`, the raw key comes along as KEY_ALIAS (for cursors and batch
    answers; callers drop it before anything leaves). `sources` (a bulk read's, see
    `prepare`) gives pseudonyms from aligned columns or pseudonym tables instead of the
    key's function. Columns in `as_stored` are read as stored, for the caller to apply
    their methods (`on_rows`) before anything leaves."""
    shape = (tuple(predicates), order, limit, key, tuple(sorted(as_stored)))
    reused = plan is view.plan and sources is None
    if reused and shape in view.cache:
        cached: str = view.cache[shape]
        return cached
    context = plan.context
    source = TableName.parse(view.table).sql
    if sources is not None and (sources.aligned or sources.joined):
        inner, context = pseudonym_source(view.table, plan, sources, list(view.types))
        source = f"({inner}) s"
    parts = [(quote_identifier(rule.column) if rule.column in as_stored
              else expression(rule, context)) + f" AS {quote_identifier(rule.column)}"
             for rule in plan.rules]
    if key or order:
        parts.append(f"{quote_identifier(view.key)} AS {KEY_ALIAS}")
    rows = source + (" WHERE " + " AND ".join(predicates) if predicates else "")
    if limit is not None:
        # The answer's rows are cut before any method runs: DuckDB computes a SELECT's
        # expressions on every row its scan hands the Top-N (tens of thousands for a page
        # of 1,000), and a pseudonym there is a call of the key's function per row.
        cut = f" ORDER BY {quote_identifier(view.key)}" if order else ""
        rows = f"(SELECT * FROM {rows}{cut} LIMIT {int(limit)}) s"
    sql = f"SELECT {', '.join(parts)} FROM {rows}"
    if order:
        sql += f" ORDER BY {KEY_ALIAS}"
    if reused and len(view.cache) < VIEW_STATEMENTS:
        view.cache[shape] = sql
    return sql


# Keyed methods need the key's function on the warehouse and the key not retired; checked at
# most this often per table and key (two warehouse queries a call otherwise), so a key retired
# while the server runs stops answering within this time.
PREPARE_SECONDS = 10.0
_prepared: weakref.WeakKeyDictionary[Engine, dict[tuple[str, str], float]] = (
    weakref.WeakKeyDictionary())


def ready(engine: Engine, table: str, plan: Plan) -> None:
    """Make the plan's keyed methods callable, through the key's function (never the
    pseudonym tables: every SELECT here is built for the function)."""
    context = plan.context
    if context is None or not any(method(r.method).needs_key for r in plan.rules):
        return
    marks = _prepared.setdefault(engine, {})
    mark, now = (table, context.fingerprint), time.monotonic()
    if now - marks.get(mark, -PREPARE_SECONDS) < PREPARE_SECONDS:
        return
    prepare(engine, table, plan, rows=0)
    marks[mark] = now


def read(engine: Engine, view: View, plan: Plan, predicates: Sequence[str],
         params: Sequence[object], *, limit: int, order: bool = True, key: bool = True
         ) -> list[dict[str, Any]]:
    """One answer's rows (at most `limit`), each with KEY_ALIAS when `key`, de-identified."""
    ready(engine, view.table, plan)
    finish = on_rows(view, plan)
    rows = engine.records(select_sql(view, plan, predicates, order=order, limit=limit, key=key,
                                     as_stored=finish), list(params))
    for row in rows:
        for column, apply in finish.items():
            row[column] = apply(row[column])
    return rows


# --- cursors -------------------------------------------------------------------------------


def make_cursor(master: Keyring, view: View, last_key: object, fingerprint: str) -> str:
    """An opaque cursor: the last key read, sealed (SM4-GCM) and bound to grant and filters."""
    data = json.dumps({"k": last_key, "f": fingerprint}, default=str)
    sealed = master.encrypt(data, context=f"share-cursor:{view.grant_id}")
    return base64.urlsafe_b64encode(sealed.encode()).decode().rstrip("=")


def open_cursor(master: Keyring, view: View, cursor: str, fingerprint: str) -> object:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sealed = base64.urlsafe_b64decode(padded.encode()).decode()
        data = json.loads(master.decrypt(sealed, context=f"share-cursor:{view.grant_id}"))
    except (ValueError, DecryptionError):
        raise Refused(400, "bad_request", "the cursor is not one this interface gave "
                      "for this grant") from None
    if data.get("f") != fingerprint:
        raise Refused(400, "bad_request", "the cursor belongs to a query with other filters")
    last = data.get("k")
    if view.protected_key or not isinstance(last, str):
        return last
    return typed(view, view.key, last)
