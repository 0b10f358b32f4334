"""The demo's answer key, as Parquet under `<out>/truth/`.

- persons.parquet, enterprises.parquet: the true population and legal-person register.
- columns.parquet: every column of every system with its true data kind (PII classifier).
- dirt/<system>.parquet: every dirty cell or duplicate row: (system, table, pk, column, kind,
  clean_value, ref_pk).
- links/<system>.parquet: for every record that refers to a person or enterprise, the true
  key behind it: (system, table, pk, column, entity, entity_key).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from datapolis.demo.enterprises import STATUSES, Enterprises
from datapolis.demo.population import Population
from datapolis.demo.schema import DataKind, Table
from datapolis.demo.vec import take

LINK_SCHEMA = pa.schema([
    ("system", pa.string()), ("table", pa.string()), ("pk", pa.string()),
    ("column", pa.string()), ("entity", pa.string()), ("entity_key", pa.string()),
])


def write(table: pa.Table, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return int(table.num_rows)


def persons(pop: Population) -> pa.Table:
    geo = pop.geo
    hh = pop.household
    street = pop.hh_street[hh]
    return pa.table({
        "person_key": pop.key, "id_number": pop.id_number, "name": pop.name,
        "sex": pa.array(pop.sex), "birth_date": pa.array(pop.birth, pa.date32()),
        "birth_division": pc.cast(pa.array(pop.birth_division), pa.string()),
        "ethnicity": pop.ethnicity, "education": pop.education, "marriage": pop.marriage,
        "mobile": pop.mobile, "household_no": take(pop.hh_no, hh),
        "county_code": take(geo.county_code, geo.street_county[street]),
        "street_code": take(geo.street_code, street),
        "community_code": take(geo.community_code, pop.hh_community[hh]),
        "address": take(pop.addr_full, hh),
    })


def enterprises(ents: Enterprises, pop: Population) -> pa.Table:
    return pa.table({
        "enterprise_key": ents.key, "credit_code": ents.credit_code, "name": ents.name,
        "legal_rep_key": take(pop.key, ents.legal_rep),
        "county_code": take(pop.geo.county_code, ents.county),
        "founded": pa.array(ents.founded, pa.date32()),
        "status": take(STATUSES, ents.status), "address": ents.address,
    })


def columns(system: str, tables: Iterable[Table]) -> pa.Table:
    rows: dict[str, list[str]] = {k: [] for k in
                                  ("system", "table", "column", "type", "comment", "data_kind")}
    for table in tables:
        for column in table.columns:
            for key, value in (("system", system), ("table", table.name),
                               ("column", column.name), ("type", column.type),
                               ("comment", column.comment), ("data_kind", column.kind.value)):
                rows[key].append(value)
    return pa.table({k: pa.array(v, pa.string()) for k, v in rows.items()})


def links(system: str, spec: Table, data: pa.Table, pop: Population,
          ents: Enterprises) -> pa.Table:
    parts = []
    pk = pc.cast(data.column(spec.pk), pa.string())
    for hidden, entity, kind, keys in (("_person", "person", DataKind.RESIDENT_ID, pop.key),
                                       ("_enterprise", "enterprise", DataKind.CREDIT_CODE,
                                        ents.key)):
        if hidden not in data.column_names:
            continue
        idx = data.column(hidden).to_numpy()
        rows = np.flatnonzero(idx >= 0)
        if not len(rows):
            continue
        # Link through the identifier column, or a name column when there is none.
        named = [c.name for c in spec.columns if c.kind is kind]
        named = named or [c.name for c in spec.columns if c.kind is DataKind.PERSON_NAME]
        n = len(rows)
        parts.append(pa.Table.from_arrays([
            pa.array([system] * n, pa.string()), pa.array([spec.name] * n, pa.string()),
            pk.take(pa.array(rows)), pa.array([named[0] if named else None] * n, pa.string()),
            pa.array([entity] * n, pa.string()), keys.take(pa.array(idx[rows])),
        ], schema=LINK_SCHEMA))
    return pa.concat_tables(parts) if parts else LINK_SCHEMA.empty_table()
