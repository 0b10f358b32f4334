"""Service functions of the base libraries: build (recorded), conflicts for other slices.

`conflicts` is what the quality engine's cross-source consistency rule and the providers'
issue lists read: same key, same field, two sources, two values.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from datapolis.baselib.libraries import LIBRARIES, Library
from datapolis.baselib.merge import CONFLICTS, merge
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.standardise.build import BuildFailed, announce, finish_record, start_record
from datapolis.standardise.spec import Spec
from datapolis.warehouse.engine import Engine, TableName
from datapolis.warehouse.layers import ods_schema


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
          keyring: Keyring | None = None, exact_keys: bool = False,
          actor: str | None = None) -> BaseBuild:
    started = time.monotonic()
    build_id = start_record(registry, "base", library.table, trigger, actor)
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


def _conflict_filter(library: str | None, field: str | None, source: str | None,
                     sources: Collection[str] | None, other_source: str | None = None
                     ) -> tuple[str, dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if library is not None:
        where.append("library = $library")
        params["library"] = library.removeprefix("base.")
    if field is not None:
        where.append("field = $field")
        params["field"] = field
    if source is not None:
        where.append("(chosen_source = $source OR other_source = $source)")
        params["source"] = source
    if other_source is not None:  # the source that disagrees with the chosen value
        where.append("other_source = $other_source")
        params["other_source"] = other_source
    if sources is not None:  # a department's own std tables: before any limit
        where.append("(list_contains($sources, chosen_source) "
                     "OR list_contains($sources, other_source))")
        params["sources"] = sorted(sources)
    return (f"WHERE {' AND '.join(where)}" if where else ""), params


def conflicts(engine: Engine, *, library: str | None = None, field: str | None = None,
              source: str | None = None, sources: Collection[str] | None = None,
              other_source: str | None = None, limit: int = 1000, offset: int = 0
              ) -> list[SourceConflict]:
    """Conflicts recorded by the last builds; `source` (a std table) keeps those where it
    supplied either value, `sources` those where any of these std tables did (a department's
    view), `other_source` those where it holds the value not chosen. Filters apply before
    `limit` and `offset`."""
    if not engine.table_exists(CONFLICTS):
        return []
    clause, params = _conflict_filter(library, field, source, sources, other_source)
    params |= {"limit": max(1, min(limit, 100_000)), "offset": max(0, offset)}
    rows = engine.query(
        f"SELECT * FROM {TableName.parse(CONFLICTS).sql} {clause} "  # noqa: S608
        "ORDER BY library, link_key, field, other_source, other_value "
        "LIMIT $limit OFFSET $offset", params).to_pylist()
    return [SourceConflict(**row) for row in rows]


def count_conflicts(engine: Engine, *, library: str | None = None, field: str | None = None,
                    source: str | None = None, sources: Collection[str] | None = None) -> int:
    """How many conflicts `conflicts` would list without a limit."""
    if not engine.table_exists(CONFLICTS):
        return 0
    clause, params = _conflict_filter(library, field, source, sources)
    found = engine.query(f"SELECT count(*) AS n FROM {TableName.parse(CONFLICTS).sql} "  # noqa: S608
                         f"{clause}", params or None).to_pylist()[0]
    return int(found["n"])


def department_tables(specs: Mapping[str, Spec], org_codes: Iterable[str]) -> set[str]:
    """The std tables built from these organisations' ods schemas: what a department sees of
    the conflicts."""
    own = {ods_schema(code) for code in org_codes}
    return {s.table for s in specs.values()
            if any(src.split(".")[0] in own for src in s.sources)}


def conflict_counts(engine: Engine) -> list[dict[str, Any]]:
    """Conflicts per library, field and the source that disagrees with the chosen value."""
    if not engine.table_exists(CONFLICTS):
        return []
    rows: list[dict[str, Any]] = engine.query(
        f"SELECT library, field, other_source AS source, count(*) AS conflicts "  # noqa: S608
        f"FROM {TableName.parse(CONFLICTS).sql} GROUP BY ALL ORDER BY ALL").to_pylist()
    return rows
