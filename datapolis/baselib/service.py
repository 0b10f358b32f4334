"""Service functions of the base libraries: build (recorded), conflicts for other slices.

`conflicts` is what the quality engine's cross-source consistency rule and the providers'
issue lists read: same key, same field, two sources, two values.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from datapolis.baselib.libraries import LIBRARIES, Library
from datapolis.baselib.merge import CONFLICTS, merge
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.standardise.build import BuildFailed, announce, finish_record, start_record
from datapolis.warehouse.engine import Engine, TableName


@dataclass(frozen=True)
class BaseBuild:
    table: str
    build_id: int
    rows_in: int
    rows_out: int
    conflicts: int
    seconds: float
    details: dict[str, Any]


def build(registry: Registry, engine: Engine, library: Library, *, trigger: str = "cli",
          keyring: Keyring | None = None, exact_keys: bool = False) -> BaseBuild:
    started = time.monotonic()
    build_id = start_record(registry, "base", library.table, trigger)
    try:
        counts = merge(engine, library, exact_keys=exact_keys)
    except Exception as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        finish_record(registry, build_id, started=started, error=message)
        raise BuildFailed(f"{library.table} not rebuilt (the previous table stays): "
                          f"{message}") from exc
    details = asdict(counts)
    finish_record(registry, build_id, started=started, rows_in=counts.rows_in,
                  rows_out=counts.rows_out, rows_changed=counts.rows_in - counts.rows_out,
                  details=details)
    announce(registry, engine, keyring, library.table, counts.rows_out, trigger)
    return BaseBuild(library.table, build_id, counts.rows_in, counts.rows_out,
                     counts.conflicts, round(time.monotonic() - started, 3), details)


def build_all(registry: Registry, engine: Engine, *, trigger: str = "cli",
              keyring: Keyring | None = None) -> list[BaseBuild]:
    return [build(registry, engine, lib, trigger=trigger, keyring=keyring)
            for lib in LIBRARIES.values()]


@dataclass(frozen=True)
class SourceConflict:
    library: str
    link_key: str
    field: str
    chosen_value: str
    chosen_source: str
    other_value: str
    other_source: str
    other_records: int


def conflicts(engine: Engine, *, library: str | None = None, field: str | None = None,
              source: str | None = None, limit: int = 1000) -> list[SourceConflict]:
    """Conflicts recorded by the last builds; `source` (a std table, or an ods_<org> schema
    prefix such as ods_371300_swjt) keeps those where it supplied either value."""
    if not engine.table_exists(CONFLICTS):
        return []
    where, params = [], {"limit": max(1, min(limit, 100_000))}
    if library is not None:
        where.append("library = $library")
        params["library"] = library.removeprefix("base.")  # type: ignore[assignment]
    if field is not None:
        where.append("field = $field")
        params["field"] = field  # type: ignore[assignment]
    if source is not None:
        where.append("(chosen_source = $source OR other_source = $source)")
        params["source"] = source  # type: ignore[assignment]
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = engine.query(
        f"SELECT * FROM {TableName.parse(CONFLICTS).sql} {clause} "  # noqa: S608
        "ORDER BY library, link_key, field, other_source LIMIT $limit", params).to_pylist()
    return [SourceConflict(**row) for row in rows]


def conflict_counts(engine: Engine) -> list[dict[str, Any]]:
    """Conflicts per library, field and the source that disagrees with the chosen value."""
    if not engine.table_exists(CONFLICTS):
        return []
    rows: list[dict[str, Any]] = engine.query(
        f"SELECT library, field, other_source AS source, count(*) AS conflicts "  # noqa: S608
        f"FROM {TableName.parse(CONFLICTS).sql} GROUP BY ALL ORDER BY ALL").to_pylist()
    return rows
