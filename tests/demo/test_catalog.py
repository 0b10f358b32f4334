"""`demo land` leaves a described, graded and mostly published catalog of the demo tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from datapolis.catalog import service
from datapolis.catalog.enums import CatalogType, EntryStatus, ShareType
from datapolis.catalog.models import CatalogEntry, EntryVersion
from datapolis.catalog.rules.grades import OPENABLE
from datapolis.config import get_settings
from datapolis.demo import catalog as demo_catalog
from datapolis.demo.cli import app
from datapolis.demo.manifest import Manifest
from datapolis.registry import migrate
from datapolis.registry.db import Registry, open_registry
from datapolis.security.grading import service as grading

runner = CliRunner()


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One small all-SQLite demo, built and landed once for the module's read-only checks."""
    home = tmp_path_factory.mktemp("catalog") / "var"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATAPOLIS_HOME", str(home))
        get_settings.cache_clear()
        registry = open_registry(get_settings().registry_url)
        migrate.upgrade(registry)
        registry.close()
        assert runner.invoke(app, ["build", "--people", "300"]).exit_code == 0
        result = runner.invoke(app, ["land"])
        assert result.exit_code == 0, result.output
        assert "entries published, 1 submitted for review" in result.output
        assert "stays a draft" not in result.output
        yield home
        get_settings.cache_clear()


def registry_of(home: Path) -> Registry:
    return open_registry(f"sqlite:///{home / 'registry.sqlite'}", create=False)


def test_every_landed_table_is_described_and_classified(landed: Path) -> None:
    manifest = Manifest.load(landed / "demo")
    registry = registry_of(landed)
    with registry.session() as session:
        for system in manifest.systems:
            for table in system.tables:
                entry = session.scalar(select(CatalogEntry).where(
                    CatalogEntry.warehouse_table == f"ods_{system.department}.{table}"))
                assert entry is not None, (system.name, table)
                described = demo_catalog.describe(system.name, table)
                assert described is not None and entry.name == described.name
                assert entry.heading == described.heading and "99999" not in entry.prefix
                expected = EntryStatus.PUBLISHED if described.publish else EntryStatus.SUBMITTED
                assert entry.status is expected, entry.resource_code
        czrk = session.scalar(select(CatalogEntry).where(
            CatalogEntry.warehouse_table == "ods_371300_gaj.czrk"))
        assert czrk is not None and czrk.catalog_type is CatalogType.BASIC_POPULATION
        assert czrk.resource_code.startswith("101001/")
    registry.close()


def test_grades_follow_the_recorded_kinds_and_opening_follows_grades(landed: Path) -> None:
    registry = registry_of(landed)
    with registry.session() as session:
        czrk = service.get_entry(session, session.scalar(select(CatalogEntry.resource_code).where(
            CatalogEntry.warehouse_table == "ods_371300_gaj.czrk")) or "")
        grades = {item.column_name: item.security_grade for item in czrk.items}
        assert grades["gmsfhm"] == "L4" and grades["xm"] == "L3"
        assert grades["xb"] == "L2"  # an ordinary column of a table about people
        entries = session.scalars(select(CatalogEntry)).all()
        for entry in entries:
            grades = {item.security_grade for item in entry.items}
            shared = entry.share_type is not ShareType.NOT_SHARED
            if grades <= {OPENABLE} or not shared:
                assert entry.open_to_public == shared and entry.open_conditions is None
            elif entry.open_to_public:  # not about people: opened on application
                assert grades <= {"L1", "L2", "L3"} and entry.open_conditions
        assert any(entry.open_to_public and not entry.open_conditions for entry in entries)
        assert any(entry.open_to_public and entry.open_conditions for entry in entries)
        assert not czrk.open_to_public  # about people, with L2-L4 items
    registry.close()


def test_a_second_land_changes_no_entry(landed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAPOLIS_HOME", str(landed))
    get_settings.cache_clear()
    registry = registry_of(landed)
    with registry.session() as session:
        before = session.scalar(select(func.count()).select_from(EntryVersion))
    again = runner.invoke(app, ["land"])
    assert again.exit_code == 0, again.output
    assert "entries published" not in again.output
    with registry.session() as session:
        assert session.scalar(select(func.count()).select_from(EntryVersion)) == before
    registry.close()
    get_settings.cache_clear()


def test_published_entries_have_confirmed_grades_and_a_business(landed: Path) -> None:
    registry = registry_of(landed)
    with registry.session() as session:
        published = service.list_entries(session, provider_ids=None,
                                         status=EntryStatus.PUBLISHED)
        assert published
        for entry in published:
            graded = grading.entry_grading(session, entry)
            assert graded.unconfirmed == 0, entry.resource_code
            assert graded.category is not None and graded.category.assigned_by == "admin"
            assert all(row.stored is not None and row.stored.confirmed_by == "admin"
                       for row in graded.items)
            assert graded.grade == max((row.grade for row in graded.items if row.grade),
                                       key=["L1", "L2", "L3", "L4"].index)
        people = next(e for e in published if e.warehouse_table == "ods_371300_gaj.czrk")
        assert grading.entry_grading(session, people).grade == "L4"
    registry.close()
