"""What the governance builds page shows: each standardisation spec and base library with its
last build, the base libraries' sizes and (with the demo's recorded truth) their merge
precision, recall and field accuracy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datapolis.baselib import service
from datapolis.baselib.libraries import LIBRARIES, Library
from datapolis.baselib.score import Score, demo_systems, scorable, score
from datapolis.errors import UserError
from datapolis.standardise.models import GovernanceBuild
from datapolis.standardise.spec import Spec
from datapolis.warehouse.engine import Engine, TableName


def last_builds(session: Session, tables: list[str]) -> dict[str, GovernanceBuild]:
    """The latest build of each table (one query)."""
    if not tables:
        return {}
    latest = (select(func.max(GovernanceBuild.id))
              .where(GovernanceBuild.warehouse_table.in_(tables))
              .group_by(GovernanceBuild.warehouse_table))
    found = session.scalars(select(GovernanceBuild).where(GovernanceBuild.id.in_(latest)))
    return {b.warehouse_table: b for b in found}


@dataclass(frozen=True)
class SpecRow:
    spec: Spec
    build: GovernanceBuild | None


def spec_rows(session: Session, specs: Mapping[str, Spec]) -> list[SpecRow]:
    builds = last_builds(session, [s.table for s in specs.values()])
    return [SpecRow(s, builds.get(s.table)) for s in sorted(specs.values(),
                                                            key=lambda s: s.target)]


@dataclass(frozen=True)
class LibraryRow:
    library: Library
    build: GovernanceBuild | None
    built: bool  # the base table exists
    records: int  # base records
    members: int  # source records behind them
    conflicts: int
    score: Score | None


def _count(engine: Engine, table: str) -> int:
    if not engine.table_exists(table):
        return 0
    return int(engine.query(f"SELECT count(*) AS n FROM {TableName.parse(table).sql}")  # noqa: S608
               .column("n")[0].as_py())


def demo_truth(demo_dir: Path) -> tuple[Path, dict[str, str]] | None:
    """The demo's truth folder and its department → system map, when a demo was built."""
    try:
        systems = demo_systems(demo_dir)
    except (UserError, OSError, ValueError, KeyError):
        return None
    truth = demo_dir / "truth"
    return (truth, systems) if truth.is_dir() else None


def library_rows(session: Session, engine: Engine, demo_dir: Path | None) -> list[LibraryRow]:
    """Each base library; scored against the demo's truth when `demo_dir` holds one."""
    builds = last_builds(session, [lib.table for lib in LIBRARIES.values()])
    truth = demo_truth(demo_dir) if demo_dir is not None else None
    rows = []
    for lib in LIBRARIES.values():
        built = engine.table_exists(lib.table)
        found = None
        if built and truth is not None and scorable(lib):
            try:
                found = score(engine, lib, truth[0], truth[1])
            except UserError:  # truth of another city, or incomplete: no score shown
                found = None
        rows.append(LibraryRow(
            lib, builds.get(lib.table), built, _count(engine, lib.table),
            _count(engine, f"base._{lib.name}_members"),
            service.count_conflicts(engine, library=lib.name), found))
    return rows
