"""Uniqueness kept up to date from the landing log, without reading the table's values again.

A full check builds three small-typed tables next to the failure store (`quality.<store>_u?_…`):

- `b`: every checked row's key and a 128-bit fingerprint of its value (two 64-bit hashes);
  integers only, so a later lookup reads 10M rows in a fraction of what the text column costs;
- `m`: the rows of every fingerprint held by two rows or more, with their values — a superset
  of the rows that have a duplicate, read exactly (group by value) for the result;
- `q`: rows changed since `b` was built (their key, fingerprint — null when gone — and value).

An incremental check gets the changed rows from the landing log (`TableContext.changes`):
`q` takes them in, the affected fingerprints are the changed rows' new ones and the old ones
of changed rows that were in `m`; the current rows holding those fingerprints are `m`'s and
`q`'s (values known) and `b`'s not since changed (an integer scan; their value is the one a
changed row with the same fingerprint brought). Those fingerprints' rows are replaced in `m`,
and the counts come from `m`. Every other value was unique and no row took it since.

Exact, save for two different values with the same 128-bit fingerprint, which the full check
(grouping `m` by value) would still tell apart.
"""

from __future__ import annotations

from datapolis.ingest.changelog import OP
from datapolis.quality import compiler
from datapolis.quality.rules import Rule, TableContext, TableOutcome
from datapolis.warehouse.engine import Engine, TableName, quote_identifier

SAMPLE = 20
H1, H2 = "_h1", "_h2"


class _Shape:
    """Column names of the state tables: keys k0…, values v0…, the fingerprint."""

    def __init__(self, rule: Rule, keys: list[str], alive: str | None) -> None:
        self.values = [quote_identifier(c) for c in rule.columns]
        self.keys = [quote_identifier(k) for k in keys]
        self.k = [f"k{i}" for i in range(len(keys))]
        self.v = [f"v{i}" for i in range(len(rule.columns))]
        self.k_list = ", ".join(self.k)
        self.present = " AND ".join(f"{c} IS NOT NULL" for c in self.values)
        self.live = f" AND {alive}" if alive else ""
        text = " || chr(31) || ".join(f"CAST({c} AS VARCHAR)" for c in self.values)
        self.h1 = f"hash({', '.join(self.values)})"
        self.h2 = f"hash('#' || {text})"  # another hash of other bytes: 128 bits together
        self.named_keys = ", ".join(f"{c} AS {a}" for c, a in zip(self.keys, self.k, strict=True))
        self.named_values = ", ".join(f"{c} AS {a}" for c, a in zip(self.values, self.v,
                                                                        strict=True))
        self.sample = ", ".join(f"{quote_identifier(c)} := {a}"
                                for c, a in zip(rule.columns, self.v, strict=True))


def tables(table: TableName, rule: Rule) -> tuple[TableName, TableName, TableName]:
    return (compiler.aux_name(table, "ub", rule.columns),
            compiler.aux_name(table, "um", rule.columns),
            compiler.aux_name(table, "uq", rule.columns))


def check(engine: Engine, table: TableName, rule: Rule, ctx: TableContext) -> TableOutcome:
    shape = _Shape(rule, list(ctx.keys), ctx.alive)
    b, m, q = tables(table, rule)
    with engine.transaction():
        if ctx.changes is None or not all(engine.table_exists(str(t)) for t in (b, m, q)):
            _build(engine, table, shape, b, m, q)
        else:
            _update(engine, TableName.parse(ctx.changes), shape, b, m, q)
    found = engine.query(
        f"SELECT count(*) AS dup_values, coalesce(sum(n), 0) AS dup_rows, "  # noqa: S608
        f"min(struct_pack({shape.sample}, rows := n), {SAMPLE}) AS sample, "
        # rows with a value: b's (a metadata count) less those changed since, plus q's
        f"(SELECT count(*) FROM {b.sql}) - (SELECT count(*) FROM {b.sql} WHERE "
        f"({shape.k_list}) IN (SELECT {shape.k_list} FROM {q.sql})) + (SELECT count(*) "
        f"FROM {q.sql} WHERE {H1} IS NOT NULL) AS checked "
        f"FROM (SELECT {', '.join(shape.v)}, count(*) AS n FROM {m.sql} GROUP BY ALL "
        f"HAVING count(*) > 1)").to_pylist()[0]
    return TableOutcome(int(found["checked"]), int(found["dup_rows"]),
                        list(found["sample"] or []),
                        {"duplicated_values": int(found["dup_values"]),
                         "rows_with_duplicate": int(found["dup_rows"])})


def _build(engine: Engine, table: TableName, s: _Shape, b: TableName, m: TableName,
           q: TableName) -> None:
    engine.execute(f"CREATE OR REPLACE TABLE {b.sql} AS SELECT {s.named_keys}, "  # noqa: S608
                   f"{s.h1} AS {H1}, {s.h2} AS {H2} FROM {table.sql} "
                   f"WHERE {s.present}{s.live}")
    engine.execute(
        f"CREATE OR REPLACE TABLE {m.sql} AS SELECT {s.k_list}, {H1}, {H2}, "  # noqa: S608
        f"{', '.join(s.v)} FROM (SELECT * FROM {b.sql} SEMI JOIN (SELECT {H1}, {H2} "
        f"FROM {b.sql} GROUP BY ALL HAVING count(*) > 1) USING ({H1}, {H2})) "
        f"JOIN (SELECT {s.named_keys}, {s.named_values} FROM {table.sql}) USING ({s.k_list})")
    engine.execute(f"CREATE OR REPLACE TABLE {q.sql} AS SELECT * FROM {m.sql} LIMIT 0")  # noqa: S608


def _update(engine: Engine, changes: TableName, s: _Shape, b: TableName, m: TableName,
            q: TableName) -> None:
    scratch = TableName(b.schema, b.name[:55] + "_x")
    cx, a, r = (TableName(scratch.schema, scratch.name + t) for t in ("c", "a", "r"))
    on_key = f"({s.k_list}) IN (SELECT {s.k_list} FROM {cx.sql})"  # noqa: S608
    steps = [
        # the changed rows' fingerprints, null when the row is gone or holds no value
        f"CREATE OR REPLACE TABLE {cx.sql} AS SELECT {s.named_keys}, CASE WHEN {OP} = "  # noqa: S608
        f"'U' AND {s.present}{s.live} THEN {s.h1} END AS {H1}, CASE WHEN {OP} = 'U' "
        f"AND {s.present}{s.live} THEN {s.h2} END AS {H2}, {s.named_values} "
        f"FROM {changes.sql}",
        f"DELETE FROM {q.sql} WHERE {on_key}",  # noqa: S608
        f"INSERT INTO {q.sql} SELECT * FROM {cx.sql}",  # noqa: S608
        # affected fingerprints: the new ones, and the old ones of changed rows in m
        f"CREATE OR REPLACE TABLE {a.sql} AS SELECT {H1}, {H2} FROM {cx.sql} WHERE {H1} "  # noqa: S608
        f"IS NOT NULL UNION SELECT {H1}, {H2} FROM {m.sql} WHERE {on_key}",
        # the rows holding them now: m's unchanged ones, q's, and b's not changed since
        f"CREATE OR REPLACE TABLE {r.sql} AS WITH known AS ("  # noqa: S608
        f"SELECT * FROM {m.sql} WHERE ({H1}, {H2}) IN (SELECT {H1}, {H2} FROM {a.sql}) "
        f"AND NOT {on_key} UNION SELECT * FROM {q.sql} WHERE ({H1}, {H2}) IN "
        f"(SELECT {H1}, {H2} FROM {a.sql})), "
        f"bucket AS (SELECT {H1}, {H2}, "
        f"{', '.join(f'any_value({v}) AS {v}' for v in s.v)} FROM known GROUP BY ALL) "
        f"SELECT * FROM known UNION SELECT {s.k_list}, {H1}, {H2}, {', '.join(s.v)} "
        f"FROM (SELECT * FROM {b.sql} SEMI JOIN {a.sql} USING ({H1}, {H2})) AS hit "
        f"ANTI JOIN {q.sql} USING ({s.k_list}) JOIN bucket USING ({H1}, {H2})",
        f"DELETE FROM {m.sql} WHERE ({H1}, {H2}) IN (SELECT {H1}, {H2} FROM {a.sql}) "  # noqa: S608
        f"OR {on_key}",
        f"INSERT INTO {m.sql} SELECT * FROM {r.sql} WHERE ({H1}, {H2}) IN "  # noqa: S608
        f"(SELECT {H1}, {H2} FROM {r.sql} GROUP BY ALL HAVING count(*) > 1)",
        f"DROP TABLE {cx.sql}", f"DROP TABLE {a.sql}", f"DROP TABLE {r.sql}",
    ]
    for sql in steps:
        engine.execute(sql)
