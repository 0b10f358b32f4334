"""Score a base library against the demo city's recorded truth.

Merge precision and recall count pairs of source records: a pair is merged when both records
sit in the same base record, and true when the truth links both to the same person (or
enterprise). Records that found no base record (no key) count as merged with nobody. Field
accuracy compares each base record's chosen values with the truth of its identifier.
Vectorised with Arrow; the truth lives in the demo's `truth/` Parquet files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from datapolis.baselib.libraries import Library
from datapolis.errors import UserError
from datapolis.warehouse.engine import Engine, TableName

# Base field -> truth column, per library with a truth table.
_TRUTH = {
    "person": ("person", "persons.parquet", "id_number",
               {"name": "name", "sex": "sex", "birth_date": "birth_date",
                "ethnicity": "ethnicity", "address": "address", "mobile": "mobile"}),
    "legal_entity": ("enterprise", "enterprises.parquet", "credit_code",
                     {"name": "name", "founded": "founded", "status": "status",
                      "address": "address"}),
}


@dataclass(frozen=True)
class Score:
    library: str
    records: int  # source records in scope (with a true entity)
    true_pairs: int
    merged_pairs: int
    correct_pairs: int
    base_records: int
    matched_records: int  # base records whose identifier is a true one
    field_accuracy: dict[str, float]

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.merged_pairs if self.merged_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def demo_systems(demo_dir: Path) -> dict[str, str]:
    """Department org code -> system name, from the demo's manifest.json (docs/demo.md)."""
    path = demo_dir / "manifest.json"
    if not path.is_file():
        raise UserError(f"no demo at {demo_dir}: manifest.json is missing; run "
                        "`datapolis demo build` first")
    systems = json.loads(path.read_text(encoding="utf-8"))["systems"]
    return {str(s["department"]): str(s["name"]) for s in systems}


def scorable(library: Library) -> bool:
    return library.name in _TRUTH


def _pairs(table: pa.Table, keys: list[str]) -> int:
    counts = table.group_by(keys).aggregate([([], "count_all")]).column("count_all")
    n = pc.cast(counts, pa.int64())
    return int(pc.sum(pc.divide(pc.multiply(n, pc.subtract(n, 1)), 2)).as_py() or 0)


def score(engine: Engine, library: Library, truth_dir: Path,
          systems_by_org: dict[str, str]) -> Score:
    """`systems_by_org`: the demo's department org code -> system name (from its manifest)."""
    if library.name not in _TRUTH:
        raise UserError(f"the demo records no truth for base.{library.name}")
    entity, truth_file, id_column, fields = _TRUTH[library.name]
    members = engine.query(
        f"SELECT link_key, ods_table, pk FROM {TableName('base', f'_{library.name}_members').sql}"  # noqa: S608
    )
    tables = pc.unique(members.column("ods_table"))
    links = _truth_links(truth_dir, entity, systems_by_org, tables)
    # Every truth record in scope, with the base record it went to (or none).
    joined = links.join(members, ["ods_table", "pk"], join_type="left outer")
    singles = pc.is_null(joined.column("link_key"))
    own = pc.binary_join_element_wise(joined.column("ods_table"), joined.column("pk"), "#")
    cluster = pc.if_else(singles, pc.binary_join_element_wise("-", own, ""),
                         joined.column("link_key"))
    scoped = pa.table({"cluster": cluster, "entity": joined.column("entity_key")})
    accuracy, matched, base_rows = _field_accuracy(engine, library, truth_dir / truth_file,
                                                   id_column, fields)
    return Score(library.name, scoped.num_rows, _pairs(scoped, ["entity"]),
                 _pairs(scoped, ["cluster"]), _pairs(scoped, ["cluster", "entity"]),
                 base_rows, matched, accuracy)


def _truth_links(truth_dir: Path, entity: str, systems_by_org: dict[str, str],
                 tables: pa.Array) -> pa.Table:
    """Truth links of `entity` records in the ods tables the library read."""
    parts = []
    for org, system in systems_by_org.items():
        path = truth_dir / "links" / f"{system}.parquet"
        if not path.exists():
            continue
        links = pq.read_table(path)
        links = links.filter(pc.equal(links.column("entity"), entity))
        ods = pc.binary_join_element_wise(f"ods_{org}.", links.column("table"), "")
        keep = pc.is_in(ods, tables)
        links, ods = links.filter(keep), ods.filter(keep)
        parts.append(pa.table({"ods_table": ods, "pk": links.column("pk"),
                               "entity_key": links.column("entity_key")}))
    if not parts:
        raise UserError(f"no truth links in {truth_dir}")
    return pa.concat_tables(parts)


def _field_accuracy(engine: Engine, library: Library, truth_path: Path, id_column: str,
                    fields: dict[str, str]) -> tuple[dict[str, float], int, int]:
    base = engine.query(f"SELECT * FROM {TableName('base', library.name).sql}")  # noqa: S608
    truth = pq.read_table(truth_path).select([id_column, *fields.values()])
    truth = truth.rename_columns([f"t_{c}" for c in truth.column_names])
    joined = base.join(truth, library.key[0], f"t_{id_column}", join_type="inner")
    accuracy = {}
    for field, column in fields.items():
        ours = pc.cast(joined.column(field), pa.string())
        theirs = pc.cast(joined.column(f"t_{column}"), pa.string())
        both_missing = pc.and_(pc.is_null(ours), pc.is_null(theirs))
        equal = pc.fill_null(pc.equal(ours, theirs), both_missing)
        accuracy[field] = round(pc.mean(pc.cast(equal, pa.float64())).as_py() or 0.0, 4)
    return accuracy, joined.num_rows, base.num_rows
