"""Build `std.<target>` from ods: compile the spec, count what each transform changes, and
replace the table in one warehouse transaction, so a failed build leaves the previous std
table (and its dedupe lineage) exactly as it was. Every build is recorded in the registry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from datapolis.catalog.models import CodeTable
from datapolis.errors import UserError
from datapolis.ingest import hooks
from datapolis.registry.base import utcnow
from datapolis.registry.db import Registry
from datapolis.security.crypto import Keyring
from datapolis.standardise.compiler import compile_spec
from datapolis.standardise.models import GovernanceBuild
from datapolis.standardise.spec import Spec
from datapolis.standardise.transforms import code_lookup
from datapolis.warehouse.engine import Engine, quote_identifier
from datapolis.warehouse.layers import ensure_layers

Progress = Callable[[str], None]


class BuildFailed(UserError):
    """A build did not complete; the previous table is untouched."""


@dataclass(frozen=True)
class BuildResult:
    table: str
    build_id: int
    rows_in: int
    rows_out: int
    rows_changed: int
    seconds: float
    details: dict[str, Any]


def load_code_tables(session: Session) -> dict[str, dict[str, str]]:
    """Every code table of the registry as raw spelling -> code (see `code_lookup`)."""
    tables = session.scalars(select(CodeTable).options(selectinload(CodeTable.values)))
    return {t.code: code_lookup([(v.code, v.name, v.note) for v in t.values]) for t in tables}


def start_record(registry: Registry, layer: str, table: str, trigger: str,
                 actor: str | None = None) -> int:
    with registry.session() as session:
        record = GovernanceBuild(layer=layer, warehouse_table=table, trigger=trigger[:40],
                                 actor=actor[:128] if actor else None, status="running",
                                 details={})
        session.add(record)
        session.flush()
        return record.id


def finish_record(registry: Registry, build_id: int, *, started: float,
                  error: str | None = None, **values: Any) -> None:
    with registry.session() as session:
        record = session.get(GovernanceBuild, build_id)
        assert record is not None
        record.status = "failed" if error else "succeeded"
        record.error = error
        record.finished_at = utcnow()
        record.seconds = round(time.monotonic() - started, 3)
        for name, value in values.items():
            setattr(record, name, value)


def announce(registry: Registry, engine: Engine, keyring: Keyring | None, table: str,
             rows: int, trigger: str) -> None:
    """Tell the highway's after-landing hooks a layer table was rebuilt (the catalog
    registers and profiles std and base tables this way)."""
    if keyring is None:
        return
    hooks.landed(hooks.Landed(registry, engine, keyring, job_code=f"{trigger}:{table}"[:120],
                              table=table, mode="snapshot", rows=rows, final=True))


def build(registry: Registry, engine: Engine, spec: Spec, *, trigger: str = "cli",
          keyring: Keyring | None = None,
          code_tables: Mapping[str, Mapping[str, str]] | None = None,
          actor: str | None = None) -> BuildResult:
    started = time.monotonic()
    build_id = start_record(registry, "std", spec.table, trigger, actor)
    try:
        if code_tables is None:
            with registry.session() as session:
                code_tables = load_code_tables(session)
        result = _build(engine, spec, code_tables)
    except Exception as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        finish_record(registry, build_id, started=started, error=message)
        # DuckDB reports a bad value only when the result is read (outside the engine's own
        # error translation): a spec that does not fit the data is the user's to fix.
        if isinstance(exc, UserError | duckdb.Error):
            raise BuildFailed(f"std.{spec.target} not rebuilt (the previous table stays): "
                              f"{message}") from exc
        raise
    rows_in, rows_out, changed, details = result
    finish_record(registry, build_id, started=started, rows_in=rows_in, rows_out=rows_out,
                  rows_changed=changed, details=details)
    announce(registry, engine, keyring, spec.table, rows_out, trigger)
    return BuildResult(spec.table, build_id, rows_in, rows_out, changed,
                       round(time.monotonic() - started, 3), details)


def _build(engine: Engine, spec: Spec, code_tables: Mapping[str, Mapping[str, str]]
           ) -> tuple[int, int, int, dict[str, Any]]:
    compiled = compile_spec(engine, spec, code_tables)
    ensure_layers(engine)
    counts = engine.query(compiled.stats_sql, compiled.params).to_pylist()[0]
    stage = quote_identifier(f"_std_stage_{spec.target}")
    target = f"std.{quote_identifier(spec.target)}"
    lineage = f"std.{quote_identifier('_dedupe_' + spec.target)}"
    with engine.transaction():
        engine.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS {compiled.stage_sql}",
                       compiled.params)
        engine.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * EXCLUDE "  # noqa: S608
                       f"(_rn, _priority, _kept_src, _kept_pk) FROM {stage} WHERE _rn = 1")
        engine.execute(f"CREATE OR REPLACE TABLE {lineage} AS SELECT _src, _pk, "  # noqa: S608
                       f"_kept_src, _kept_pk FROM {stage} WHERE _rn > 1")
        engine.execute(f"DROP TABLE {stage}")
        rows_out = int(engine.query(f"SELECT count(*) AS n FROM {target}")  # noqa: S608
                       .column("n")[0].as_py())
    rows_in = int(counts["rows_in"])
    steps = [{"column": column, "step": label, "changed": int(counts[f"changed_{i}"] or 0),
              "nulled": int(counts[f"nulled_{i}"] or 0)}
             for i, (column, label) in enumerate(compiled.steps)]
    details = {"sources": compiled.sources, "steps": steps,
               "deduplicated": rows_in - rows_out}
    return rows_in, rows_out, int(counts["rows_changed"] or 0), details


def history(session: Session, table: str | None = None, limit: int = 50) -> list[GovernanceBuild]:
    query = select(GovernanceBuild).order_by(GovernanceBuild.id.desc()).limit(limit)
    if table is not None:
        query = query.where(GovernanceBuild.warehouse_table == table)
    return list(session.scalars(query))
