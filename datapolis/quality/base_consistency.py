"""The cross-source consistency rule against a base library: it reads the conflicts the
library's last merge recorded (`baselib.service.conflicts`) instead of joining tables itself.

A row of the checked table fails when the merge chose, for the row's key and the rule's field,
another source's different value: the table's value lost. The checked table is either a std
table the library reads (std.swjt_yhda) or the ods table behind one (ods_371300_swjt.yhda,
through the std rows' `_src`); either way the values compared are the standardised ones the
merge saw, read through the library's own mapping of the field. So a conflict found by the
merge becomes failing rows, and an issue, of the department that provides the table.
"""

from __future__ import annotations

from typing import Any

from datapolis.quality.rules import Rule, RuleError, TableContext, TableOutcome
from datapolis.warehouse.engine import Engine, TableName, quote_identifier

SAMPLE = 20
BASE_SCHEMA = "base"
# Conflicts read per source and check: every conflict of one field of one source fits at
# county scale; beyond, the first this many (by key) count, and the detail says so.
MAX_CONFLICTS = 100_000


def is_base_library(table: str) -> bool:
    from datapolis.baselib.libraries import LIBRARIES  # baselib imports the warehouse stack

    name = TableName.parse(table)
    return name.schema == BASE_SCHEMA and name.name in LIBRARIES


def validate(rule: Rule) -> None:
    from datapolis.baselib.libraries import get_library

    library = get_library(str(rule.params["table"]))
    fields = {f.name for f in library.fields}
    if rule.params["column"] not in fields:
        raise RuleError(f"rule {rule.code}: {library.table} has no field "
                        f"{rule.params['column']!r}; fields: {', '.join(sorted(fields))}")
    if rule.params["key"] not in library.key:
        raise RuleError(f"rule {rule.code}: {library.table} links on "
                        f"{', '.join(library.key)}, not {rule.params['key']!r}")


def check(engine: Engine, table: TableName, rule: Rule, ctx: TableContext) -> TableOutcome:
    from datapolis.baselib import service as baselib
    from datapolis.baselib.libraries import get_library
    from datapolis.baselib.merge import key_expr

    library = get_library(str(rule.params["table"]))
    field = str(rule.params["column"])
    parts: list[str] = []
    sources: set[str] = set()
    params: dict[str, Any] = {}
    for source in library.sources:
        if field not in source.fields or not isinstance(source.fields[field], str):
            continue
        if not engine.table_exists(source.table):
            continue
        columns = {c.name for c in engine.columns(source.table)}
        if str(table) == source.table:
            mine = "true"
        elif "_src" in columns and engine.query(  # the ods table behind this std table
                f"SELECT 1 FROM {TableName.parse(source.table).sql} "  # noqa: S608
                "WHERE _src = $table LIMIT 1", {"table": str(table)}).num_rows:
            mine, params["table"] = "_src = $table", str(table)
        else:
            continue
        keys = {name: f"CAST({quote_identifier(str(source.fields[name]))} AS VARCHAR)"
                for name in library.key if isinstance(source.fields.get(name), str)}
        if len(keys) != len(library.key):
            continue  # a key part is a constant (a licence kind): not this table's to fix
        value = f"CAST({quote_identifier(str(source.fields[field]))} AS VARCHAR)"
        where = [mine, *(f"{k} IS NOT NULL" for k in keys.values()), f"{value} IS NOT NULL"]
        if source.where:
            where.append(f"{quote_identifier(source.where[0])} = $w{len(parts)}")
            params[f"w{len(parts)}"] = source.where[1]
        name = f"s{len(parts)}"
        params[name] = source.table
        sources.add(source.table)
        parts.append(f"SELECT ${name} AS src, {key_expr(library, keys)} AS k, {value} AS v "  # noqa: S608
                     f"FROM {TableName.parse(source.table).sql} WHERE {' AND '.join(where)}")
    if not parts:
        raise RuleError(f"rule {rule.code}: {table} is not read by {library.table}: neither "
                        "one of its std sources nor an ods table whose rows reach one")
    lost = [c for src in sorted(sources) for c in baselib.conflicts(
        engine, library=library.name, field=field, other_source=src, limit=MAX_CONFLICTS)]
    params |= {"c_src": [c.other_source for c in lost], "c_key": [c.link_key for c in lost],
               "c_val": [c.other_value for c in lost],
               "c_chosen": [c.chosen_value for c in lost],
               "c_from": [c.chosen_source for c in lost]}
    key_col, value_col = rule.columns
    rows = " UNION ALL ".join(parts)
    result: dict[str, Any] = engine.query(
        f"WITH r AS ({rows}), c AS (SELECT unnest($c_src) AS src, unnest($c_key) AS k, "  # noqa: S608
        f"unnest($c_val) AS v, unnest($c_chosen) AS chosen, unnest($c_from) AS chosen_from) "
        f"SELECT count(*) AS checked, count(c.k) AS failed, "
        f"min(struct_pack(k := r.k, v := r.v, chosen := c.chosen, src := c.chosen_from), "
        f"{SAMPLE}) FILTER (WHERE c.k IS NOT NULL) AS sample "
        f"FROM r LEFT JOIN c ON c.src = r.src AND c.k = r.k AND c.v = r.v",
        params).to_pylist()[0]
    sample = [{key_col: s["k"], value_col: s["v"], "base_value": s["chosen"],
               "base_source": s["src"]} for s in result["sample"] or []]
    return TableOutcome(int(result["checked"]), int(result["failed"]), sample, {
        "library": library.table, "field": field, "conflicts": len(lost),
        "conflicts_truncated": len(lost) >= MAX_CONFLICTS})
