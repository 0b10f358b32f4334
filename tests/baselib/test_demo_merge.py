"""The demo city end to end: `demo land` standardises after landing and builds the base
libraries; the merge is scored against the recorded truth; the std and baselib CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from datapolis.baselib import score as scoring
from datapolis.baselib.libraries import PERSON
from datapolis.baselib.merge import merge
from datapolis.catalog.enums import CatalogType
from datapolis.catalog.models import CatalogEntry
from datapolis.cli import app
from datapolis.config import get_settings
from datapolis.demo import build_demo
from datapolis.registry import migrate
from datapolis.registry.db import open_registry
from datapolis.warehouse import DuckDBEngine
from tests import commands
from tests.demo.conftest import HIGH_RATES

runner = CliRunner()


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("baselib") / "var"
    mp = pytest.MonkeyPatch()
    mp.setenv("DATAPOLIS_HOME", str(home))
    get_settings.cache_clear()
    registry = open_registry(get_settings().registry_url)
    migrate.upgrade(registry)
    registry.close()
    build_demo(out_dir=get_settings().demo_dir, people=400, seed=11, rates=HIGH_RATES)
    result = runner.invoke(app, ["demo", "land"])
    assert result.exit_code == 0, result.output
    assert "base.person" in result.output
    yield home
    mp.undo()
    get_settings.cache_clear()


def test_merge_precision_and_recall_against_the_truth(landed: Path) -> None:
    settings = get_settings()
    orgs = scoring.demo_systems(settings.demo_dir)
    warehouse = DuckDBEngine(settings.warehouse_file)
    try:
        assert warehouse.table_exists("std.gaj_czrk") and warehouse.table_exists("std.mzj_dibao")
        body = scoring.score(warehouse, PERSON, settings.demo_dir / "truth", orgs)
        assert body.records > 400 and body.true_pairs > 100
        assert body.precision >= 0.999
        # What is lost: records whose ID number is blank (5 % of ID cells at these dirt rates,
        # so about a tenth of the true pairs touch one).
        assert body.recall >= 0.9
        assert body.field_accuracy["sex"] >= 0.99 and body.field_accuracy["name"] >= 0.95
        merge(warehouse, PERSON, exact_keys=True)  # the check character must match too
        exact = scoring.score(warehouse, PERSON, settings.demo_dir / "truth", orgs)
        assert exact.recall < body.recall and exact.precision >= 0.999
    finally:
        warehouse.close()


def test_std_and_baselib_cli(landed: Path) -> None:
    result = runner.invoke(app, ["std", "build", "gaj_czrk"])
    assert result.exit_code == 0, result.output
    assert "std.gaj_czrk" in result.output
    for args, message in ((["std", "build"], "name one std table or pass --all"),
                          (["std", "build", "nosuch"], "no standardisation spec for std.nosuch"),
                          (["baselib", "build", "nosuch"], "no base library 'nosuch'")):
        failed = commands.run(landed, *args)  # the real command: one red line, exit 1
        assert failed.returncode == 1 and message in failed.stderr, failed.stderr
        assert "Traceback" not in failed.stderr
    result = runner.invoke(app, ["baselib", "build", "--all"])
    assert result.exit_code == 0 and "base.license" in result.output, result.output
    # A wide terminal, so the tables print whole names.
    scored = commands.run(landed, "baselib", "score")
    assert scored.returncode == 0 and "base.person" in scored.stdout, scored.stderr
    assert "1.0000" in scored.stdout  # the precision
    found = commands.run(landed, "baselib", "conflicts", "--field", "birth_date")
    assert found.returncode == 0 and "std.jyj_xlxx" in found.stdout, found.stderr
    history = commands.run(landed, "std", "history", "--limit", "50")
    assert "landing:" in history.stdout and "succeeded" in history.stdout


def test_std_and_base_tables_are_catalogued(landed: Path) -> None:
    registry = open_registry(get_settings().registry_url, create=False)
    try:
        with registry.session() as session:
            found = dict(session.execute(
                select(CatalogEntry.warehouse_table, CatalogEntry.catalog_type)
                .where(CatalogEntry.warehouse_table.like("base.%")
                       | CatalogEntry.warehouse_table.like("std.%"))).all())
    finally:
        registry.close()
    assert found["base.person"] is CatalogType.BASIC_POPULATION
    assert found["base.legal_entity"] is CatalogType.BASIC_LEGAL_ENTITY
    assert found["base.license"] is CatalogType.BASIC_LICENCE
    assert {"std.gaj_czrk", "std.mzj_dibao", "std.jyj_xlxx"} <= set(found)


def test_the_builds_page_scores_the_libraries_when_the_demo_truth_is_there(
        landed: Path, tmp_path: Path) -> None:
    from datapolis.baselib import overview

    settings = get_settings()
    registry = open_registry(settings.registry_url)
    warehouse = DuckDBEngine(settings.warehouse_file)
    try:
        with registry.session() as session:
            rows = {r.library.name: r for r in overview.library_rows(
                session, warehouse, settings.demo_dir)}
            without = overview.library_rows(session, warehouse, tmp_path / "no-demo")
        person = rows["person"]
        assert person.score is not None and person.build is not None
        assert person.score.precision >= 0.999 and person.score.recall >= 0.9
        assert 0 < person.records <= person.members  # every record has a source row behind it
        assert rows["legal_entity"].score is not None and rows["license"].score is None
        assert all(r.score is None for r in without)  # no truth: no scores, still the counts
        assert [r.records for r in without] == [r.records for r in rows.values()]
    finally:
        warehouse.close()
        registry.close()
