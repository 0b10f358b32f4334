"""Merge std tables into one base library table in SQL, with provenance and conflicts.

Every source row becomes long rows (link key, field, value, source, priority, updated); one
window per (key, field) ranks the values by the field's rule; a pivot writes `base.<lib>`
with each field and its `<field>__src` (the std table that supplied it). Alongside:
`base._<lib>_members` (every ods row behind each base record, including the rows std dedupe
collapsed) and the library's rows in `base._conflicts` (same key and field, another source
holding another value). All three are replaced in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from datapolis.baselib.libraries import Const, Library, check
from datapolis.standardise.transforms import Params, SpecError
from datapolis.warehouse.engine import Engine, TableName, quote_identifier

CONFLICTS = "base._conflicts"


@dataclass
class MergeCounts:
    sources: dict[str, int]  # std table -> long rows it gave (tables absent are left out)
    missing: list[str]
    rows_in: int
    rows_out: int
    conflicts: int
    members: int


def key_expr(library: Library, values: dict[str, str], exact: bool = False) -> str:
    """The link key of a record as SQL, from its key fields' SQL expressions (VARCHAR)."""
    parts = []
    for name in library.key:
        value = values[name]
        if library.body_key and not exact:
            value = f"CASE WHEN length({value}) = 18 THEN left({value}, 17) ELSE {value} END"
        parts.append(value)
    return parts[0] if len(parts) == 1 else "concat_ws(':', " + ", ".join(parts) + ")"


def _long_sql(engine: Engine, library: Library, params: Params, exact: bool
              ) -> tuple[str, list[str], list[str]]:
    selects, present, missing = [], [], []
    for priority, source in enumerate(library.sources):
        if not engine.table_exists(source.table):
            missing.append(source.table)
            continue
        columns = {c.name for c in engine.columns(source.table)}
        wanted = [c for c in source.fields.values() if isinstance(c, str)]
        wanted += [c for c in (source.updated, source.where[0] if source.where else None) if c]
        absent = [c for c in wanted if c not in columns]
        if absent:
            raise SpecError(f"{library.table}: {source.table} has no column "
                            f"{', '.join(absent)}")
        present.append(source.table)
        values = {name: (params.add(col.value) if isinstance(col, Const)
                         else f"CAST({quote_identifier(col)} AS VARCHAR)")
                  for name, col in source.fields.items()}
        key = key_expr(library, values, exact)
        updated = (f"CAST({quote_identifier(source.updated)} AS TIMESTAMP)" if source.updated
                   else "CAST(NULL AS TIMESTAMP)")
        where = [f"{values[k]} IS NOT NULL" for k in library.key]
        if source.where:
            where.append(f"{quote_identifier(source.where[0])} = {params.add(source.where[1])}")
        unpivot = ", ".join(f"({params.add(name)}, {value})" for name, value in values.items())
        selects.append(
            f"SELECT {key} AS _key, {params.add(source.table)} AS _src, {priority} AS _priority,"  # noqa: S608
            f" {updated} AS _updated, _src AS _ods, _pk, f.field, f.value "
            f"FROM {TableName.parse(source.table).sql}, "
            f"(VALUES {unpivot}) AS f(field, value) WHERE {' AND '.join(where)}")
    if not selects:
        raise SpecError(f"{library.table}: none of its std sources exists yet "
                        f"({', '.join(missing)}); build them with `datapolis std build --all`")
    return " UNION ALL ".join(selects), present, missing


def merge(engine: Engine, library: Library, *, exact_keys: bool = False) -> MergeCounts:
    """Rebuild `base.<library>`, its members and its conflicts in one transaction."""
    check(library)
    params = Params()
    long_sql, present, missing = _long_sql(engine, library, params, exact_keys)
    rules = " ".join(f"WHEN {params.add(f.name)} THEN {params.add(f.rule)}"
                     for f in library.fields)
    ranked = (
        f"WITH long AS ({long_sql}), "  # noqa: S608
        f"valued AS (SELECT *, CASE field {rules} END AS _rule, count(*) OVER "
        f"(PARTITION BY _key, field, value) AS _freq FROM long WHERE value IS NOT NULL) "
        f"SELECT *, row_number() OVER (PARTITION BY _key, field ORDER BY "
        f"CASE WHEN _rule = 'most_frequent' THEN -_freq ELSE 0 END, "
        f"CASE WHEN _rule = 'most_recent' THEN 0 ELSE _priority END, "
        f"_updated DESC NULLS LAST, _priority, value) AS _rn FROM valued")
    named = Params()  # DuckDB wants exactly the parameters a statement uses
    pivot = ", ".join(
        f"CAST(max(value) FILTER (WHERE field = {named.add(f.name)} AND _rn = 1) AS "
        f"{f.sql_type}) AS {quote_identifier(f.name)}, "
        f"max(_src) FILTER (WHERE field = {named.add(f.name)} AND _rn = 1) AS "
        f"{quote_identifier(f.name + '__src')}"
        for f in library.fields)
    stage = quote_identifier(f"_base_stage_{library.name}")
    target = TableName("base", library.name).sql
    members = TableName("base", f"_{library.name}_members").sql
    with engine.transaction():
        engine.execute("CREATE SCHEMA IF NOT EXISTS base")
        engine.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS {ranked}", params.values)
        engine.execute(
            f"CREATE OR REPLACE TABLE {target} AS SELECT _key AS link_key, {pivot}, "  # noqa: S608
            f"count(DISTINCT _src) AS source_count, count(DISTINCT (_ods, _pk)) AS "
            f"record_count FROM {stage} GROUP BY _key ORDER BY _key", named.values)
        lineage = " UNION ALL ".join(
            f"SELECT m._key, d._src AS ods_table, d._pk AS pk FROM "  # noqa: S608
            f"{TableName.parse('std._dedupe_' + TableName.parse(t).name).sql} d "
            f"JOIN direct m ON m.ods_table = d._kept_src AND m.pk = d._kept_pk"
            for t in present if engine.table_exists(
                "std._dedupe_" + TableName.parse(t).name))
        engine.execute(
            f"CREATE OR REPLACE TABLE {members} AS WITH direct AS (SELECT DISTINCT _key, "  # noqa: S608
            f"_ods AS ods_table, _pk AS pk FROM {stage}) SELECT _key AS link_key, ods_table, "
            f"pk, false AS collapsed FROM direct"
            + (f" UNION ALL SELECT *, true FROM ({lineage})" if lineage else ""))  # noqa: S608
        engine.execute(f"CREATE TABLE IF NOT EXISTS {TableName.parse(CONFLICTS).sql} ("
                       "library VARCHAR, link_key VARCHAR, field VARCHAR, chosen_value VARCHAR,"
                       " chosen_source VARCHAR, other_value VARCHAR, other_source VARCHAR, "
                       "other_records BIGINT)")
        engine.execute(f"DELETE FROM {TableName.parse(CONFLICTS).sql} "  # noqa: S608
                       f"WHERE library = $lib", {"lib": library.name})
        engine.execute(
            f"INSERT INTO {TableName.parse(CONFLICTS).sql} "  # noqa: S608
            f"SELECT $lib, o._key, o.field, c.value, c._src, o.value, o._src, count(*) "
            f"FROM {stage} o JOIN {stage} c ON c._key = o._key AND c.field = o.field "
            f"AND c._rn = 1 WHERE o.value <> c.value AND o._src <> c._src "
            f"GROUP BY o._key, o.field, c.value, c._src, o.value, o._src", {"lib": library.name})
        counts = engine.query(
            f"SELECT (SELECT count(DISTINCT (_ods, _pk)) FROM {stage}) AS rows_in, "  # noqa: S608
            f"(SELECT count(*) FROM {target}) AS rows_out, "
            f"(SELECT count(*) FROM {members}) AS members, "
            f"(SELECT count(*) FROM {TableName.parse(CONFLICTS).sql} WHERE library = $lib) "
            f"AS conflicts", {"lib": library.name}).to_pylist()[0]
        per_source = {r["_src"]: int(r["n"]) for r in engine.query(
            f"SELECT _src, count(DISTINCT (_ods, _pk)) AS n FROM {stage} "  # noqa: S608
            "GROUP BY _src").to_pylist()}
        engine.execute(f"DROP TABLE {stage}")
    return MergeCounts(per_source, missing, int(counts["rows_in"]), int(counts["rows_out"]),
                       int(counts["conflicts"]), int(counts["members"]))
