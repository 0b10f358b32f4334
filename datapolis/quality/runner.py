"""Running a table's rules: one scan for the row-level rules, one small query per table-level
rule, and incremental re-checks after a load that changed few rows.

Incremental re-check: the failure store holds every failing row (key + mask), so after a load
the rows it must look at again are the changed ones. The caller names how changed rows are
recognised — a column that every landing moves forward (an incremental job's cursor, e.g.
`updated_at`) and its highest value at the last check. Rows at or past it are re-checked: their old
entries leave the store, the ones that fail now go in; store rows whose key left the table go
too. Counts are then read from the store exactly as after a full check, so both give the same
numbers. Table-level rules (uniqueness, consistency) always look at the whole table.

`LandingLog()` instead takes the changed rows from the table's landing log
(datapolis.ingest.changelog): the rows incremental landings merged, as they merged them. The
row rules then read only those rows, not the table, and uniqueness updates its fingerprint
state (uniqueness.py) from them. A full check opens the log; a check consumes what it saw.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa
from sqlglot import exp

from datapolis.ingest import changelog
from datapolis.quality import compiler
from datapolis.quality.rules import Rule, RuleError, TableContext, validate
from datapolis.warehouse.engine import Engine, Params, TableName, quote_identifier

SAMPLE = 20
DELETED = "_deleted"  # cdc soft deletes: such rows are not checked
STATE = f"{compiler.QUALITY_SCHEMA}._state"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Changed:
    """Rows whose `column` is past `since` changed since the last check."""

    column: str
    since: Any


@dataclass(frozen=True)
class LandingLog:
    """Changed rows are those the table's landing log holds (see the module docstring);
    `restart`: check every row and start the log again."""

    restart: bool = False


@dataclass
class RuleResult:
    rule: Rule
    checked: int
    failed: int
    sample: list[dict[str, Any]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def pass_rate(self) -> float:
        return 1.0 if self.checked == 0 else max(0.0, 1 - self.failed / self.checked)

    @property
    def passed(self) -> bool:
        return self.pass_rate >= self.rule.threshold


@dataclass
class CheckReport:
    table: str
    rows: int
    results: list[RuleResult]
    incremental: bool
    seconds: float
    queries: list[str]  # every statement issued, in order (tests count the scans)
    query_seconds: list[float]  # what each took
    watermark: Any = None  # the change column's highest value now (the next `since`)
    store: str | None = None  # where failing keys are kept

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


class _Counted:
    """The engine, noting each statement it is given."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.issued: list[str] = []
        self.seconds: list[float] = []

    def execute(self, sql: str, params: Params = None) -> None:
        started = time.perf_counter()
        self.engine.execute(sql, params)
        self._note(sql, started)

    def query(self, sql: str, params: Params = None) -> pa.Table:
        started = time.perf_counter()
        found = self.engine.query(sql, params)
        self._note(sql, started)
        return found

    def _note(self, sql: str, started: float) -> None:
        self.issued.append(sql)
        self.seconds.append(time.perf_counter() - started)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


def run_checks(
    engine: Engine,
    table: str,
    rules: Sequence[Rule],
    *,
    key: Sequence[str] = (),
    samples: bool = True,
    changed: Changed | LandingLog | None = None,
    context: TableContext | None = None,
    progress: Progress | None = None,
) -> CheckReport:
    """Check `table` (schema.table) against `rules`; see the module docstring.

    `key` names the primary key (failing keys are its values; without one, DuckDB row ids and
    always a full check). `changed` asks for an incremental re-check; it falls back to a full
    one when the store was built for other rules or does not exist.
    """
    started = time.perf_counter()
    name = TableName.parse(table)
    counted = _Counted(engine)
    if not engine.table_exists(str(name)):
        raise RuleError(f"table {name} does not exist in the warehouse")
    present = {c.name for c in engine.columns(str(name))}
    checked_rules = [validate(rule) for rule in rules]
    codes = [rule.code for rule in checked_rules]
    if len(set(codes)) != len(codes):
        twice = sorted({code for code in codes if codes.count(code) > 1})
        raise RuleError(f"rule codes must differ: {', '.join(twice)} given twice")
    for rule in checked_rules:
        for column in [*rule.columns, *key]:
            if column not in present:
                raise RuleError(f"rule {rule.code}: table {name} has no column {column!r}")
    cursor = changed if isinstance(changed, Changed) else None
    if cursor is not None and cursor.column not in present:
        raise RuleError(f"table {name} has no change column {cursor.column!r}")
    alive = (f"NOT coalesce({quote_identifier(DELETED)}, false)" if DELETED in present
             else None)
    row_rules = [r for r in checked_rules if r.spec.scope == "row"]
    table_rules = [r for r in checked_rules if r.spec.scope == "table"]
    keys = list(key)

    watermark_sql = f", max({quote_identifier(cursor.column)}) AS mark" if cursor else ""
    counts = counted.query(f"SELECT count(*) AS n{watermark_sql} FROM {name.sql}"  # noqa: S608
                           f"{' WHERE ' + alive if alive else ''}").to_pylist()[0]
    rows = int(counts["n"])
    ctx = context or TableContext(rows=rows)
    # State for a later incremental check is kept only when one can follow (a key and a
    # change column); a plain full check spends nothing on it.
    keep_state = changed is not None and bool(keys)
    from_log = keep_state and isinstance(changed, LandingLog)
    ctx = TableContext(rows=rows, last_landed=ctx.last_landed, previous_rows=ctx.previous_rows,
                       now=ctx.now, alive=alive, keep_state=keep_state, from_log=from_log,
                       keys=tuple(keys))

    stores = _stores(name, len(row_rules))
    _ensure_state(counted)
    state_key = str(compiler.store_name(name))
    signature = _signature(name, checked_rules, keys)
    known = counted.query(f"SELECT signature FROM {STATE} WHERE store = ?",  # noqa: S608
                          [state_key]).to_pylist()
    restart = isinstance(changed, LandingLog) and changed.restart
    upto = changelog.last_batch(engine, str(name)) if from_log and not restart else None
    incremental = bool((upto is not None if from_log else cursor is not None
                        and cursor.since is not None)
                       and keys and known and known[0]["signature"] == signature
                       and all(engine.table_exists(str(s)) for s in stores))
    # Until this run ends no state is valid: a run that stops half-way makes the next full.
    counted.execute(f"DELETE FROM {STATE} WHERE store = ?", [state_key])  # noqa: S608
    since: exp.Expr | None = None
    changes: TableName | None = None
    if from_log and not incremental:  # landings from now on are recorded for the next check
        changelog.open_log(engine, str(name))
    elif from_log:
        assert upto is not None
        changes = _changes(counted, name, keys, upto)
        ctx = replace(ctx, changes=str(changes))
    elif incremental:
        assert cursor is not None
        # >=: a row landed after the check with the same cursor value is not missed
        since = exp.GTE(this=exp.column(cursor.column, quoted=True),
                        expression=exp.Placeholder(this="since"))
        ctx = replace(ctx, changed=since.sql("duckdb"), changed_params={"since": cursor.since})

    results: list[RuleResult] = []
    for start, store in zip(range(0, len(row_rules), compiler.MAX_RULES_PER_SCAN), stores,
                            strict=True):
        batch = row_rules[start:start + compiler.MAX_RULES_PER_SCAN]
        if progress:
            progress(f"scan {len(batch)} row rules")
        if changes is not None:
            _scan_changes(counted, changes, store, batch, keys, alive)
        else:
            _scan(counted, name, store, batch, keys, since, cursor, alive)
        results += _read_store(counted, store, batch, keys, rows, samples)
    for rule in table_rules:
        if progress:
            progress(f"table rule {rule.code}")
        outcome = rule.spec.check(counted, name, rule, ctx)  # type: ignore[misc]
        results.append(RuleResult(rule, outcome.checked, outcome.failed,
                                  outcome.sample if samples else [], outcome.detail))
    if changes is not None:
        assert upto is not None
        changelog.forget(engine, str(name), upto)
        _drop(counted, changes)
    if keep_state:
        counted.execute(f"INSERT OR REPLACE INTO {STATE} VALUES (?, ?, now())",  # noqa: S608
                        [state_key, signature])
    order = {rule.code: n for n, rule in enumerate(checked_rules)}
    results.sort(key=lambda r: order[r.rule.code])
    return CheckReport(str(name), rows, results, incremental, time.perf_counter() - started,
                       counted.issued, counted.seconds, counts.get("mark"),
                       str(stores[0]) if stores else None)


def _signature(table: TableName, rules: list[Rule], keys: list[str]) -> str:
    shape = [[r.kind, list(r.columns), dict(r.params)] for r in rules]
    text = json.dumps([str(table), keys, shape], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _ensure_state(engine: _Counted) -> None:
    if not engine.table_exists(STATE):
        engine.execute(f"CREATE SCHEMA IF NOT EXISTS {compiler.QUALITY_SCHEMA}")
        engine.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (store VARCHAR PRIMARY KEY, "
                       "signature VARCHAR, checked_at TIMESTAMPTZ)")


def _scan(engine: _Counted, table: TableName, store: TableName, rules: list[Rule],
          keys: list[str], since: exp.Expr | None, changed: Changed | None,
          alive: str | None) -> None:
    """Bring the failure store up to date: rebuilt from the whole table, or (`since` given)
    only the changed rows replaced and the keys that left the table removed."""
    live = exp.condition(alive) if alive else None
    with engine.transaction():
        if since is None:
            compiled = compiler.failing_rows(table, rules, keys, where=live)
            engine.execute(f"CREATE OR REPLACE TABLE {store.sql} AS {compiled.sql}",
                           compiled.params)
            return
        assert changed is not None
        key_list = ", ".join(quote_identifier(k) for k in keys)
        engine.execute(
            f"DELETE FROM {store.sql} WHERE ({key_list}) IN (SELECT {key_list} "  # noqa: S608
            f"FROM {table.sql} WHERE {since.sql('duckdb')})", {"since": changed.since})
        where = exp.and_(since, live) if live is not None else since
        compiled = compiler.failing_rows(table, rules, keys, where=where)
        engine.execute(f"INSERT INTO {store.sql} BY NAME {compiled.sql}",
                       {**compiled.params, "since": changed.since})
        # Keys that left the table (hard deletes) or died (soft deletes). An anti join: NOT IN
        # would keep SQL's NULL semantics and cost ten times as much.
        engine.execute(
            f"DELETE FROM {store.sql} WHERE ({key_list}) IN (SELECT {key_list} "  # noqa: S608
            f"FROM {store.sql} ANTI JOIN (SELECT {key_list} FROM {table.sql}"
            f"{' WHERE ' + alive if alive else ''}) USING ({key_list}))")


def _changes(engine: _Counted, table: TableName, keys: list[str], upto: int) -> TableName:
    """The latest logged version of each key landed up to batch `upto`: a view of the log
    when that is one batch of upserts (a batch holds each key once), else a table."""
    changes = TableName(compiler.QUALITY_SCHEMA, compiler.store_name(table).name[:56] + "_chg")
    key_list = ", ".join(quote_identifier(k) for k in keys)
    seq, op, log = changelog.SEQ, changelog.OP, changelog.log_name(str(table)).sql
    _drop(engine, changes)  # a run that stopped half-way may have left it
    shape = engine.query(f"SELECT min({seq}) AS first, count_if({op} = 'D') AS deleted "  # noqa: S608
                         f"FROM {log} WHERE {seq} <= ?", [upto]).to_pylist()[0]
    if shape["first"] == upto and not shape["deleted"]:
        engine.execute(f"CREATE VIEW {changes.sql} AS SELECT * EXCLUDE ({seq}) "  # noqa: S608
                       f"FROM {log} WHERE {seq} <= {int(upto)}")
    else:
        engine.execute(
            f"CREATE TABLE {changes.sql} AS SELECT * EXCLUDE ({seq}) FROM {log} "  # noqa: S608
            f"WHERE {seq} <= ? QUALIFY row_number() OVER (PARTITION BY {key_list} "
            f"ORDER BY {seq} DESC, {op} = 'D' DESC) = 1", [upto])
    return changes


def _drop(engine: _Counted, name: TableName) -> None:
    found = engine.query("SELECT table_type FROM information_schema.tables "
                         "WHERE table_schema = ? AND table_name = ?",
                         [name.schema, name.name]).to_pylist()
    if found:
        kind = "VIEW" if found[0]["table_type"] == "VIEW" else "TABLE"
        engine.execute(f"DROP {kind} {name.sql}")


def _scan_changes(engine: _Counted, changes: TableName, store: TableName, rules: list[Rule],
                  keys: list[str], alive: str | None) -> None:
    """Replace the changed keys' entries in the failure store by what their rows fail now."""
    key_list = ", ".join(quote_identifier(k) for k in keys)
    landed = exp.condition(f"{changelog.OP} = 'U'")
    where = exp.and_(landed, exp.condition(alive)) if alive else landed
    compiled = compiler.failing_rows(changes, rules, keys, where=where)
    with engine.transaction():
        engine.execute(f"DELETE FROM {store.sql} WHERE ({key_list}) IN "  # noqa: S608
                       f"(SELECT {key_list} FROM {changes.sql})")
        engine.execute(f"INSERT INTO {store.sql} BY NAME {compiled.sql}", compiled.params)


def _read_store(engine: _Counted, store: TableName, rules: list[Rule], keys: list[str],
                rows: int, samples: bool) -> list[RuleResult]:
    compiled = compiler.counts(store, rules, keys, sample=SAMPLE if samples else 0)
    found = engine.query(compiled.sql).to_pylist()[0]
    return [RuleResult(rule, rows, int(found[f"f{bit}"] or 0),  # NULL over an empty store
                       [_plain(s) for s in (found.get(f"s{bit}") or [])])
            for bit, rule in enumerate(rules)]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, int | float | str | bool | None) else str(v)
            for k, v in row.items()}


def failing_keys(engine: Engine, table: str, rule_index: int, *, key: Sequence[str] = (),
                 limit: int = 100_000) -> list[dict[str, Any]]:
    """Keys of the rows failing the `rule_index`-th row rule of the last check of `table`."""
    store = _stores(TableName.parse(table), rule_index + 1)[-1]
    if not engine.table_exists(str(store)):
        return []
    bit = rule_index % compiler.MAX_RULES_PER_SCAN
    found: list[dict[str, Any]] = engine.query(
        f"SELECT * EXCLUDE ({quote_identifier(compiler.MASK)}) FROM {store.sql} "  # noqa: S608
        f"WHERE {quote_identifier(compiler.MASK)} & ? <> 0 LIMIT ?",
        [1 << bit, int(limit)]).select(list(key) or [compiler.ROW_ID]).to_pylist()
    return found


def _stores(name: TableName, row_rules: int) -> list[TableName]:
    """The failure stores of a table: one per MAX_RULES_PER_SCAN row rules."""
    return [compiler.store_name(name) if start == 0 else TableName(
        compiler.QUALITY_SCHEMA, compiler.store_name(name).name[:58] + f"_{start}")
        for start in range(0, row_rules, compiler.MAX_RULES_PER_SCAN)]
