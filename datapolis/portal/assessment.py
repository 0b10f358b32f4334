"""The open-data self-assessment (开放数据自评估): data-layer indicators in the style of the
China Open Data Index (中国开放数林指数) — how much is open, how usable, how fresh, how
well described — computed from the open catalog, the warehouse and the highway's landings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from datapolis.catalog.enums import FormatClass, UpdateCycle
from datapolis.catalog.rules.builtin.timeliness import ALLOWED_AGE
from datapolis.portal import datasets, stats
from datapolis.portal.datasets import Dataset
from datapolis.warehouse.engine import Engine
from datapolis.web.i18n import N_

MACHINE_READABLE = {FormatClass.SPREADSHEET, FormatClass.DATABASE, FormatClass.SELF_DESCRIBING}
# What a complete description holds: each field of the national metadata that is filled counts.
METADATA_FIELDS = ("summary", "tags", "update_cycle", "publish_date", "items", "provider",
                   "format_class", "record_count")


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str  # an msgid
    value: float
    unit: str  # "", "%", "rows"
    note: str  # an msgid


def _complete(dataset: Dataset) -> float:
    entry = dataset.entry
    filled = [bool((entry.summary or "").strip()), bool(entry.tags),
              entry.update_cycle is not None, entry.publish_date is not None,
              bool(entry.items) and all(item.column_name for item in entry.items),
              entry.provider is not None, entry.format_class is not None,
              entry.record_count is not None or dataset.has_data]
    return sum(filled) / len(METADATA_FIELDS)


def _timely(session: Session, dataset: Dataset, now: datetime) -> bool | None:
    """Was it updated within its declared cycle? None for irregular cycles (not judged)."""
    allowed = ALLOWED_AGE.get(UpdateCycle(dataset.entry.update_cycle))
    if allowed is None:
        return None
    return now - datasets.last_update(session, dataset) <= allowed


def indicators(session: Session, engine: Engine, now: datetime | None = None
               ) -> list[Indicator]:
    now = now or datetime.now(UTC)
    page = datasets.search_datasets(session, limit=0)
    found: list[Dataset] = []
    for offset in range(0, page.total, datasets.MAX_LIMIT):
        found += datasets.search_datasets(session, offset=offset,
                                          limit=datasets.MAX_LIMIT).datasets
    count = len(found)
    rows = [stats.table_rows(engine, d) for d in found]
    machine = [d for d in found if d.has_data
               or FormatClass(d.entry.format_class) in MACHINE_READABLE]
    judged = [t for t in (_timely(session, d, now) for d in found) if t is not None]
    unconditional = [d for d in found if d.open_kind == "unconditional"]

    def share(part: int, whole: int) -> float:
        return round(100.0 * part / whole, 1) if whole else 0.0

    return [
        Indicator("datasets", N_("Open datasets"), count, "",
                  N_("Published entries open to the public")),
        Indicator("average_rows", N_("Average size"), round(sum(rows) / count) if count else 0,
                  "rows", N_("Rows per dataset in the warehouse (declared where not landed)")),
        Indicator("machine_readable", N_("Machine-readable share"), share(len(machine), count),
                  "%", N_("Datasets downloadable as CSV, XLSX, JSON or Parquet, or catalogued "
                          "as structured data")),
        Indicator("timeliness", N_("Update timeliness"), share(sum(judged), len(judged)), "%",
                  N_("Datasets whose last update falls within their declared cycle (irregular "
                     "ones not judged)")),
        Indicator("unconditional", N_("Unconditionally open share"),
                  share(len(unconditional), count), "%",
                  N_("Datasets anyone may download without an application")),
        Indicator("metadata", N_("Metadata completeness"),
                  round(100.0 * sum(_complete(d) for d in found) / count, 1) if count else 0.0,
                  "%", N_("Filled share of summary, tags, cycle, publish date, mapped items, "
                          "provider, format and size")),
    ]
